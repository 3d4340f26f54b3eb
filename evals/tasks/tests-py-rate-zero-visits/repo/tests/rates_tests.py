import unittest

from analytics.rates import best_page, conversion_rate


class ConversionRateTests(unittest.TestCase):
    def test_rate_is_a_percentage(self):
        self.assertEqual(conversion_rate(5, 200), 2.5)

    def test_best_page(self):
        self.assertEqual(best_page({"/home": (2, 100), "/pricing": (9, 100)}), "/pricing")


if __name__ == "__main__":
    unittest.main()
