"""Periods the duties and statistics are computed for: a month, a quarter or a year."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both inclusive."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(datetime.date(year, month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1-4")
        first = 3 * quarter - 2
        return cls(datetime.date(year, first, 1), _month_end(year, first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31))

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = (day + datetime.timedelta(days=32)).replace(day=1)
        return months

    def quarters(self) -> list[datetime.date]:
        """The first day of every quarter the period touches."""
        firsts = {m.replace(month=(m.month - 1) // 3 * 3 + 1) for m in self.months()}
        return sorted(firsts)

    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    def whole_years(self) -> Period:
        """The calendar years the period touches: the window of the quarterly and yearly
        duties (a month's page shows its quarter's council meetings and its year's congress)."""
        return Period(datetime.date(self.start.year, 1, 1), datetime.date(self.end.year, 12, 31))
