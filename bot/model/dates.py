"""Dates known to a year, a month or a day.

Sources rarely agree on precision: a UN record is known to the session's year,
a press report to the day. Keeping the precision stops the bot from inventing
a day it was never told, and lets range filters compare honestly: a statement
known only as "2016" overlaps any range that touches 2016.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)


class Precision(StrEnum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


class DateError(ValueError):
    """A date a person typed or a file holds that is not a real date at any precision."""


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: object) -> PartialDate:
        """Read ``2016``, ``2016-12`` or ``2016-12-08`` (also a YAML date or int)."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise DateError(f"expected a date like 2016, 2016-12 or 2016-12-08, got {value!r}")
        text = value.strip()
        match = _PATTERN.match(text)
        if not match:
            raise DateError(
                f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2016-12-08)"
            )
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None
        if year < 1:
            raise DateError(f"{text!r}: the year must be 0001 or later")
        if month is not None and not 1 <= month <= 12:
            raise DateError(f"{text!r}: month {month} does not exist (use 01 to 12)")
        if day is not None:
            assert month is not None
            last = calendar.monthrange(year, month)[1]
            if not 1 <= day <= last:
                raise DateError(
                    f"{text!r}: day {day} does not exist in {year}-{month:02d} (1 to {last})"
                )
        return cls(year, month, day)

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    def iso(self) -> str:
        """The canonical text form, at exactly the precision known."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        if self.day is not None:
            assert self.month is not None
            return dt.date(self.year, self.month, self.day)
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def human(self) -> str:
        """For a reader: ``8 Dec 2016``, ``Dec 2016`` or ``2016``."""
        if self.month is None:
            return f"{self.year}"
        if self.day is None:
            return f"{_MONTHS[self.month - 1]} {self.year}"
        return f"{self.day} {_MONTHS[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        return self.iso()
