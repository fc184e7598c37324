"""Locked assessment periods: the one check the feature apps call before they write a record
dated in a period (activities by date, home visits by visit date, memberships by the dates
they join and leave).

The periods themselves live in reports (reports.models.AssessmentPeriod), which imports the
feature apps; so the feature apps do not import reports: reports registers a source of the
county's locked periods here when it starts (reports.apps), and `refuse_if_locked` asks it.
A migration of reports adds the same guard in the database (triggers), beneath the services.
Imports check their rows against `locked_spans`, fetched once (members.imports)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

# A source: county_id → the county's locked periods as (first day, last day, label).
Span = tuple[datetime.date, datetime.date, str]
Source = Callable[[int], list[Span]]
_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def locked_spans(county_id: int) -> list[Span]:
    """The county's locked periods (one query per source): for a check of many dates, such
    as an import's rows, fetch them once."""
    return [span for source in _sources for span in source(county_id)]


def label_in(spans: list[Span], day: datetime.date | None) -> str | None:
    """The label ("2026年第一季度") of the span that holds the day, if any."""
    if day is None:
        return None
    return next((label for start, end, label in spans if start <= day <= end), None)


def locked_period_label(county_id: int, day: datetime.date | None) -> str | None:
    """The label of a locked period of the county that holds the day."""
    return label_in(locked_spans(county_id), day) if day is not None else None


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
    dates = [(field, _as_date(value)) for field, value in dates]
    if not any(day for _, day in dates):
        return
    spans = locked_spans(county_id)
    for field, day in dates:
        label = label_in(spans, day)
        if label:
            error = ValidationError(message(label), code="period_locked")
            raise ValidationError({field: error}) if field else error
