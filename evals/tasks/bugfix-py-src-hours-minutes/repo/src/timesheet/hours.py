"""Booked time as people type it: "7.5", "8", "1:30" (hours and minutes) or "45m"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Iterable

QUARTER = Decimal("0.25")


class HoursError(ValueError):
    """A booking that is not a duration we understand."""

    def __init__(self, raw: str, why: str) -> None:
        super().__init__(f"cannot read {raw!r} as hours: {why}")
        self.raw = raw


def parse_hours(raw: str) -> Decimal:
    """Returns the hours in ``raw`` as a Decimal, e.g. ``parse_hours("1:30") == Decimal("1.5")``."""
    text = raw.strip().lower()
    if not text:
        raise HoursError(raw, "it is empty")
    if text.endswith("m") and text[:-1].isdigit():
        return Decimal(text[:-1]) / 60
    if ":" in text:
        hours_text, _, minutes_text = text.partition(":")
        if not (hours_text.isdigit() and minutes_text.isdigit() and len(minutes_text) == 2):
            raise HoursError(raw, "write hours and minutes as H:MM")
        minutes = int(minutes_text)
        if minutes >= 60:
            raise HoursError(raw, "minutes must be below 60")
        return Decimal(hours_text) + Decimal(minutes) / 100
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise HoursError(raw, "not a number") from None
    if value < 0:
        raise HoursError(raw, "hours cannot be negative")
    return value


def total_hours(bookings: Iterable[str]) -> Decimal:
    """Sums bookings and rounds the total to the nearest quarter hour, as payroll does."""
    total = sum((parse_hours(b) for b in bookings), Decimal(0))
    return (total / QUARTER).quantize(Decimal(1)) * QUARTER
