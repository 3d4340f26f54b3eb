"""Reading booked hours from the timesheet export."""

from timesheet.hours import parse_hours, total_hours

__all__ = ["parse_hours", "total_hours"]
