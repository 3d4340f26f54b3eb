import unittest

from inventory.stock import Item, reorder_list, reorder_needed


class ReorderTests(unittest.TestCase):
    def test_below_threshold_is_reordered(self):
        self.assertTrue(reorder_needed(Item("BOLT-M6", on_hand=3, reorder_threshold=10)))

    def test_well_stocked_item_is_not(self):
        self.assertFalse(reorder_needed(Item("NUT-M6", on_hand=50, reorder_threshold=10)))

    def test_reorder_list_keeps_order(self):
        items = [Item("A", 1, 5), Item("B", 9, 5), Item("C", 0, 5)]
        self.assertEqual(reorder_list(items), ["A", "C"])


if __name__ == "__main__":
    unittest.main()
