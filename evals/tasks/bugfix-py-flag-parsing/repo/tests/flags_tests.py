import unittest

from settings.flags import flags_from, parse_flag


class ParseFlagTests(unittest.TestCase):
    def test_lowercase_words(self):
        self.assertTrue(parse_flag("true"))
        self.assertFalse(parse_flag("off"))

    def test_missing_value_gives_default(self):
        self.assertTrue(parse_flag(None, default=True))
        self.assertFalse(parse_flag("  "))

    def test_unknown_value_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_flag("maybe")

    def test_flags_from_environment(self):
        self.assertEqual(flags_from({"NEW_UI": "1"}, ["NEW_UI", "BETA"]), {"NEW_UI": True, "BETA": False})


if __name__ == "__main__":
    unittest.main()
