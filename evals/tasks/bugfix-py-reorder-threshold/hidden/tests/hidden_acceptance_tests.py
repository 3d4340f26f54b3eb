import unittest

from inventory.stock import Item, reorder_list, reorder_needed


class HiddenReorderAcceptance(unittest.TestCase):
    def test_at_threshold_is_reordered(self):
        self.assertTrue(reorder_needed(Item("WASHER-M8", on_hand=20, reorder_threshold=20)))

    def test_above_threshold_is_not(self):
        self.assertFalse(reorder_needed(Item("WASHER-M8", on_hand=21, reorder_threshold=20)))

    def test_reorder_list(self):
        items = [Item("A", 5, 5), Item("B", 6, 5), Item("C", 4, 5)]
        self.assertEqual(reorder_list(items), ["A", "C"])


if __name__ == "__main__":
    unittest.main()
