from decimal import Decimal

import pytest

from timesheet import parse_hours, total_hours
from timesheet.hours import HoursError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1:30", "1.5"), ("0:45", "0.75"), ("7:15", "7.25"), ("2:00", "2"), ("10:06", "10.1")],
)
def test_hours_and_minutes(raw, expected):
    assert parse_hours(raw) == Decimal(expected)


def test_total_of_mixed_bookings():
    assert total_hours(["1:30", "0:45", "6"]) == Decimal("8.25")


@pytest.mark.parametrize("raw", ["1:60", "1:5", ":30"])
def test_still_rejects(raw):
    with pytest.raises(HoursError):
        parse_hours(raw)


def test_other_forms_unchanged():
    assert parse_hours("45m") == Decimal("0.75")
    assert parse_hours("7.5") == Decimal("7.5")
