"""A locked period refuses changes to the records it counted: activities and home visits
dated in it, memberships joining or leaving in it — in the services (a Chinese error on the
date field), on the pages (a form error), in the API (400) and in the database (a trigger);
reopening with a reason allows them again. And completeness: the units frozen when the period
opened, never above 100%."""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from activities import services as activity_services
from activities.models import Activity, HomeVisit
from associations import period_locks
from associations import services as association_services
from associations.scope import Scope, activate
from members import services as member_services
from members.models import Member
from reports import periods_services, submissions
from reports.models import Submission

pytestmark = pytest.mark.django_db

IN_Q1 = datetime.date(2026, 2, 10)
AFTER_Q1 = datetime.date(2026, 4, 2)
LOCKED = "2026年第一季度考核期已锁定"


@pytest.fixture
def a(world):
    return world.a


@pytest.fixture
def admin(a):
    return a.users["county_admin"]


def lock(a, admin):
    with a.scope():
        return periods_services.period_lock(actor=admin, period=a.periods[0])


def activity(a, admin, day):
    return activity_services.activity_create(
        actor=admin, association=a.groups[0], kind="publicity", date=day
    )


def test_locked_quarter_refuses_activities_in_it_and_reopening_allows_them(a, admin):
    with a.scope():
        before_lock = activity(a, admin, IN_Q1)
    lock(a, admin)
    with a.scope():
        with pytest.raises(ValidationError, match=LOCKED) as caught:
            activity(a, admin, IN_Q1)
        assert caught.value.message_dict.keys() == {"date"}
        activity(a, admin, AFTER_Q1)  # the next quarter is not locked
        with pytest.raises(ValidationError, match=LOCKED):
            activity_services.activity_update(actor=admin, activity=before_lock, title="改")
        moved = activity(a, admin, AFTER_Q1)
        with pytest.raises(ValidationError, match=LOCKED):  # moving one into the quarter
            activity_services.activity_update(actor=admin, activity=moved, date=IN_Q1)
        with pytest.raises(ValidationError, match=LOCKED):
            activity_services.activity_delete(actor=admin, activity=before_lock)
        periods_services.period_reopen(actor=admin, period=a.periods[0], reason="补录二月活动")
        activity(a, admin, IN_Q1)
        activity_services.activity_delete(actor=admin, activity=before_lock)


def test_the_database_refuses_them_too(a, admin):
    with a.scope():
        row = activity(a, admin, IN_Q1)
    lock(a, admin)
    with a.scope():
        with pytest.raises(IntegrityError), transaction.atomic():
            Activity.objects.filter(pk=row.pk).update(title="绕过服务")
        with pytest.raises(IntegrityError), transaction.atomic():
            Activity.objects.filter(pk=row.pk).delete()
        # redistricting rewrites only the ancestor keys: allowed
        Activity.objects.filter(pk=row.pk).update(township_id=row.township_id)
        visit = HomeVisit.objects.filter(village=a.villages[2]).first()
        HomeVisit.objects.filter(pk=visit.pk).update(notes="2023年的走访")  # not locked
        with pytest.raises(IntegrityError), transaction.atomic():  # moved into the quarter
            HomeVisit.objects.filter(pk=visit.pk).update(visited_on=IN_Q1)
        member = Member.objects.get(pk=a.members[1].pk)
        with pytest.raises(IntegrityError), transaction.atomic():
            Member.objects.filter(pk=member.pk).update(joined_on=IN_Q1)
        Member.objects.filter(pk=member.pk).update(is_backbone=True)  # no date of the quarter


def test_page_shows_a_form_error_and_the_api_answers_400(client, a, admin):
    lock(a, admin)
    client.force_login(admin)
    response = client.post(
        reverse("activity-create", args=[a.groups[0].pk]),
        {"kind": "publicity", "date": IN_Q1.isoformat(), "form_token": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert LOCKED in response.content.decode()
    api = APIClient()
    api.force_authenticate(admin)
    response = api.post(
        "/api/v1/activities/", {"kind": "publicity", "date": IN_Q1.isoformat()}, format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert [e["code"] for e in body["fields"]["date"]] == ["period_locked"]


def test_home_visits_in_a_locked_quarter(a, admin):
    member, household = a.members[1], a.households[1]
    with a.scope():
        visit = activity_services.visit_record(
            actor=admin, visitor=member, household=household, visited_on=IN_Q1, purpose="policy"
        )
    lock(a, admin)
    with a.scope():
        with pytest.raises(ValidationError, match=LOCKED):
            activity_services.visit_record(
                actor=admin,
                visitor=member,
                household=household,
                visited_on=IN_Q1,
                purpose="policy",
            )
        with pytest.raises(ValidationError, match=LOCKED):
            activity_services.visit_update(actor=admin, visit=visit, notes="改")
        with pytest.raises(ValidationError, match=LOCKED):
            activity_services.visit_delete(actor=admin, visit=visit)
        activity_services.visit_record(
            actor=admin, visitor=member, household=household, visited_on=AFTER_Q1, purpose="policy"
        )


def test_memberships_joining_or_leaving_in_a_locked_quarter(a, admin):
    lock(a, admin)
    member = a.members[1]  # joined 2020-05-29
    with a.scope():
        person = a.persons[3]  # the spouse of the second household, not a member
        with pytest.raises(ValidationError, match=LOCKED):
            member_services.member_register(
                actor=admin, person=person, association=a.villages[1], joined_on=IN_Q1
            )
        with pytest.raises(ValidationError, match=LOCKED):
            member_services.member_leave(
                actor=admin, member=member, left_on=IN_Q1, reason="moved_out"
            )
        with pytest.raises(ValidationError, match=LOCKED):
            member_services.member_update(actor=admin, member=member, joined_on=IN_Q1)
        # a change that touches no date of the quarter is allowed
        member.refresh_from_db()
        member_services.member_update(actor=admin, member=member, is_backbone=True)
        member_services.member_register(
            actor=admin, person=person, association=a.villages[1], joined_on=AFTER_Q1
        )


def test_the_check_says_nothing_outside_locked_periods(world, a, admin):
    with a.scope():
        assert period_locks.locked_period_label(a.county.pk, IN_Q1) is None
    lock(a, admin)
    with a.scope():
        assert period_locks.locked_period_label(a.county.pk, IN_Q1) == "2026年第一季度"
        assert period_locks.locked_period_label(a.county.pk, AFTER_Q1) is None
        assert period_locks.locked_period_label(a.county.pk, datetime.date(2026, 3, 31))
    with world.b.scope():  # another county's lock is not this county's
        assert period_locks.locked_period_label(world.b.county.pk, IN_Q1) is None


# --- completeness ---------------------------------------------------------------------------


def test_completeness_counts_the_frozen_units_never_above_100_percent(a, admin):
    village_user = a.users["village_secretary"]
    with a.scope():
        # a village added after opening is not expected; one moved keeps its frozen township
        association_services.association_create(
            actor=admin, parent=a.townships[0], name="新建村", division_code="130534100299"
        )
        association_services.association_move(
            actor=admin, association=a.villages[1], new_parent=a.townships[1]
        )
        submission = Submission.objects.get(period=a.periods[0], village=a.villages[0])
    with activate(Scope.for_node(a.villages[0])):
        submissions.submission_submit(actor=village_user, submission=submission)
    with a.scope():
        total, townships = periods_services.completeness(period=a.periods[0])
    assert (total.expected, total.submitted, total.missing) == (4, 1, 3)
    assert total.submitted_share == "25.0%"
    assert [(t.name, t.expected, t.submitted) for t in townships] == [
        (a.townships[0].name, 2, 1),
        (a.townships[1].name, 2, 0),
    ]
    assert all(t.submitted <= t.expected for t in [total, *townships])


def test_photos_of_an_activity_in_a_locked_quarter(a, admin):
    from tests import attachment_samples as samples

    with a.scope():
        row = activity(a, admin, IN_Q1)
    lock(a, admin)
    upload = samples.upload("活动照片.png", samples.png(size=(8, 8), color=(10, 20, 30)))
    with a.scope(), pytest.raises(ValidationError, match=LOCKED):
        activity_services.activity_attachment_add(actor=admin, activity=row, upload=upload)


def test_the_activity_page_refuses_photos_in_a_locked_quarter_in_chinese(client, a, admin):
    """The page's upload and delete go through the same rules as the service: a locked
    quarter refuses both with the Chinese message on the activity's page, never a 500."""
    from activities.models import ActivityAttachment
    from tests import attachment_samples as samples

    with a.scope():
        row = activity(a, admin, IN_Q1)
        photo = activity_services.activity_attachment_add(
            actor=admin,
            activity=row,
            upload=samples.upload("锁定前.png", samples.png(size=(8, 8), color=(1, 2, 3))),
        )
    lock(a, admin)
    client.force_login(admin)
    upload = samples.upload("活动照片.png", samples.png(size=(8, 8), color=(10, 20, 30)))
    response = client.post(
        reverse("activity-attachment-upload", args=[row.pk]), {"file": upload}, follow=True
    )
    assert LOCKED in response.content.decode()
    response = client.post(reverse("activity-attachment-delete", args=[photo.pk]), follow=True)
    assert response.status_code == 200 and LOCKED in response.content.decode()
    with a.scope():
        names = list(ActivityAttachment.objects.filter(activity=row).values_list("name", flat=True))
    assert names == ["锁定前.png"]


def test_a_roster_import_refuses_rows_joining_in_a_locked_quarter(world, a, admin):
    from tests.members.test_import import only_problem, person_row, run

    lock(a, admin)
    outcome = run(world, [person_row(1, **{"入会日期": "2026-02-10"})])
    problem = only_problem(outcome)
    assert (problem.column, problem.field) == ("入会日期", "joined_on")
    assert LOCKED in problem.message
    assert run(world, [person_row(2, **{"入会日期": "2026-04-02"})]).problems == []
