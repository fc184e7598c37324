"""The enrolment workflow's services (benefits.workflow_services and notice_services): public
notice, objections, review after the notice period, approval, returns and exits; who may take
each step; what each step records. Dates are fixed: the notice below runs 2026-03-03 to
2026-03-09."""

from __future__ import annotations

import contextlib
import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from associations.middleware import scope_for_user
from associations.models import ChangeRecord
from associations.scope import activate
from benefits import notice_services, workflow_selectors, workflow_services
from benefits.models import Enrollment, EnrollmentEvent, PublicNotice
from tests.benefits.factories_workflow import FACTS, RULE, applied, make_program

pytestmark = pytest.mark.django_db

D = datetime.date
APPLIED_ON = D(2026, 3, 2)
STARTS = D(2026, 3, 3)
ENDS = D(2026, 3, 9)  # 7 days: 3 March to 9 March inclusive
CONTACT = "村委会计生办,电话 0319-1234567"


class Clock:
    def __init__(self):
        self.day = APPLIED_ON


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(workflow_services, "today", lambda: clock.day)
    return clock


@contextlib.contextmanager
def acting(user):
    with activate(scope_for_user(user)):
        yield


def fresh(enrollment, county_world):
    with county_world.scope():
        return Enrollment.objects.select_related("notice", "program").get(pk=enrollment.pk)


def code_of(excinfo) -> str:
    error = excinfo.value
    if hasattr(error, "error_dict"):
        return next(e.code for errors in error.error_dict.values() for e in errors)
    return error.error_list[0].code


def field_of(excinfo) -> str | None:
    error = excinfo.value
    return next(iter(error.error_dict)) if hasattr(error, "error_dict") else None


@pytest.fixture
def a(world):
    return world.a


@pytest.fixture
def program(a):
    return make_program(a)


def publish(a, user, program, node, clock, **kwargs):
    clock.day = kwargs.pop("on", STARTS)
    with acting(user):
        return notice_services.notice_publish(
            actor=user, program=program, node=node, objection_contact=CONTACT, **kwargs
        )


def in_notice(a, program, clock, person_index=0):
    """An application of person `person_index` of county A, posted by the first village."""
    enrollment = applied(a, program, a.persons[person_index])
    publish(a, a.users["village_secretary"], program, a.villages[0], clock)
    return fresh(enrollment, a)


def review(a, key, enrollment, **kwargs):
    user = a.users[key]
    with acting(user):
        return workflow_services.enrollment_review(actor=user, enrollment=enrollment, **kwargs)


# --- the whole road ---------------------------------------------------------------------------


def test_the_whole_workflow_with_its_events_and_change_records(a, program, clock):
    secretary, township, admin = (
        a.users["village_secretary"],
        a.users["township_staff"],
        a.users["county_admin"],
    )
    enrollment = applied(a, program, a.persons[0])
    notice = publish(a, secretary, program, a.villages[0], clock)
    assert (notice.starts_on, notice.ends_on) == (STARTS, ENDS)
    assert notice.title == f"{a.villages[0].name} {program.name} 公示"
    assert notice.objection_contact == CONTACT
    assert (notice.village_id, notice.group_id) == (a.villages[0].pk, None)
    enrollment = fresh(enrollment, a)
    assert (enrollment.status, enrollment.notice_id) == ("in_notice", notice.pk)

    clock.day = ENDS  # the last day of the notice: not yet
    with pytest.raises(ValidationError) as refused:
        review(a, "township_staff", enrollment)
    assert code_of(refused) == "notice_running"
    assert "2026-03-10 起" in refused.value.messages[0]
    assert fresh(enrollment, a).status == "in_notice"

    clock.day = ENDS + datetime.timedelta(days=1)
    review(a, "township_staff", enrollment, opinion="情况属实")
    assert fresh(enrollment, a).status == "reviewed"

    with acting(admin):
        workflow_services.enrollment_approve(actor=admin, enrollment=enrollment)
    enrollment = fresh(enrollment, a)
    assert (enrollment.status, enrollment.enrolled_on) == ("enrolled", D(2026, 3, 10))

    clock.day = D(2026, 12, 31)
    with acting(admin):
        workflow_services.enrollment_exit(
            actor=admin, enrollment=enrollment, reason="本人去世", exited_on=D(2026, 12, 20)
        )
    enrollment = fresh(enrollment, a)
    assert (enrollment.status, enrollment.exited_on, enrollment.exit_reason) == (
        "exited",
        D(2026, 12, 20),
        "本人去世",
    )
    assert enrollment.enrolled_on == D(2026, 3, 10)  # history kept

    with a.scope():
        events = list(EnrollmentEvent.objects.filter(enrollment=enrollment).order_by("at", "id"))
        records = list(
            ChangeRecord.objects.filter(
                object_type="benefits.Enrollment", object_id=enrollment.pk
            ).order_by("at", "id")
        )
    assert [(e.action, e.from_status, e.to_status, e.actor_id) for e in events] == [
        ("apply", "", "applied", secretary.pk),
        ("notice", "applied", "in_notice", secretary.pk),
        ("review", "in_notice", "reviewed", township.pk),
        ("approve", "reviewed", "enrolled", admin.pk),
        ("exit", "enrolled", "exited", admin.pk),
    ]
    assert events[1].reason == "2026-03-03 至 2026-03-09"
    assert events[2].reason == "情况属实"
    assert events[4].reason == "本人去世"
    assert all(e.rule == RULE and e.facts == FACTS for e in events[1:])
    assert all(e.group_id == a.groups[0].pk for e in events)
    assert [(r.before["status"], r.after["status"]) for r in records] == [
        ("applied", "in_notice"),
        ("in_notice", "reviewed"),
        ("reviewed", "enrolled"),
        ("enrolled", "exited"),
    ]
    assert records[0].after["notice"] == notice.pk
    assert records[-1].after["exited_on"] == "2026-12-20"
    assert [r.actor_id for r in records] == [secretary.pk, township.pk, admin.pk, admin.pk]
    assert all(r.node_id == a.groups[0].pk for r in records)


def test_a_one_day_notice_ends_the_day_it_starts(a, clock):
    program = make_program(a, notice_days=1)
    enrollment = applied(a, program, a.persons[0])
    notice = publish(a, a.users["village_secretary"], program, a.villages[0], clock)
    assert notice.starts_on == notice.ends_on == STARTS
    with pytest.raises(ValidationError) as refused:
        review(a, "township_staff", fresh(enrollment, a))
    assert code_of(refused) == "notice_running"
    clock.day = STARTS + datetime.timedelta(days=1)
    review(a, "township_staff", fresh(enrollment, a))
    assert fresh(enrollment, a).status == "reviewed"


def test_a_programme_without_notice_is_reviewed_straight_from_applied(a, clock):
    program = make_program(a, name="金秋助学(流程测试)", needs_notice=False)
    enrollment = applied(a, program, a.persons[0])
    with pytest.raises(ValidationError) as refused:
        publish(a, a.users["village_secretary"], program, a.villages[0], clock)
    assert (code_of(refused), field_of(refused)) == ("notice_not_needed", "program")
    review(a, "township_staff", fresh(enrollment, a))
    assert fresh(enrollment, a).status == "reviewed"


def test_a_noticed_programme_is_not_reviewed_before_its_notice(a, program, clock):
    enrollment = applied(a, program, a.persons[0])
    clock.day = D(2026, 6, 1)
    with pytest.raises(ValidationError) as refused:
        review(a, "county_admin", enrollment)
    assert code_of(refused) == "notice_required"
    assert fresh(enrollment, a).status == "applied"


# --- objections -----------------------------------------------------------------------------


def record(a, key, enrollment, **kwargs):
    user = a.users[key]
    with acting(user):
        return notice_services.objection_record(actor=user, enrollment=enrollment, **kwargs)


def resolve(a, key, objection, **kwargs):
    user = a.users[key]
    with acting(user):
        return notice_services.objection_resolve(actor=user, objection=objection, **kwargs)


def test_an_unresolved_objection_blocks_review_until_resolved(a, program, clock):
    enrollment = in_notice(a, program, clock)
    clock.day = D(2026, 3, 5)
    objection = record(
        a, "village_secretary", enrollment, content="申报人有两个子女", raised_by="张大爷"
    )
    assert (objection.raised_on, objection.raised_by, objection.upheld) == (
        D(2026, 3, 5),
        "张大爷",
        None,
    )
    assert objection.group_id == a.groups[0].pk

    clock.day = D(2026, 3, 10)  # the notice is over, the objection is not
    with pytest.raises(ValidationError) as refused:
        review(a, "township_staff", fresh(enrollment, a))
    assert code_of(refused) == "objection_unresolved"
    assert "1 条未处理" in refused.value.messages[0]

    with pytest.raises(PermissionDenied):
        resolve(a, "village_secretary", objection, upheld=False, resolution="x")
    resolve(a, "township_staff", objection, upheld=False, resolution="经核实只有一个子女")
    with a.scope():
        objection.refresh_from_db()
    assert (objection.upheld, objection.resolution, objection.resolved_by_id) == (
        False,
        "经核实只有一个子女",
        a.users["township_staff"].pk,
    )
    assert fresh(enrollment, a).status == "in_notice"
    with pytest.raises(ValidationError) as twice:
        resolve(a, "county_admin", objection, upheld=True, resolution="再议")
    assert code_of(twice) == "already_resolved"

    review(a, "township_staff", fresh(enrollment, a))
    assert fresh(enrollment, a).status == "reviewed"
    with a.scope():
        actions = list(
            EnrollmentEvent.objects.filter(enrollment=enrollment)
            .order_by("at", "id")
            .values_list("action", "reason")
        )
    assert actions[2:] == [
        ("objection", "张大爷:申报人有两个子女"),
        ("objection_resolved", "异议不成立:经核实只有一个子女"),
        ("review", ""),
    ]


def test_an_upheld_objection_returns_the_application(a, program, clock):
    enrollment = in_notice(a, program, clock)
    clock.day = D(2026, 3, 4)
    objection = record(a, "township_staff", enrollment, content="已迁出本村")
    resolve(a, "county_admin", objection, upheld=True, resolution="户籍已迁出,不符合条件")
    enrollment = fresh(enrollment, a)
    assert enrollment.status == "rejected"
    assert enrollment.return_reason == "异议成立:户籍已迁出,不符合条件"
    with a.scope():
        last = EnrollmentEvent.objects.filter(enrollment=enrollment).order_by("-at", "-id")[0]
    assert (last.action, last.from_status, last.to_status) == (
        "objection_resolved",
        "in_notice",
        "rejected",
    )


def test_objections_only_during_the_notice(a, program, clock):
    waiting = applied(a, program, a.persons[1])
    enrollment = in_notice(a, program, clock, person_index=0)  # posts both of the village
    clock.day = D(2026, 3, 4)
    for raised_on, code in (
        (D(2026, 3, 2), "objection_outside_period"),
        (D(2026, 3, 5), "future_date"),
    ):
        with pytest.raises(ValidationError) as refused:
            record(a, "village_secretary", enrollment, content="x", raised_on=raised_on)
        assert (code_of(refused), field_of(refused)) == (code, "raised_on")
    with pytest.raises(ValidationError) as blank:
        record(a, "village_secretary", enrollment, content="  ")
    assert (code_of(blank), field_of(blank)) == ("required", "content")
    clock.day = D(2026, 3, 12)  # after the notice: one raised on its last day is recorded
    late = record(a, "village_secretary", enrollment, content="书面异议", raised_on=ENDS)
    assert late.raised_on == ENDS
    review_ready = applied(
        a, make_program(a, name="金秋助学(流程测试)", needs_notice=False), a.persons[0]
    )
    with pytest.raises(ValidationError) as not_noticed:
        record(a, "village_secretary", review_ready, content="x")
    assert code_of(not_noticed) == "not_in_notice"
    assert fresh(waiting, a).status == "in_notice"


# --- returns ----------------------------------------------------------------------------------


def test_returns_by_stage_with_the_reason_the_village_sees(a, program, clock):
    first = in_notice(a, program, clock, person_index=0)
    second = fresh(applied(a, program, a.persons[2]), a)  # the second village: not noticed
    with pytest.raises(ValidationError) as blank, acting(a.users["township_staff"]):
        workflow_services.enrollment_return(
            actor=a.users["township_staff"], enrollment=first, reason=" "
        )
    assert (code_of(blank), field_of(blank)) == ("required", "reason")
    with acting(a.users["township_staff"]):
        workflow_services.enrollment_return(
            actor=a.users["township_staff"], enrollment=first, reason="缺少独生子女证复印件"
        )
        workflow_services.enrollment_return(
            actor=a.users["township_staff"], enrollment=second, reason="户籍不在本村"
        )
    first = fresh(first, a)
    assert (first.status, first.return_reason) == ("rejected", "缺少独生子女证复印件")
    assert fresh(second, a).status == "rejected"
    clock.day = D(2026, 3, 20)
    with pytest.raises(ValidationError) as refused:
        review(a, "township_staff", first)
    assert code_of(refused) == "wrong_status"
    with acting(a.users["county_admin"]), pytest.raises(ValidationError) as again:
        workflow_services.enrollment_return(
            actor=a.users["county_admin"], enrollment=first, reason="再退"
        )
    assert code_of(again) == "wrong_status"


def test_the_county_returns_a_reviewed_application_the_township_cannot(a, program, clock):
    enrollment = in_notice(a, program, clock)
    clock.day = D(2026, 3, 10)
    review(a, "township_staff", enrollment)
    enrollment = fresh(enrollment, a)
    with acting(a.users["township_staff"]), pytest.raises(PermissionDenied):
        workflow_services.enrollment_return(
            actor=a.users["township_staff"], enrollment=enrollment, reason="x"
        )
    with acting(a.users["county_admin"]):
        workflow_services.enrollment_return(
            actor=a.users["county_admin"], enrollment=enrollment, reason="资金来源待核实"
        )
    enrollment = fresh(enrollment, a)
    assert (enrollment.status, enrollment.return_reason) == ("rejected", "资金来源待核实")


def test_illegal_transitions_are_refused_in_words(a, program, clock):
    admin = a.users["county_admin"]
    enrollment = applied(a, program, a.persons[0])
    with acting(admin):
        with pytest.raises(ValidationError) as approve:
            workflow_services.enrollment_approve(actor=admin, enrollment=enrollment)
        assert code_of(approve) == "wrong_status"
        assert "只有已审核的申报可以审批" in approve.value.messages[0]
        with pytest.raises(ValidationError) as exit_:
            workflow_services.enrollment_exit(actor=admin, enrollment=enrollment, reason="迁出")
        assert code_of(exit_) == "wrong_status"
    publish(a, a.users["village_secretary"], program, a.villages[0], clock)
    enrollment = fresh(enrollment, a)
    clock.day = D(2026, 3, 10)
    review(a, "county_admin", enrollment)
    with pytest.raises(ValidationError) as twice:
        review(a, "county_admin", fresh(enrollment, a))
    assert code_of(twice) == "wrong_status"
    with acting(admin):
        with pytest.raises(ValidationError) as early:
            workflow_services.enrollment_approve(
                actor=admin, enrollment=fresh(enrollment, a), enrolled_on=D(2026, 3, 1)
            )
        assert (code_of(early), field_of(early)) == ("before_application", "enrolled_on")
        with pytest.raises(ValidationError) as future:
            workflow_services.enrollment_approve(
                actor=admin, enrollment=fresh(enrollment, a), enrolled_on=D(2026, 3, 11)
            )
        assert code_of(future) == "future_date"
        workflow_services.enrollment_approve(
            actor=admin, enrollment=fresh(enrollment, a), enrolled_on=D(2026, 3, 10)
        )
        with pytest.raises(ValidationError) as before:
            workflow_services.enrollment_exit(
                actor=admin, enrollment=fresh(enrollment, a), reason="迁出", exited_on=D(2026, 3, 9)
            )
        assert (code_of(before), field_of(before)) == ("before_enrolment", "exited_on")
    assert fresh(enrollment, a).status == "enrolled"


# --- who may act ------------------------------------------------------------------------------


def _attempts(a, enrollment, objection):
    """Every step as a callable taking the actor."""
    return {
        "notice": lambda u: notice_services.notice_publish(
            actor=u, program=enrollment.program, node=a.villages[0], objection_contact=CONTACT
        ),
        "objection": lambda u: notice_services.objection_record(
            actor=u, enrollment=enrollment, content="x"
        ),
        "resolve": lambda u: notice_services.objection_resolve(
            actor=u, objection=objection, upheld=False, resolution="x"
        ),
        "review": lambda u: workflow_services.enrollment_review(actor=u, enrollment=enrollment),
        "return": lambda u: workflow_services.enrollment_return(
            actor=u, enrollment=enrollment, reason="x"
        ),
        "approve": lambda u: workflow_services.enrollment_approve(actor=u, enrollment=enrollment),
        "exit": lambda u: workflow_services.enrollment_exit(
            actor=u, enrollment=enrollment, reason="x"
        ),
    }


FORBIDDEN = {
    "county_viewer": {"notice", "objection", "resolve", "review", "return", "approve", "exit"},
    "group_leader": {"notice", "objection", "resolve", "review", "return", "approve", "exit"},
    "village_secretary": {"resolve", "review", "return", "approve", "exit"},
    "township_staff": {"approve", "exit"},
    "county_admin": set(),
}


@pytest.mark.parametrize("role", sorted(FORBIDDEN))
def test_who_may_take_each_step(a, program, clock, role):
    """403 for the steps a role may not take; the others pass the permission check (and then
    meet the workflow's own rules, a ValidationError here, or succeed)."""
    enrollment = in_notice(a, program, clock)
    clock.day = D(2026, 3, 4)
    objection = record(a, "village_secretary", enrollment, content="有异议")
    user = a.users[role]
    for step, attempt in _attempts(a, fresh(enrollment, a), objection).items():
        with acting(user), transaction.atomic():
            try:
                attempt(user)
            except PermissionDenied:
                outcome = "forbidden"
            except ValidationError:
                outcome = "allowed"
            else:
                outcome = "allowed"
            transaction.set_rollback(True)
        assert (step, outcome) == (step, "forbidden" if step in FORBIDDEN[role] else "allowed")


@pytest.mark.parametrize("key", ["township_staff_sibling", "village_secretary_sibling"])
def test_a_sibling_subtree_does_not_see_the_enrolment(a, program, clock, key):
    enrollment = in_notice(a, program, clock)
    user = a.users[key]
    with acting(user):
        with pytest.raises(Http404):
            workflow_selectors.enrollment_get(actor=user, pk=enrollment.pk)
        with pytest.raises(Enrollment.DoesNotExist):
            workflow_services.enrollment_review(actor=user, enrollment=enrollment)


# --- notices ----------------------------------------------------------------------------------


def test_a_village_notice_lists_its_applied_ones_a_township_notice_its_villages(a, program, clock):
    head, spouse = applied(a, program, a.persons[0]), applied(a, program, a.persons[1])
    other_village = applied(a, program, a.persons[2])
    other_programme = applied(a, make_program(a, name="特别扶助(流程测试)"), a.persons[0])
    notice = publish(a, a.users["village_secretary"], program, a.villages[0], clock)
    with a.scope():
        listed = set(notice.enrollments.values_list("pk", flat=True))
    assert listed == {head.pk, spouse.pk}
    assert fresh(other_village, a).status == "applied"
    assert fresh(other_programme, a).status == "applied"
    township = a.townships[0]
    second = publish(a, a.users["township_staff"], program, township, clock)
    assert (second.township_id, second.village_id) == (township.pk, None)
    assert second.title == f"{township.name} {program.name} 公示"
    assert fresh(other_village, a).notice_id == second.pk
    with pytest.raises(ValidationError) as nothing:
        publish(a, a.users["township_staff"], program, township, clock)
    assert code_of(nothing) == "nothing_to_notice"


def test_a_notice_refuses_what_it_cannot_list(a, program, clock):
    secretary = a.users["village_secretary"]
    mine = applied(a, program, a.persons[0])
    elsewhere = applied(a, program, a.persons[2])
    with pytest.raises(ValidationError) as outside:
        publish(a, secretary, program, a.villages[0], clock, enrollments=[mine, elsewhere])
    assert code_of(outside) == "not_postable"
    assert field_of(outside) == "enrollments"
    assert fresh(mine, a).status == "applied"  # nothing half-posted
    with pytest.raises(ValidationError) as early:
        publish(a, secretary, program, a.villages[0], clock, on=D(2026, 3, 1))
    assert (code_of(early), field_of(early)) == ("notice_before_application", "starts_on")
    with pytest.raises(ValidationError) as group:
        publish(a, secretary, program, a.groups[0], clock)
    assert (code_of(group), field_of(group)) == ("notice_node_level", "node")
    with pytest.raises(ValidationError) as contact, acting(secretary):
        notice_services.notice_publish(
            actor=secretary, program=program, node=a.villages[0], objection_contact=" "
        )
    assert (code_of(contact), field_of(contact)) == ("required", "objection_contact")
    with a.scope():
        assert not PublicNotice.objects.filter(program=program).exists()


def test_a_form_sent_twice_acts_once(a, program, clock):
    applied(a, program, a.persons[0])
    token = uuid.uuid4()
    secretary = a.users["village_secretary"]
    first = publish(a, secretary, program, a.villages[0], clock, form_token=token)
    again = publish(a, secretary, program, a.villages[0], clock, form_token=token)
    assert (again.pk, getattr(again, "replayed", False)) == (first.pk, True)
    with a.scope():
        enrollment = Enrollment.objects.get(notice=first)
    clock.day = D(2026, 3, 10)
    token = uuid.uuid4()
    review(a, "township_staff", enrollment, form_token=token)
    replay = review(a, "township_staff", fresh(enrollment, a), form_token=token)
    assert replay.replayed and replay.status == "reviewed"
    with a.scope():
        assert EnrollmentEvent.objects.filter(enrollment=enrollment, action="review").count() == 1


def test_a_returned_application_may_be_made_again(a, program, clock):
    enrollment = in_notice(a, program, clock)
    with acting(a.users["township_staff"]):
        workflow_services.enrollment_return(
            actor=a.users["township_staff"], enrollment=enrollment, reason="材料不全"
        )
    with a.scope():
        base = Enrollment.objects.filter(program=program)
        assert list(workflow_selectors.returned_open(base)) == [fresh(enrollment, a)]
    again = applied(a, program, a.persons[0], applied_on=D(2026, 3, 20))
    with a.scope():
        assert (
            list(workflow_selectors.returned_open(Enrollment.objects.filter(program=program))) == []
        )
        assert fresh(again, a).status == "applied"
    with pytest.raises(IntegrityError), transaction.atomic():
        applied(a, program, a.persons[0], applied_on=D(2026, 3, 21))  # one live at a time


def test_stages_list_what_waits_for_whom(a, program, clock):
    quiet = in_notice(a, program, clock, person_index=0)
    objected = fresh(applied(a, program, a.persons[2]), a)
    publish(a, a.users["township_staff"], program, a.townships[0], clock)
    clock.day = D(2026, 3, 5)
    record(a, "township_staff", fresh(objected, a), content="有异议")
    grant = make_program(a, name="金秋助学(流程测试)", needs_notice=False)
    no_notice = applied(a, grant, a.persons[4])
    with a.scope():
        base = Enrollment.objects.filter(program__in=[program, grant])
        ids = lambda qs: sorted(qs.values_list("pk", flat=True))  # noqa: E731
        assert ids(workflow_selectors.ready_for_review(base, on=ENDS)) == [no_notice.pk]
        after = workflow_selectors.ready_for_review(base, on=ENDS + datetime.timedelta(days=1))
        assert ids(after) == sorted([quiet.pk, no_notice.pk])
        assert ids(workflow_selectors.with_open_objections(base)) == [objected.pk]
        assert ids(workflow_selectors.to_notice(base)) == []
