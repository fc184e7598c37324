"""The demo county's assessment year (reports.demo), seeded on 2026-11-30: three quarters and
the first half-year are over, the fourth quarter is under way."""

import datetime

import pytest
from django.utils import timezone

from associations.demo import seed_county
from associations.models import Association, Level
from associations.scope import Scope, activate
from reports.models import ReportRun, SchemeVersion, SnapshotNode
from reports.submission_models import AssessmentPeriod, ManualScore, Submission, SubmissionEvent
from reports.target_models import Target, TargetKind

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)


@pytest.fixture
def demo_county(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    county, created = seed_county(code="131128", name="阜城县", scale="demo")
    assert created
    return county


def test_demo_year_has_its_periods_published_and_locked(demo_county):
    made = demo_county.demo_assessment
    assert [key for key, _ in made["periods"]] == [
        "2026-Q1", "2026-Q2", "2026-H1", "2026-Q3", "2026-Q4",
    ]  # fmt: skip
    # Q3 ended on 30 September and was due on 10 October: built and published, and left open
    # as the latest quarter (the county locks it once late corrections are in); Q4 runs until
    # 31 December: not built.
    assert made["published"] == ["2026-Q1", "2026-Q2", "2026-H1", "2026-Q3"]
    assert made["locked"] == ["2026-Q1", "2026-Q2", "2026-H1"]
    with activate(Scope.for_node(demo_county)):
        version = SchemeVersion.objects.get()
        assert version.state == SchemeVersion.State.IN_USE
        states = dict(
            AssessmentPeriod.county_wide.filter(county_id=demo_county.pk).values_list(
                "key", "state"
            )
        )
        assert states == {
            "2026-Q1": "locked", "2026-Q2": "locked", "2026-H1": "locked",
            "2026-Q3": "open", "2026-Q4": "open",
        }  # fmt: skip
        published = ReportRun.objects.filter(published_at__isnull=False)
        assert sorted(published.values_list("period_key", flat=True)) == [
            "2026-H1", "2026-Q1", "2026-Q2", "2026-Q3",
        ]  # fmt: skip
        villages = Association.objects.filter(level=Level.VILLAGE).count()
        for run in published:
            assert run.state == ReportRun.State.DONE
            rows = SnapshotNode.objects.filter(run=run, level=Level.VILLAGE)
            assert rows.count() == villages == 14
            assert not rows.filter(grade="").exists()


def test_past_submissions_are_accepted_with_scores_and_the_current_quarter_is_mixed(
    demo_county,
):
    with activate(Scope.for_node(demo_county)):
        past = Submission.objects.filter(period__key="2026-Q3")
        assert past.count() == 14
        assert set(past.values_list("state", flat=True)) == {Submission.State.ACCEPTED}
        assert not ManualScore.objects.filter(
            submission__period__key="2026-Q3", score__isnull=True
        ).exists()
        for row in ManualScore.objects.filter(submission__period__key="2026-Q3"):
            assert 0 <= row.score <= row.proposed <= row.indicator.max_score
        current = Submission.objects.filter(period__key="2026-Q4")
        returned = current.filter(state=Submission.State.RETURNED)
        for submission in returned:
            assert submission.return_reason
            event = SubmissionEvent.objects.get(
                submission=submission, action=SubmissionEvent.Action.RETURNED
            )
            assert event.reason == submission.return_reason
            assert event.at.date() <= TODAY
        # every submitted one has its event dated on the day it says it was sent
        for submission in current.exclude(state=Submission.State.DRAFT):
            sent = SubmissionEvent.objects.get(
                submission=submission, action=SubmissionEvent.Action.SUBMITTED
            )
            assert sent.at == submission.submitted_at


def test_targets_are_given_to_townships_and_split_to_every_village(demo_county):
    with activate(Scope.for_node(demo_county)):
        for township in Association.objects.filter(level=Level.TOWNSHIP):
            villages = Association.objects.filter(parent=township, level=Level.VILLAGE)
            given = dict(
                Target.objects.filter(node=township, year=2026).values_list("kind", "number")
            )
            assert given[TargetKind.FIRST_CLASS] + given[TargetKind.QUALIFIED] == villages.count()
            split = Target.objects.filter(node__in=villages, year=2026)
            assert split.count() == villages.count()  # one grade target per village
            assert (
                split.filter(kind=TargetKind.FIRST_CLASS).count() == given[TargetKind.FIRST_CLASS]
            )
