from decimal import Decimal

import pytest

from timesheet import parse_hours, total_hours
from timesheet.hours import HoursError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("8", "8"), ("7.5", "7.5"), (" 0.25 ", "0.25"), ("45m", "0.75"), ("90M", "1.5"), ("2:00", "2")],
)
def test_parse_hours(raw, expected):
    assert parse_hours(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "abc", "-1", "1:5", "1:75", "1:xx"])
def test_rejects(raw):
    with pytest.raises(HoursError):
        parse_hours(raw)


def test_total_rounds_to_quarter_hours():
    assert total_hours(["7.5", "0.2"]) == Decimal("7.75")
    assert total_hours([]) == Decimal("0")
