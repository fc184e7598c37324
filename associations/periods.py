"""Periods the duties, statistics and the assessment are computed for: a month, a quarter, a
half-year (半年初评) or a year (年终总评). Shared machinery: activities (duties, records) and
reports (indicators, schemes) use the same Period and the same keys in URLs:
"2025-03", "2025-Q1", "2025-H1", "2025"."""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass


def last_day_of_month(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both inclusive."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(datetime.date(year, month, 1), last_day_of_month(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1-4")
        first = 3 * quarter - 2
        return cls(datetime.date(year, first, 1), last_day_of_month(year, first + 2))

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        """The first (January-June) or second (July-December) half of a year."""
        if half not in (1, 2):
            raise ValueError("half must be 1 or 2")
        first = 6 * half - 5
        return cls(datetime.date(year, first, 1), last_day_of_month(year, first + 5))

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


QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
HALF_NAMES = {1: "上半年", 2: "下半年"}
PERIOD_ERROR = "统计期格式应为 2025-03(月)、2025-Q1(季度)、2025-H1(半年)或 2025(年)。"
FIRST_YEAR, LAST_YEAR = 2000, 2100
PERIOD_PATTERN = re.compile(
    r"(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4])|-H(?P<half>[12])|-(?P<month>[0-9]{2}))?"
)


def period_key(period: Period) -> str:
    """ "2025-03", "2025-Q1", "2025-H1" or "2025": the period in a URL (a span that is none of
    these: its dates)."""
    if period == Period.month(period.start.year, period.start.month):
        return f"{period.start:%Y-%m}"
    if period == Period.quarter(period.start.year, quarter_of(period.start)):
        return f"{period.start.year}-Q{quarter_of(period.start)}"
    if period == Period.half(period.start.year, half_of(period.start)):
        return f"{period.start.year}-H{half_of(period.start)}"
    if period == Period.year(period.start.year):
        return str(period.start.year)
    return f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"


def period_label(period: Period) -> str:
    """ "2025年3月", "2025年第一季度", "2025年上半年", "2025年"."""
    key = period_key(period)
    if "-Q" in key:
        return f"{period.start.year}年{QUARTER_NAMES[quarter_of(period.start)]}"
    if "-H" in key:
        return f"{period.start.year}年{HALF_NAMES[half_of(period.start)]}"
    if len(key) == 7:
        return f"{period.start.year}年{period.start.month}月"
    if len(key) == 4:
        return f"{period.start.year}年"
    return f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"


def quarter_of(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def half_of(day: datetime.date) -> int:
    return 1 if day.month <= 6 else 2


def parse_period(key: str) -> Period:
    """The period a key names ("2025-03", "2025-Q1", "2025-H1", "2025"); ValueError with the
    Chinese message otherwise."""
    match = PERIOD_PATTERN.fullmatch((key or "").strip().upper())
    if not match:
        raise ValueError(PERIOD_ERROR)
    year, quarter, month = int(match["year"]), match["quarter"], match["month"]
    try:
        if quarter:
            period = Period.quarter(year, int(quarter))
        elif match["half"]:
            period = Period.half(year, int(match["half"]))
        elif month:
            period = Period.month(year, int(month))
        else:
            period = Period.year(year)
    except ValueError:
        raise ValueError(PERIOD_ERROR) from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(PERIOD_ERROR)
    return period


def period_choices(today: datetime.date) -> list[Period]:
    """The periods offered in a filter: the last twelve months, the last four quarters and
    the last three years, newest first within each."""
    months, day = [], today.replace(day=1)
    for _ in range(12):
        months.append(Period.month(day.year, day.month))
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    quarters, year, quarter = [], today.year, quarter_of(today)
    for _ in range(4):
        quarters.append(Period.quarter(year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    years = [Period.year(today.year - n) for n in range(3)]
    return [*months, *quarters, *years]
