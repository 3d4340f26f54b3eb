import unittest

from settings.flags import parse_flag


class HiddenFlagAcceptance(unittest.TestCase):
    def test_case_insensitive_words(self):
        for raw in ("True", "TRUE", "Yes", "ON", " On "):
            self.assertIs(parse_flag(raw), True, raw)
        for raw in ("False", "FALSE", "No", "OFF"):
            self.assertIs(parse_flag(raw), False, raw)

    def test_unknown_still_raises(self):
        with self.assertRaises(ValueError):
            parse_flag("Maybe")

    def test_default(self):
        self.assertTrue(parse_flag("", default=True))


if __name__ == "__main__":
    unittest.main()
