"""The demo county's assessment year: the default scheme in use, the year's quarters and its
half-year opened, every village's submission in the state a real year would leave it (past
quarters accepted, some of them late; the current quarter part submitted, part returned with
a reason, part still a draft), each past period's report built by the real job, published,
and the quarters before the last one locked; the county's targets given to townships and
split to villages.

Submissions are written in bulk with their events (one account per role is all the demo has,
so no township reviewer exists for most villages: the events name no actor); the scheme,
periods, runs, publishing, locks and the county's targets go through the services."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from associations import jobs
from associations.models import Association, Level
from associations.periods import Period

from . import periods_services, runs, services
from .defaults import scheme_create_default
from .models import ReportRun
from .submission_models import AssessmentPeriod, ManualScore, Submission, SubmissionEvent
from .target_models import Target, TargetKind
from .targets import set_township_targets

RETURN_REASONS = (
    "档案资料照片不清晰,请补拍后重新报送。",
    "会员小组活动记录缺少签到表,请补充。",
    "自评分高于佐证材料所能支持的分数,请核对。",
)
DUE_DAYS = 10


def _periods(today: datetime.date) -> list[tuple[str, Period]]:
    """The year's quarters that have begun, and the first half-year once it is over."""
    year = today.year
    keys = []
    for quarter in range(1, 5):
        period = Period.quarter(year, quarter)
        if period.start <= today:
            keys.append((f"{year}-Q{quarter}", period))
        if quarter == 2 and period.end < today:
            keys.append((f"{year}-H1", Period.half(year, 1)))
    return keys


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _score_between(rng: random.Random, maximum: Decimal, low: float) -> Decimal:
    return (maximum * Decimal(str(round(rng.uniform(low, 1.0), 2)))).quantize(Decimal("0.5"))


def _fill(period: AssessmentPeriod, *, past: bool, today: datetime.date, rng) -> dict:
    """Every submission of the period in its demo state; returns the count of each state."""
    submissions = list(Submission.objects.filter(period=period).order_by("id"))
    scores = list(ManualScore.objects.filter(submission__period=period).select_related("indicator"))
    by_submission: dict[int, list[ManualScore]] = {}
    for row in scores:
        by_submission.setdefault(row.submission_id, []).append(row)
    events, counts = [], {}
    for submission in submissions:
        state = _demo_state(rng, past=past)
        counts[state] = counts.get(state, 0) + 1
        late = past and rng.random() < 0.15
        submitted_on = period.due_on + datetime.timedelta(days=rng.randint(1, 6) if late else 0)
        if not late:
            submitted_on = max(period.end_on, period.due_on - datetime.timedelta(rng.randint(0, 8)))
        submitted_on = min(submitted_on, today)
        for row in by_submission.get(submission.pk, []):
            row.proposed = _score_between(rng, row.indicator.max_score, 0.7)
            row.note = "见佐证材料"
            if state == Submission.State.ACCEPTED:
                row.score = min(row.proposed, _score_between(rng, row.indicator.max_score, 0.6))
                row.review_note = "已核对档案"
        if state == Submission.State.DRAFT:
            continue
        submission.state = state
        submission.note = "本期工作按考核细则开展,佐证材料已整理归档。"
        submission.first_submitted_at = submission.submitted_at = _at(submitted_on)
        events.append((submission, SubmissionEvent.Action.SUBMITTED, submitted_on, ""))
        reviewed_on = min(submitted_on + datetime.timedelta(days=rng.randint(1, 5)), today)
        if state == Submission.State.ACCEPTED:
            submission.reviewed_at = _at(reviewed_on, 15)
            events.append((submission, SubmissionEvent.Action.ACCEPTED, reviewed_on, ""))
        elif state == Submission.State.RETURNED:
            submission.reviewed_at = _at(reviewed_on, 15)
            submission.return_reason = rng.choice(RETURN_REASONS)
            events.append(
                (submission, SubmissionEvent.Action.RETURNED, reviewed_on, submission.return_reason)
            )
    Submission.objects.bulk_update(
        submissions,
        ["state", "note", "first_submitted_at", "submitted_at", "reviewed_at", "return_reason"],
    )
    ManualScore.objects.bulk_update(scores, ["proposed", "note", "score", "review_note"])
    _write_events(events)
    return counts


def _demo_state(rng: random.Random, *, past: bool) -> str:
    if past:
        return Submission.State.ACCEPTED
    draw = rng.random()
    if draw < 0.45:
        return Submission.State.SUBMITTED
    if draw < 0.6:
        return Submission.State.RETURNED
    if draw < 0.75:
        return Submission.State.ACCEPTED
    return Submission.State.DRAFT


def _write_events(events) -> None:
    rows = []
    for submission, action, _day, reason in events:
        event = SubmissionEvent(submission=submission, action=action, reason=reason)
        event.place_under(submission.village)
        rows.append(event)
    created = SubmissionEvent.objects.bulk_create(rows)
    # `at` is auto_now_add: the events happened on the demo's dates, not now
    for event, (_s, _a, day, _r) in zip(created, events, strict=True):
        event.at = _at(day, 15 if event.action != SubmissionEvent.Action.SUBMITTED else 10)
    SubmissionEvent.objects.bulk_update(created, ["at"])


def _build_and_publish(*, admin, county: Association, key: str, version) -> ReportRun:
    run, _created = runs.request_run(actor=admin, county=county, period_key=key, version=version)
    jobs.run_here(run.job)
    run.refresh_from_db()
    if run.state != ReportRun.State.DONE:
        raise RuntimeError(f"demo report run {key} ended {run.state}: {run.job.error}")
    return runs.publish(actor=admin, run=run)


def _targets(*, admin, county: Association, year: int, rng: random.Random) -> None:
    """Townships get about 30% of their villages as 一流 and 60% as 合格, and split them to
    villages in turn (a village gets at most one grade target)."""
    townships = list(Association.objects.filter(parent=county, level=Level.TOWNSHIP))
    villages = list(Association.objects.filter(county_id=county.pk, level=Level.VILLAGE))
    under: dict[int, list[Association]] = {}
    for village in villages:
        under.setdefault(village.parent_id, []).append(village)
    numbers = {}
    for township in townships:
        mine = under.get(township.pk, [])
        first = round(len(mine) * 0.3)
        numbers[township.pk] = {
            TargetKind.FIRST_CLASS: first,
            TargetKind.QUALIFIED: len(mine) - first,
        }
    set_township_targets(actor=admin, county=county, year=year, numbers=numbers)
    rows = []
    for township in townships:
        mine = sorted(under.get(township.pk, []), key=lambda v: v.division_code)
        first = numbers[township.pk][TargetKind.FIRST_CLASS]
        for index, village in enumerate(rng.sample(mine, len(mine))):
            kind = TargetKind.FIRST_CLASS if index < first else TargetKind.QUALIFIED
            target = Target(year=year, node=village, kind=kind, number=1)
            target.place_under(village)
            rows.append(target)
    Target.objects.bulk_create(rows)


def seed_assessment(
    *, county: Association, admin, rng: random.Random, today: datetime.date | None = None
) -> dict:
    """The demo's assessment year (see the module's docstring); returns what was made."""
    today = today or timezone.localdate()
    year = today.year
    scheme = scheme_create_default(actor=admin, county=county, year=year)
    version = scheme.versions.get()
    version = services.scheme_version_activate(actor=admin, version=version)
    made = {"periods": [], "published": [], "locked": []}
    periods = _periods(today)
    last_past = max((k for k, p in periods if p.end < today and "Q" in k), default=None)
    for key, period in periods:
        opened = periods_services.period_open(
            actor=admin,
            county=county,
            key=key,
            version=version,
            due_on=period.end + datetime.timedelta(days=DUE_DAYS),
        )
        past = period.end + datetime.timedelta(days=DUE_DAYS) < today
        made["periods"].append((key, _fill(opened, past=past, today=today, rng=rng)))
        if period.end < today:
            _build_and_publish(admin=admin, county=county, key=key, version=version)
            made["published"].append(key)
            if key != last_past and past:
                periods_services.period_lock(actor=admin, period=opened)
                made["locked"].append(key)
    _targets(admin=admin, county=county, year=year, rng=rng)
    return made
