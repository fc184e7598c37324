"""Assessment periods: opening one (which freezes the expected villages and gives each a
submission), locking and reopening it, the locked-period lookup behind
associations.period_locks, and completeness.

Opening, locking and reopening are the county admin's (县级管理员); every step is a
PeriodEvent (who, when, the reason of a reopening). Completeness counts the villages frozen
when the period opened, grouped by the township they had then: a village added later is not
expected, a village moved later still counts where it was, so no share passes 100%."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from associations import permissions as association_permissions
from associations.models import Association, Level
from associations.periods import Period, parse_period, period_key

from . import permissions
from .models import (
    AssessmentPeriod,
    ExpectedUnit,
    IndicatorLevel,
    ManualScore,
    PeriodEvent,
    PeriodKind,
    SchemeIndicator,
    SchemeVersion,
    Submission,
)

KEY_ERROR = "考核期应为季度(如 2026-Q1)、半年(如 2026-H1)或年度(如 2026)。"


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _require_county_admin(actor, county: Association) -> None:
    association_permissions.require(
        permissions.can_manage_schemes(actor, county),
        "只有县级管理员可以开启、锁定或重新开放考核期。",
    )


def period_kind(key: str) -> tuple[Period, str]:
    """The period a key names and its kind; a month or a malformed key is a ValidationError."""
    try:
        period = parse_period(key)
    except ValueError:
        raise _error("key", KEY_ERROR, "bad_key") from None
    normalised = period_key(period)
    if "-Q" in normalised:
        return period, PeriodKind.QUARTER
    if "-H" in normalised:
        return period, PeriodKind.HALF
    if len(normalised) == 4:
        return period, PeriodKind.YEAR
    raise _error("key", KEY_ERROR, "bad_key")


def _event(period: AssessmentPeriod, action: str, actor, reason: str = "") -> PeriodEvent:
    event = PeriodEvent(period=period, action=action, actor=actor, reason=reason)
    event.county_id = period.county_id  # at the county node, like the period
    event.save()
    return event


@transaction.atomic
def period_open(
    *, actor, county: Association, key: str, version: SchemeVersion, due_on: datetime.date
) -> AssessmentPeriod:
    """开启考核期: the villages of the county today become the expected units (name, code and
    township frozen), each with a draft submission and a row per manual village indicator."""
    if county.level != Level.COUNTY:
        raise ValidationError("考核期由县级协会开启。", code="not_county")
    _require_county_admin(actor, county)
    period, kind = period_kind(key)
    if version is None or version.county_id != county.pk:
        raise _error("version", "请选择本县的考核细则版本。", "version_missing")
    if version.state != SchemeVersion.State.IN_USE:
        raise _error("version", "只能选择使用中的考核细则版本。", "version_not_in_use")
    if version.scheme.year != period.start.year:
        raise _error(
            "version", f"所选考核细则是{version.scheme.year}年的,与考核期年度不符。", "version_year"
        )
    if due_on is None:
        raise _error("due_on", "请填写报送截止日期。", "required")
    if due_on < period.start:
        raise _error("due_on", "报送截止日期早于考核期开始日期。", "due_early")
    assessment = AssessmentPeriod(
        key=period_key(period),
        kind=kind,
        start_on=period.start,
        end_on=period.end,
        version=version,
        due_on=due_on,
        opened_by=actor,
    )
    assessment.place_under(county)
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError as error:
        if "period_key_unique_in_county" in str(error):
            raise _error("key", f"{assessment}的考核期已经开启。", "duplicate") from error
        raise
    _freeze_units(assessment, version)
    _event(assessment, PeriodEvent.Action.OPENED, actor)
    return assessment


def _freeze_units(period: AssessmentPeriod, version: SchemeVersion) -> None:
    villages = list(
        Association.objects.filter(county_id=period.county_id, level=Level.VILLAGE)
        .select_related("parent")
        .order_by("division_code")
    )
    units = []
    for village in villages:
        unit = ExpectedUnit(
            period=period,
            unit=village,
            frozen_township_id=village.township_id,
            township_name=village.parent.name,
            name=village.name,
            division_code=village.division_code,
        )
        unit.place_under(village)
        units.append(unit)
    ExpectedUnit.objects.bulk_create(units)
    submissions = []
    for unit in units:
        submission = Submission(period=period, expected=unit)
        submission.place_under(unit.unit)
        submissions.append(submission)
    Submission.objects.bulk_create(submissions)
    # A village is asked only for the manual scores that count in this evaluation: a
    # year-only checklist (档案) is not scored in a quarter.
    indicators = [
        indicator
        for indicator in SchemeIndicator.objects.filter(
            version=version, manual=True, level=IndicatorLevel.VILLAGE
        ).order_by("order", "id")
        if indicator.applies_to(period.key)
    ]
    scores = []
    for submission, unit in zip(submissions, units, strict=True):
        for indicator in indicators:
            score = ManualScore(submission=submission, indicator=indicator)
            score.place_under(unit.unit)
            scores.append(score)
    ManualScore.objects.bulk_create(scores)


def _locked_for_update(period: AssessmentPeriod) -> AssessmentPeriod:
    return AssessmentPeriod.county_wide.select_for_update().get(pk=period.pk)


@transaction.atomic
def period_lock(*, actor, period: AssessmentPeriod) -> AssessmentPeriod:
    """锁定: whatever the submissions' states. The records dated in it then refuse changes."""
    county = Association.objects.get(pk=period.county_id)
    _require_county_admin(actor, county)
    period = _locked_for_update(period)
    if period.is_locked:
        raise ValidationError(f"{period}考核期已经锁定。", code="already_locked")
    period.state, period.locked_at, period.locked_by = (
        AssessmentPeriod.State.LOCKED,
        timezone.now(),
        actor,
    )
    period.save(update_fields=["state", "locked_at", "locked_by"])
    _event(period, PeriodEvent.Action.LOCKED, actor)
    return period


@transaction.atomic
def period_reopen(*, actor, period: AssessmentPeriod, reason: str) -> AssessmentPeriod:
    """重新开放 a locked period, with the reason, recorded."""
    county = Association.objects.get(pk=period.county_id)
    _require_county_admin(actor, county)
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", "请填写重新开放的原因。", "required")
    period = _locked_for_update(period)
    if not period.is_locked:
        raise ValidationError(f"{period}考核期未锁定,无需重新开放。", code="not_locked")
    period.state, period.locked_at, period.locked_by = AssessmentPeriod.State.OPEN, None, None
    period.save(update_fields=["state", "locked_at", "locked_by"])
    _event(period, PeriodEvent.Action.REOPENED, actor, reason)
    return period


def locked_spans(county_id: int) -> list[tuple[datetime.date, datetime.date, str]]:
    """The source registered with associations.period_locks (reports.apps)."""
    periods = AssessmentPeriod.county_wide.filter(
        county_id=county_id, state=AssessmentPeriod.State.LOCKED
    ).order_by("start_on")
    return [(p.start_on, p.end_on, str(p)) for p in periods]


def period_by_key(key: str) -> AssessmentPeriod | None:
    """The active scope's county's period of that key (any account of the county)."""
    try:
        normalised = period_key(parse_period(key))
    except ValueError:
        return None
    return AssessmentPeriod.county_wide.filter(key=normalised).select_related("version").first()


# --- completeness ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of one township (or the county): frozen expected units and their states."""

    name: str
    expected: int = 0
    submitted: int = 0  # reported at least once: pending review, returned or accepted
    pending: int = 0
    returned: int = 0
    accepted: int = 0
    late: int = 0
    missing: int = 0  # never reported
    rows: list = field(default_factory=list)

    def add(self, submission: Submission) -> None:
        self.expected += 1
        state = submission.state
        if state == Submission.State.DRAFT:
            self.missing += 1
        else:
            self.submitted += 1
            self.pending += state == Submission.State.SUBMITTED
            self.returned += state == Submission.State.RETURNED
            self.accepted += state == Submission.State.ACCEPTED
            self.late += submission.is_late

    @property
    def on_time(self) -> int:
        """Reported at least once, the first time by the due date."""
        return self.submitted - self.late

    @property
    def not_accepted(self) -> int:
        return self.expected - self.accepted

    @property
    def submitted_share(self) -> str:
        return _share(self.submitted, self.expected)

    @property
    def accepted_share(self) -> str:
        return _share(self.accepted, self.expected)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def completeness(
    *, period: AssessmentPeriod, under: Association | None = None
) -> tuple[Tally, list[Tally]]:
    """The total and one tally per township (as frozen), from the submissions in the active
    scope (a township account sees its own villages), or under a node of it."""
    submissions = Submission.objects.filter(period=period)
    if under is not None and under.level != Level.COUNTY:
        submissions = submissions.filter(**{f"{under.level}_id": under.pk})
    submissions = submissions.select_related("expected", "period").order_by(
        "expected__division_code"
    )
    total = Tally(name="合计")
    by_township: dict[int, Tally] = defaultdict(lambda: Tally(name=""))
    for submission in submissions:
        unit = submission.expected
        tally = by_township[unit.frozen_township_id]
        tally.name = unit.township_name
        tally.add(submission)
        tally.rows.append(submission)
        total.add(submission)
    return total, sorted(by_township.values(), key=lambda t: t.rows[0].expected.division_code)
