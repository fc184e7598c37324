"""The submission workflow of an assessment period, by role: the village proposes and
submits, the township returns (with a reason the village sees) or accepts (its own scores
count), the county locks and reopens (with a reason). Every step is recorded."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from associations.models import Association
from associations.scope import Scope, activate
from reports import periods_services, submissions
from reports.models import AssessmentPeriod, PeriodEvent, Submission, SubmissionEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    return world.a


def as_user(world_county, key):
    """The account and a factory of its scope (a scope is entered once per `with`)."""
    user = world_county.users[key]
    with world_county.scope():
        node = Association.objects.get(pk=user.node_id)
    return user, lambda: activate(Scope.for_node(node))


def submission_of(county, village_index=0) -> Submission:
    with county.scope():
        return Submission.objects.select_related("period", "expected").get(
            period=county.periods[0], village=county.villages[village_index]
        )


def scores_by_key(submission):
    return {row.indicator.key: row for row in submissions.score_rows(submission)}


def test_opening_freezes_every_village_with_a_draft_and_its_manual_rows(a):
    with a.scope():
        period = AssessmentPeriod.objects.get(pk=a.periods[0].pk)
        assert (period.key, period.kind, period.state) == ("2026-Q1", "quarter", "open")
        assert (period.start_on, period.end_on) == (
            datetime.date(2026, 1, 1),
            datetime.date(2026, 3, 31),
        )
        rows = Submission.objects.filter(period=period).order_by("expected__division_code")
        assert [s.village_id for s in rows] == [v.pk for v in a.villages]
        assert {s.state for s in rows} == {"draft"}
        keys = sorted(r.indicator.key for r in submissions.score_rows(rows[0]))
        assert keys == ["archives", "sign"]  # the manual village indicators only
        assert PeriodEvent.objects.filter(period=period, action="opened").count() == 1


def test_the_whole_workflow_by_role(a):
    village_user, village_scope = as_user(a, "village_secretary")
    township_user, township_scope = as_user(a, "township_staff")
    admin = a.users["county_admin"]
    submission = submission_of(a)
    with village_scope():
        rows = scores_by_key(submission)
        submissions.submission_save(
            actor=village_user,
            submission=submission,
            note="本季度档案已整理",
            scores={rows["archives"].pk: ("2.5", "缺会员花名册"), rows["sign"].pk: ("3", "")},
        )
        submissions.submission_submit(actor=village_user, submission=submission)
    with township_scope():
        with pytest.raises(ValidationError, match="请填写退回原因"):
            submissions.submission_return(actor=township_user, submission=submission, reason=" ")
        submissions.submission_return(
            actor=township_user, submission=submission, reason="请补充阵地照片"
        )
    with village_scope():
        seen = Submission.objects.get(pk=submission.pk)
        assert (seen.state, seen.return_reason) == ("returned", "请补充阵地照片")
        submissions.submission_save(actor=village_user, submission=seen, note="已补充照片")
        submissions.submission_submit(actor=village_user, submission=seen)
    with township_scope():
        rows = scores_by_key(submission)
        with pytest.raises(ValidationError, match="请填写“阵地标示牌”的得分"):
            submissions.submission_accept(
                actor=township_user,
                submission=submission,
                scores={rows["archives"].pk: ("2", "")},
            )
        with pytest.raises(ValidationError, match=r"应在 0 至 3\.00 分之间"):
            submissions.submission_accept(
                actor=township_user,
                submission=submission,
                scores={rows["archives"].pk: ("3.5", ""), rows["sign"].pk: ("3", "")},
            )
        submissions.submission_accept(
            actor=township_user,
            submission=submission,
            scores={rows["archives"].pk: ("2", "核实缺两项"), rows["sign"].pk: ("3", "")},
        )
        rows = scores_by_key(submission)
        # the township's score counts; the village's proposal stays beside it
        assert (rows["archives"].proposed, rows["archives"].score) == (D("2.5"), D("2"))
        events = list(
            SubmissionEvent.objects.filter(submission=submission).values_list("action", "reason")
        )
    assert events == [
        ("saved", ""),
        ("submitted", ""),
        ("returned", "请补充阵地照片"),
        ("saved", ""),
        ("submitted", ""),
        ("accepted", ""),
    ]
    with village_scope(), pytest.raises(ValidationError, match="已通过,不能修改"):
        submissions.submission_save(actor=village_user, submission=submission, note="改")
    with a.scope():
        period = periods_services.period_lock(actor=admin, period=a.periods[0])
        assert period.state == "locked"
        with pytest.raises(ValidationError, match="请填写重新开放的原因"):
            periods_services.period_reopen(actor=admin, period=period, reason="")
        periods_services.period_reopen(actor=admin, period=period, reason="补录三月活动")
        events = list(PeriodEvent.objects.filter(period=period).values_list("action", "reason"))
    assert events == [("opened", ""), ("locked", ""), ("reopened", "补录三月活动")]


def test_who_may_do_what(a):
    submission = submission_of(a)
    _sibling, sibling_scope = as_user(a, "village_secretary_sibling")
    township_user, township_scope = as_user(a, "township_staff")
    _other_township, other_scope = as_user(a, "township_staff_sibling")
    _leader, leader_scope = as_user(a, "group_leader")
    # the sibling village, the other township and a group leader do not see it at all
    for scope in (sibling_scope, other_scope, leader_scope):
        with scope(), pytest.raises(Http404):
            get_object_or_404(Submission, pk=submission.pk)
    with township_scope():
        with pytest.raises(PermissionDenied):  # the township reviews, it does not submit
            submissions.submission_submit(actor=township_user, submission=submission)
        with pytest.raises(ValidationError, match="只有待审核的报送可以审核"):
            submissions.submission_return(actor=township_user, submission=submission, reason="x")
    village_user, village_scope = as_user(a, "village_secretary")
    with village_scope():
        submissions.submission_submit(actor=village_user, submission=submission)
        with pytest.raises(PermissionDenied):  # a village does not review itself
            submissions.submission_accept(actor=village_user, submission=submission)
    with a.scope():
        with pytest.raises(PermissionDenied):
            periods_services.period_lock(actor=a.users["county_viewer"], period=a.periods[0])
        with pytest.raises(PermissionDenied):
            periods_services.period_lock(actor=township_user, period=a.periods[0])


def test_a_locked_period_refuses_submissions(a):
    submission = submission_of(a)
    village_user, village_scope = as_user(a, "village_secretary")
    with a.scope():
        periods_services.period_lock(actor=a.users["county_admin"], period=a.periods[0])
    with village_scope(), pytest.raises(ValidationError, match="考核期已锁定"):
        submissions.submission_submit(actor=village_user, submission=submission)


def test_late_is_a_first_submission_after_the_due_date(a, monkeypatch):
    village_user, village_scope = as_user(a, "village_secretary")
    submission = submission_of(a)
    late = timezone.make_aware(datetime.datetime(2026, 4, 11, 9, 0))
    monkeypatch.setattr(timezone, "now", lambda: late)
    with village_scope():
        submitted = submissions.submission_submit(actor=village_user, submission=submission)
    assert submitted.is_late
    on_time = timezone.make_aware(datetime.datetime(2026, 4, 10, 23, 0))
    other = submission_of(a, 1)
    sibling, sibling_scope = as_user(a, "village_secretary_sibling")
    monkeypatch.setattr(timezone, "now", lambda: on_time)
    with sibling_scope():
        assert not submissions.submission_submit(actor=sibling, submission=other).is_late


def test_opening_refuses_a_draft_version_another_year_and_an_early_due_date(a):
    admin = a.users["county_admin"]
    with a.scope():
        draft = a.schemes[0].versions.get()  # the default scheme of 2026, a draft
        in_use = AssessmentPeriod.objects.get(pk=a.periods[0].pk).version
        cases = [
            ("2026-Q2", draft, datetime.date(2026, 7, 10), "只能选择使用中的考核细则版本"),
            ("2027-Q1", in_use, datetime.date(2027, 4, 10), "所选考核细则是2026年的"),
            ("2026-Q2", in_use, datetime.date(2026, 3, 1), "报送截止日期早于考核期开始日期"),
            ("2026-13", in_use, datetime.date(2026, 3, 1), "考核期应为季度"),
        ]
        for key, version, due_on, message in cases:
            with pytest.raises(ValidationError, match=message):
                periods_services.period_open(
                    actor=admin, county=a.county, key=key, version=version, due_on=due_on
                )
        with pytest.raises(PermissionDenied):
            periods_services.period_open(
                actor=a.users["county_viewer"],
                county=a.county,
                key="2026",
                version=in_use,
                due_on=datetime.date(2027, 1, 15),
            )
        year = periods_services.period_open(
            actor=admin,
            county=a.county,
            key="2026",
            version=in_use,
            due_on=datetime.date(2027, 1, 15),
        )
    assert (year.kind, year.start_on, year.end_on) == (
        "year",
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
    )
