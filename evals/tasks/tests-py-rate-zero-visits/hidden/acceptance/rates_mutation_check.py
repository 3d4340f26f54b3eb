"""Hidden acceptance: the suite passes, and fails when the zero-visit branch or the rounding breaks."""

import pathlib
import subprocess
import sys

TARGET = pathlib.Path("analytics/rates.py")
SUITE = [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-p", "*_tests.py"]
ORIGINAL = TARGET.read_text()
ZERO = "    if visits == 0:\n        return 0.0\n"
ROUND = "return round(100 * conversions / visits, 1)"
MUTANTS = {
    "zero branch removed": (ZERO, ""),
    "zero branch returns 1.0": (ZERO, "    if visits == 0:\n        return 1.0\n"),
    "no rounding": (ROUND, "return 100 * conversions / visits"),
}


def suite_passes() -> bool:
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(SUITE, capture_output=True, env=env).returncode == 0


def main() -> int:
    if ZERO not in ORIGINAL or ROUND not in ORIGINAL:
        print(f"{TARGET} changed: the code under test is not the original")
        return 1
    if not suite_passes():
        print("the test suite fails on the unmutated code")
        return 1
    survived = 0
    try:
        for name, (old, new) in MUTANTS.items():
            TARGET.write_text(ORIGINAL.replace(old, new))
            killed = not suite_passes()
            print(f"{name}: {'killed' if killed else 'SURVIVED (no test noticed)'}")
            survived += 0 if killed else 1
    finally:
        TARGET.write_text(ORIGINAL)
    return 0 if survived == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
