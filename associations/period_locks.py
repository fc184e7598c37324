"""Locked assessment periods: the one check the feature apps call before they write a record
dated in a period (activities by date, home visits by visit date, memberships by the dates
they join and leave).

The periods themselves live in reports (reports.models.AssessmentPeriod), which imports the
feature apps; so the feature apps do not import reports: reports registers a lookup here when
it starts (reports.apps), and `refuse_if_locked` asks it. A migration of reports adds the
same guard in the database (triggers), beneath the services."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

# A lookup: (county_id, day) → the label of the locked period that holds the day, or None.
Lookup = Callable[[int, datetime.date], "str | None"]
_lookups: list[Lookup] = []


def register(lookup: Lookup) -> None:
    if lookup not in _lookups:
        _lookups.append(lookup)


def locked_period_label(county_id: int, day: datetime.date | None) -> str | None:
    """The label ("2026年第一季度") of a locked period of the county that holds the day."""
    if day is None:
        return None
    for lookup in _lookups:
        label = lookup(county_id, day)
        if label:
            return label
    return None


def message(label: str) -> str:
    return (
        f"{label}考核期已锁定,该时期的记录不能新增、修改或删除;如需修改请联系县级管理员重新开放。"
    )


def _as_date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def refuse_if_locked(*, county_id: int, dates: Iterable[tuple[str | None, object]]) -> None:
    """Raise the Chinese ValidationError (code `period_locked`) when any of the dates lies in
    a locked period of the county. `dates`: (form field or None, date or ISO string)."""
    for field, value in dates:
        label = locked_period_label(county_id, _as_date(value))
        if label:
            error = ValidationError(message(label), code="period_locked")
            raise ValidationError({field: error}) if field else error
