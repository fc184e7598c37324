import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from activities import catalogues, selectors, services
from activities.models import Activity, Attendance, HomeVisit, MaterialHandout
from activities.periods import Period
from associations import services as association_services
from associations.models import ChangeRecord
from associations.scope import Scope, activate
from members import services as member_services

pytestmark = pytest.mark.django_db
D = datetime.date


def codes(error, field):
    return {e.code for e in error.error_dict.get(field, [])}


@pytest.fixture
def a(world):
    with activate(Scope.for_node(world.a.county)):
        yield world.a


def second_member(a, group_index=1):
    """The spouse in village 0's household, registered in the village's second group."""
    return member_services.member_register(
        actor=a.users["county_admin"],
        person=a.persons[1],
        association=a.villages[0],
        group=a.groups[group_index],
        joined_on=D(2020, 1, 1),
    )


def as_user(a, key):
    user = a.users[key]
    return user, activate(Scope.for_node(user.node))


class TestActivityPermissions:
    def test_group_leader_records_an_activity_of_their_own_group(self, a):
        user, scope = as_user(a, "group_leader")
        with scope:
            activity = services.activity_create(
                actor=user,
                association=a.groups[0],
                kind="meeting",
                meeting_type="group_meeting",
                date=D(2025, 3, 5),
                attendees=[a.members[0]],
            )
        assert (activity.village_id, activity.group_id) == (a.villages[0].pk, a.groups[0].pk)
        assert ChangeRecord.objects.filter(
            object_type="activities.Activity", object_id=activity.pk, action="create"
        ).exists()
        attendance = activity.attendances.get()  # the world's activities have records too
        assert (
            ChangeRecord.objects.filter(
                object_type="activities.Attendance", object_id=attendance.pk
            ).count()
            == 1
        )

    @pytest.mark.parametrize("node", ["sibling_group", "village"])
    def test_group_leader_cannot_write_outside_their_group(self, a, node):
        target = a.groups[1] if node == "sibling_group" else a.villages[0]
        with pytest.raises(PermissionDenied):
            services.activity_create(
                actor=a.users["group_leader"],
                association=target,
                kind="publicity",
                date=D(2025, 3, 5),
            )

    def test_county_viewer_reads_only(self, a):
        with pytest.raises(PermissionDenied):
            services.activity_create(
                actor=a.users["county_viewer"],
                association=a.county,
                kind="publicity",
                date=D(2025, 3, 5),
            )

    def test_township_staff_write_at_and_below_their_node_only(self, a):
        staff = a.users["township_staff"]
        services.activity_create(
            actor=staff, association=a.townships[0], kind="training", date=D(2025, 3, 5)
        )
        services.activity_create(
            actor=staff, association=a.groups[1], kind="publicity", date=D(2025, 3, 5)
        )
        with pytest.raises(PermissionDenied):
            services.activity_create(
                actor=staff, association=a.villages[2], kind="publicity", date=D(2025, 3, 5)
            )

    def test_group_leader_cannot_edit_or_delete_a_village_activity(self, a):
        activity = services.activity_create(
            actor=a.users["village_secretary"],
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 3, 5),
        )
        with pytest.raises(PermissionDenied):
            services.activity_update(actor=a.users["group_leader"], activity=activity, place="x")
        with pytest.raises(PermissionDenied):
            services.activity_delete(actor=a.users["group_leader"], activity=activity)


class TestActivityChecks:
    def create(self, a, **fields):
        fields.setdefault("association", a.villages[0])
        fields.setdefault("kind", "publicity")
        fields.setdefault("date", D(2025, 5, 29))
        return services.activity_create(actor=a.users["village_secretary"], **fields)

    def test_a_date_in_the_future_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            self.create(a, date=datetime.date.today() + datetime.timedelta(days=1))
        assert codes(caught.value, "date") == {"future_date"}
        assert "晚于今天" in caught.value.error_dict["date"][0].message

    def test_an_end_before_the_start_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            self.create(a, end_date=D(2025, 5, 28))
        assert codes(caught.value, "end_date") == {"ends_before_start"}

    def test_the_database_refuses_an_end_before_the_start(self, a):
        activity = Activity(
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
            end_date=D(2025, 5, 1),
        )
        activity.place_under(a.villages[0])
        with (
            pytest.raises(IntegrityError, match="activity_end_not_before_start"),
            transaction.atomic(),
        ):
            activity.save()

    def test_a_campaign_runs_over_days(self, a):
        activity = self.create(a, date=D(2025, 5, 1), end_date=D(2025, 5, 31), title="红五月")
        assert activity.end_date == D(2025, 5, 31)

    def test_a_meeting_needs_its_type_and_only_a_meeting_has_one(self, a):
        with pytest.raises(ValidationError) as caught:
            self.create(a, kind="meeting")
        assert codes(caught.value, "meeting_type") == {"required"}
        with pytest.raises(ValidationError) as caught:
            self.create(a, kind="publicity", meeting_type="council")
        assert codes(caught.value, "meeting_type") == {"not_a_meeting"}
        with pytest.raises(ValidationError) as caught:
            self.create(a, kind="service")
        assert codes(caught.value, "service_type") == {"required"}

    def test_a_member_outside_the_activity_subtree_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            services.activity_create(
                actor=a.users["county_admin"],
                association=a.groups[0],
                kind="publicity",
                date=D(2025, 5, 29),
                attendees=[a.members[1]],  # a member of village 1
            )
        assert codes(caught.value, "attendees") == {"member_elsewhere"}
        assert "不能登记" in caught.value.error_dict["attendees"][0].message

    def test_a_member_who_had_not_joined_yet_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            self.create(a, date=D(2019, 5, 29), attendees=[a.members[0]])  # joined 2020
        assert codes(caught.value, "attendees") == {"member_not_active"}

    def test_theme_and_themed_day_from_the_county_catalogue(self, a):
        theme = next(t for t in catalogues.themes(county_id=a.county.pk) if t.name == "关爱女孩")
        day = next(d for d in catalogues.themed_days(county_id=a.county.pk) if d.month == 5)
        activity = self.create(a, theme=theme, themed_day=day)
        assert (activity.theme.name, str(activity.themed_day)) == ("关爱女孩", "5.29 会员活动日")

    def test_a_theme_of_another_county_is_refused(self, a, world):
        with activate(Scope.for_node(world.b.county)):
            theme = catalogues.themes(county_id=world.b.county.pk)[0]
        with pytest.raises(ValidationError) as caught:
            self.create(a, theme=theme)
        assert codes(caught.value, "theme") == {"other_county"}

    def test_external_ref_is_unique_in_the_county(self, a):
        self.create(a, external_ref="PROV-1")
        with pytest.raises(ValidationError) as caught:
            self.create(a, external_ref="PROV-1")
        assert codes(caught.value, "external_ref") == {"taken"}
        self.create(a, external_ref="")
        self.create(a, external_ref="")  # unset references never clash


class TestAttendance:
    def test_one_attendance_row_per_member_is_a_database_constraint(self, a):
        activity = services.activity_create(
            actor=a.users["county_admin"],
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
            attendees=[a.members[0]],
        )
        again = Attendance(activity=activity, member=a.members[0])
        again.place_under(a.villages[0])
        with (
            pytest.raises(IntegrityError, match="attendance_once_per_member"),
            transaction.atomic(),
        ):
            again.save()

    def test_the_whole_group_and_a_replaced_list(self, a):
        spouse = second_member(a, group_index=0)
        activity = services.activity_create(
            actor=a.users["village_secretary"],
            association=a.villages[0],
            kind="meeting",
            meeting_type="council",
            date=D(2025, 5, 29),
            whole_groups=[a.groups[0]],
        )
        assert set(activity.attendances.values_list("member_id", flat=True)) == {
            a.members[0].pk,
            spouse.pk,
        }
        assert (
            services.attendance_add_group(
                actor=a.users["village_secretary"], activity=activity, group=a.groups[0]
            )
            == 0
        )
        services.attendance_set(
            actor=a.users["village_secretary"], activity=activity, members=[spouse]
        )
        assert list(activity.attendances.values_list("member_id", flat=True)) == [spouse.pk]
        assert (
            ChangeRecord.objects.filter(
                object_type="activities.Attendance", action="delete"
            ).count()
            == 1
        )

    def test_the_whole_group_leaves_out_members_who_left_before_the_day(self, a):
        spouse = second_member(a, group_index=0)
        member_services.member_leave(
            actor=a.users["county_admin"], member=spouse, left_on=D(2025, 1, 1), reason="moved_out"
        )
        activity = services.activity_create(
            actor=a.users["group_leader"],
            association=a.groups[0],
            kind="publicity",
            date=D(2025, 5, 29),
            whole_groups=[a.groups[0]],
        )
        assert list(activity.attendances.values_list("member_id", flat=True)) == [a.members[0].pk]

    def test_a_group_outside_the_activity_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            services.activity_create(
                actor=a.users["group_leader"],
                association=a.groups[0],
                kind="publicity",
                date=D(2025, 5, 29),
                whole_groups=[a.groups[1]],
            )
        assert codes(caught.value, "whole_groups") == {"group_elsewhere"}


class TestMaterials:
    def test_handouts_are_set_changed_removed_and_totalled(self, a):
        stock = {(m.name, m.unit): m for m in catalogues.materials(county_id=a.county.pk)}
        leaflets, banners = stock[("宣传资料", "份")], stock[("横幅", "幅")]
        secretary = a.users["village_secretary"]
        first = services.activity_create(
            actor=secretary,
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
            materials={leaflets: 800, banners: 3},
        )
        services.activity_create(
            actor=secretary,
            association=a.groups[1],
            kind="publicity",
            date=D(2025, 6, 2),
            materials={leaflets: 100},
        )
        services.handouts_set(
            actor=secretary, activity=first, materials={leaflets: 500, banners: 0}
        )
        assert list(first.handouts.values_list("material__name", "quantity")) == [("宣传资料", 500)]
        totals = selectors.material_totals(node=a.villages[0], period=Period.year(2025))
        assert [(t["name"], t["unit"], t["total"]) for t in totals] == [("宣传资料", "份", 600)]
        actions = ChangeRecord.objects.filter(object_type="activities.MaterialHandout")
        assert sorted(actions.values_list("action", flat=True)) == [
            "create",
            "create",
            "create",
            "delete",
            "update",
        ]

    def test_quantity_must_be_positive_in_the_database(self, a):
        activity = services.activity_create(
            actor=a.users["county_admin"],
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
        )
        material = catalogues.materials(county_id=a.county.pk)[0]
        row = MaterialHandout(activity=activity, material=material, quantity=0)
        row.place_under(a.villages[0])
        with pytest.raises(IntegrityError, match="handout_quantity_positive"), transaction.atomic():
            row.save()

    def test_delete_removes_and_records_everything(self, a):
        material = catalogues.materials(county_id=a.county.pk)[0]
        activity = services.activity_create(
            actor=a.users["county_admin"],
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
            attendees=[a.members[0]],
            materials={material: 10},
        )
        pk = activity.pk
        services.activity_delete(actor=a.users["village_secretary"], activity=activity)
        assert not Activity.objects.filter(pk=pk).exists()
        assert not Attendance.objects.filter(activity_id=pk).exists()
        deleted = ChangeRecord.objects.filter(action="delete").values_list("object_type", flat=True)
        assert sorted(deleted) == [
            "activities.Activity",
            "activities.Attendance",
            "activities.MaterialHandout",
        ]


class TestHomeVisits:
    def test_a_leader_records_a_visit_to_a_household_of_the_village(self, a):
        user, scope = as_user(a, "group_leader")
        with scope:
            visit = services.visit_record(
                actor=user,
                visitor=a.members[0],
                household=a.households[0],
                visited_on=D(2025, 3, 1),
                purpose="policy",
                notes="宣传新政策",
            )
        assert visit.group_id == a.groups[0].pk and visit.pairing is None
        recorded = ChangeRecord.objects.filter(
            object_type="activities.HomeVisit", object_id=visit.pk
        )
        assert recorded.count() == 1

    def test_a_household_of_another_village_is_refused(self, a):
        with pytest.raises(ValidationError) as caught:
            services.visit_record(
                actor=a.users["county_admin"],
                visitor=a.members[0],
                household=a.households[1],
                visited_on=D(2025, 3, 1),
                purpose="policy",
            )
        assert codes(caught.value, "household") == {"household_elsewhere"}
        assert "只能走访本村" in caught.value.error_dict["household"][0].message

    def test_a_leader_cannot_record_visits_of_another_groups_member(self, a):
        other = second_member(a, group_index=1)
        with pytest.raises(PermissionDenied):
            services.visit_record(
                actor=a.users["group_leader"],
                visitor=other,
                household=a.households[0],
                visited_on=D(2025, 3, 1),
                purpose="policy",
            )
        services.visit_record(
            actor=a.users["village_secretary"],
            visitor=other,
            household=a.households[0],
            visited_on=D(2025, 3, 1),
            purpose="policy",
        )

    def test_future_dates_and_follow_up_rules(self, a):
        admin = a.users["county_admin"]
        base = dict(actor=admin, visitor=a.members[0], household=a.households[0], purpose="other")
        with pytest.raises(ValidationError) as caught:
            services.visit_record(**base, visited_on=datetime.date.today() + datetime.timedelta(1))
        assert codes(caught.value, "visited_on") == {"future_date"}
        with pytest.raises(ValidationError) as caught:
            services.visit_record(**base, visited_on=D(2025, 3, 1), follow_up_done_on=D(2025, 3, 2))
        assert codes(caught.value, "follow_up_done_on") == {"no_follow_up"}
        visit = services.visit_record(**base, visited_on=D(2025, 3, 1), follow_up_needed=True)
        with pytest.raises(ValidationError) as caught:
            services.visit_update(actor=admin, visit=visit, follow_up_done_on=D(2025, 2, 1))
        assert codes(caught.value, "follow_up_done_on") == {"done_before_visit"}
        services.visit_update(actor=admin, visit=visit, follow_up_done_on=D(2025, 3, 9))
        visit.refresh_from_db()
        assert visit.follow_up_done_on == D(2025, 3, 9)
        assert ChangeRecord.objects.filter(
            object_type="activities.HomeVisit", action="update"
        ).exists()

    def test_a_visit_to_a_paired_household_is_linked_to_the_pairing(self, a):
        # village 1's head is paired with their household from today (tests/conftest.py)
        visit = services.visit_record(
            actor=a.users["village_secretary_sibling"],
            visitor=a.members[1],
            household=a.households[1],
            visited_on=datetime.date.today(),
            purpose="hardship_help",
        )
        assert visit.pairing is not None and visit.pairing.household_id == a.households[1].pk
        services.visit_update(actor=a.users["county_admin"], visit=visit, visited_on=D(2025, 1, 1))
        visit.refresh_from_db()
        assert visit.pairing is None  # the pairing had not started then

    def test_lists_by_household_and_visitor(self, a):
        admin = a.users["county_admin"]
        services.visit_record(
            actor=admin,
            visitor=a.members[0],
            household=a.households[0],
            visited_on=D(2025, 3, 1),
            purpose="policy",
        )
        assert selectors.visit_list(actor=admin, household_id=a.households[0].pk).count() == 1
        assert selectors.visit_list(actor=admin, visitor_id=a.members[1].pk).count() == 0

    def test_a_sibling_village_does_not_see_the_visit(self, a):
        visit = services.visit_record(
            actor=a.users["county_admin"],
            visitor=a.members[0],
            household=a.households[0],
            visited_on=D(2025, 3, 1),
            purpose="policy",
        )
        with activate(Scope.for_node(a.villages[1])):
            assert not HomeVisit.objects.filter(pk=visit.pk).exists()
        with activate(Scope.for_node(a.villages[0])):
            assert HomeVisit.objects.filter(pk=visit.pk).exists()


class TestRetiredChoices:
    def test_a_retired_theme_or_material_is_not_chosen_anew_but_stays_where_it_is(self, a):
        admin = a.users["county_admin"]
        theme = catalogues.themes(county_id=a.county.pk)[0]
        material = catalogues.materials(county_id=a.county.pk)[0]
        activity = services.activity_create(
            actor=admin,
            association=a.villages[0],
            kind="publicity",
            date=D(2025, 5, 29),
            theme=theme,
            materials={material: 5},
        )
        catalogues.theme_update(actor=admin, theme=theme, is_active=False)
        catalogues.material_update(actor=admin, material=material, is_active=False)
        services.activity_update(
            actor=admin, activity=activity, place="村委会", materials={material: 6}
        )
        with pytest.raises(ValidationError) as caught:
            services.activity_create(
                actor=admin,
                association=a.villages[0],
                kind="publicity",
                date=D(2025, 5, 30),
                theme=theme,
            )
        assert codes(caught.value, "theme") == {"retired"}
        with pytest.raises(ValidationError) as caught:
            services.activity_create(
                actor=admin,
                association=a.villages[0],
                kind="publicity",
                date=D(2025, 5, 30),
                materials={material: 1},
            )
        assert codes(caught.value, "materials") == {"retired"}


def test_redistricting_moves_a_groups_activities_attendees_and_visits(a):
    admin = a.users["county_admin"]
    member = second_member(a, group_index=1)
    activity = services.activity_create(
        actor=admin,
        association=a.groups[1],
        kind="meeting",
        meeting_type="group_meeting",
        date=D(2025, 3, 3),
        attendees=[member],
    )
    visit = services.visit_record(
        actor=admin,
        visitor=member,
        household=a.households[0],
        visited_on=D(2025, 3, 4),
        purpose="policy",
    )
    association_services.association_move(
        actor=admin,
        association=a.groups[1],
        new_parent=a.villages[1],
        new_division_code=f"{a.villages[1].division_code}009",
    )
    moved = a.villages[1].pk
    assert Activity.objects.get(pk=activity.pk).village_id == moved
    assert Attendance.objects.get(activity=activity).village_id == moved
    assert HomeVisit.objects.get(pk=visit.pk).village_id == moved
