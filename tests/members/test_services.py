import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from associations.models import ChangeRecord, CouncilSeat
from associations.scope import Scope, activate
from households import services as household_services
from households.models import Person
from members import selectors, services
from members.models import GroupRole, Member, SeatHolder

pytestmark = pytest.mark.django_db
D = datetime.date


def codes(error, field):
    return {e.code for e in error.error_dict.get(field, [])}


@pytest.fixture
def village(world):
    with activate(Scope.for_node(world.a.villages[0])):
        yield world.a


def spouse(world_a, index=0):
    return world_a.persons[2 * index + 1]


def register(world_a, person, **fields):
    fields.setdefault("association", world_a.villages[0])
    return services.member_register(
        actor=world_a.users["village_secretary"], person=person, **fields
    )


class TestJoinAndLeave:
    def test_join_gets_the_next_number_and_ancestor_keys(self, village):
        member = register(village, spouse(village), group=village.groups[1])
        assert member.member_number == "0002"
        assert (member.village_id, member.group_id) == (
            village.villages[0].pk,
            village.groups[1].pk,
        )
        assert ChangeRecord.objects.filter(object_id=member.pk, action="create").exists()

    def test_elder_kind_implies_the_elder_category(self, village):
        member = register(village, spouse(village), elder_kind="retired_worker")
        assert member.categories == ["elder"]

    def test_second_active_membership_anywhere_in_the_county_is_refused(self, world):
        a = world.a
        elsewhere = a.persons[2]  # head of village 1, a member there
        with activate(Scope.for_node(a.county)), pytest.raises(ValidationError) as caught:
            services.member_register(
                actor=a.users["county_admin"], person=elsewhere, association=a.villages[0]
            )
        message = caught.value.error_dict["person"][0].message
        assert codes(caught.value, "person") == {"already_member_elsewhere"}
        assert a.villages[1].name in message and "0001" in message

    def test_leave_keeps_history_and_rejoin_is_allowed(self, village):
        member = village.members[0]
        services.member_leave(
            actor=village.users["village_secretary"],
            member=member,
            left_on=D(2026, 6, 1),
            reason="moved_out",
        )
        member.refresh_from_db()
        assert (member.status, member.left_on, member.leave_reason) == (
            "left",
            D(2026, 6, 1),
            "moved_out",
        )
        again = register(village, member.person)
        assert again.pk != member.pk and again.status == "active"
        assert Member.objects.filter(person=member.person).count() == 2

    def test_leave_needs_a_reason_and_sane_date(self, village):
        member = village.members[0]
        secretary = village.users["village_secretary"]
        with pytest.raises(ValidationError) as caught:
            services.member_leave(actor=secretary, member=member, left_on=D(2026, 6, 1), reason="")
        assert codes(caught.value, "leave_reason") == {"required"}
        with pytest.raises(ValidationError) as caught:
            services.member_leave(
                actor=secretary, member=member, left_on=D(2019, 1, 1), reason="voluntary"
            )
        assert codes(caught.value, "left_on") == {"left_before_joined"}

    def test_leaving_before_a_current_role_began_is_refused_in_chinese(self, village):
        """The roles end the day the member leaves: a leave dated before the role began
        would end it before it started (the database refuses that, as a 500 before)."""
        member = village.members[0]
        secretary = village.users["village_secretary"]
        services.group_role_assign(
            actor=secretary, member=member, role="leader", starts_on=D(2026, 6, 10)
        )
        with pytest.raises(ValidationError) as caught:
            services.member_leave(
                actor=secretary, member=member, left_on=D(2026, 6, 1), reason="voluntary"
            )
        assert codes(caught.value, "left_on") == {"left_before_current_duty"}
        assert "2026-06-10" in caught.value.message_dict["left_on"][0]
        member.refresh_from_db()
        assert member.status == "active"
        services.member_leave(
            actor=secretary, member=member, left_on=D(2026, 6, 10), reason="voluntary"
        )
        assert GroupRole.objects.get(member=member).ends_on == D(2026, 6, 10)

    def test_deceased_person_cannot_join(self, village):
        person = household_services.person_create(
            actor=village.users["village_secretary"],
            village=village.villages[0],
            name="故人",
            sex="male",
            birth_date=D(1930, 1, 1),
            died_on=D(2020, 1, 1),
        )
        with pytest.raises(ValidationError) as caught:
            register(village, person)
        assert codes(caught.value, "person") == {"person_deceased"}

    def test_member_number_taken(self, village):
        with pytest.raises(ValidationError) as caught:
            register(village, spouse(village), member_number="0001")
        assert codes(caught.value, "member_number") == {"member_number_taken"}

    def test_group_leader_cannot_register(self, world):
        a = world.a
        with activate(Scope.for_node(a.groups[0])), pytest.raises(PermissionDenied):
            services.member_register(
                actor=a.users["group_leader"],
                person=a.persons[1],
                association=a.villages[0],
                group=a.groups[0],
            )


class TestGroupRoles:
    def test_leader_replaces_leader_and_contact_heads_are_capped(self, village):
        secretary = village.users["village_secretary"]
        group = village.groups[0]
        first = village.members[0]
        second = register(village, spouse(village), group=group)
        services.group_role_assign(
            actor=secretary, member=first, role="leader", starts_on=D(2024, 1, 1)
        )
        services.group_role_assign(
            actor=secretary, member=second, role="leader", starts_on=D(2026, 1, 1)
        )
        sheet = selectors.group_sheet(group=group)
        assert sheet.leader.member == second
        assert GroupRole.objects.get(member=first).ends_on == D(2026, 1, 1)
        extra = [
            register(
                village,
                household_services.person_create(
                    actor=secretary,
                    village=village.villages[0],
                    name=f"联系{i}",
                    sex="female",
                    birth_date=D(1970, 1, 1 + i),
                ),
                group=group,
            )
            for i in range(4)
        ]
        for member in extra[:3]:
            services.group_role_assign(actor=secretary, member=member, role="contact_head")
        with pytest.raises(ValidationError) as caught:
            services.group_role_assign(actor=secretary, member=extra[3], role="contact_head")
        assert codes(caught.value, "role") == {"too_many_contact_heads"}
        assert len(selectors.group_sheet(group=group).contact_heads) == 3

    def test_leaving_ends_roles(self, village):
        secretary = village.users["village_secretary"]
        member = village.members[0]
        services.group_role_assign(actor=secretary, member=member, role="leader")
        services.member_leave(actor=secretary, member=member, left_on=D.today(), reason="voluntary")
        assert selectors.group_sheet(group=village.groups[0]).leader is None


class TestContactsAndPairing:
    def test_contact_households(self, village):
        secretary = village.users["village_secretary"]
        member = village.members[0]
        link = services.contact_household_add(
            actor=secretary, member=member, household=village.households[0]
        )
        with pytest.raises(ValidationError) as caught:
            services.contact_household_add(
                actor=secretary, member=member, household=village.households[0]
            )
        assert codes(caught.value, "household") == {"contact_exists"}
        assert [c.household for c in selectors.group_sheet(group=village.groups[0]).contacts] == [
            village.households[0]
        ]
        services.contact_household_remove(actor=secretary, link=link)

    def test_pairing_needs_a_hardship_household(self, village):
        secretary = village.users["village_secretary"]
        household = village.households[0]
        member = village.members[0]
        with pytest.raises(ValidationError) as caught:
            services.pairing_start(actor=secretary, member=member, household=household)
        assert codes(caught.value, "household") == {"not_hardship"}
        household_services.hardship_record(
            actor=secretary, household=household, year=D.today().year, reasons=["illness"]
        )
        pairing = services.pairing_start(actor=secretary, member=member, household=household)
        with pytest.raises(ValidationError):
            services.pairing_start(actor=secretary, member=member, household=household)
        services.pairing_end(actor=secretary, pairing=pairing)
        assert pairing.ends_on == D.today()


class TestCommendationsVolunteersSeats:
    def test_commendations(self, village):
        secretary = village.users["village_secretary"]
        services.commendation_add(
            actor=secretary,
            kind="excellent_member",
            year=2025,
            award_level="county",
            member=village.members[0],
        )
        with pytest.raises(ValidationError):
            services.commendation_add(
                actor=secretary,
                kind="excellent_member",
                year=2025,
                award_level="county",
                member=village.members[0],
            )
        group_award = services.commendation_add(
            actor=secretary,
            kind="advanced_group",
            year=2025,
            award_level="township",
            group=village.groups[0],
        )
        assert group_award.group_id == village.groups[0].pk

    def test_volunteer_team_and_join(self, village):
        secretary = village.users["village_secretary"]
        team = services.volunteer_team_create(
            actor=secretary, node=village.villages[0], name="文艺宣传队", service="arts"
        )
        services.volunteer_join(actor=secretary, team=team, member=village.members[0])
        village.members[0].refresh_from_db()
        assert "volunteer" in village.members[0].categories
        assert [t.size for t in selectors.volunteer_teams(node=village.villages[0])] == [1]

    def test_council_seat_links_a_member(self, village):
        council = village.councils[village.villages[0].pk]
        seat = village.seats[council.pk]
        member = village.members[0]
        services.seat_link_member(
            actor=village.users["village_secretary"], seat=seat, member=member
        )
        assert CouncilSeat.objects.get(pk=seat.pk).person_name == member.person.name
        assert SeatHolder.objects.get(seat=seat).member == member


def test_membership_ratio(world):
    """Active members ÷ 常住人口 (户籍常住 + 流入, alive today). Village 0 has one member (the
    head) and the head and spouse, both 户籍常住; add two 流入 tenants, a 流出 son and a
    registered woman who died: 常住人口 = 2 + 2 = 4, so 1/4 = 25.0% (户籍人口 would give 1/3,
    everyone alive 1/5)."""
    a = world.a
    village = a.villages[0]
    with activate(Scope.for_node(village)):
        for name, residency in (("租户甲", "inflow"), ("租户乙", "inflow"), ("外出子", "outflow")):
            household_services.person_create(
                actor=a.users["county_admin"],
                village=village,
                name=name,
                sex="male",
                birth_date=D(1990, 1, 1),
                residency=residency,
                marital_status="unmarried",
            )
        household_services.person_create(
            actor=a.users["county_admin"],
            village=village,
            name="故人",
            sex="female",
            birth_date=D(1930, 1, 1),
            marital_status="widowed",
            is_deceased=True,
            died_on=D(2025, 1, 1),
        )
        ratio = selectors.membership_ratio(node=village)
        assert (ratio.members, ratio.population) == (1, 4)
        assert ratio.text() == "会员占常住人口 25.0%"
    with a.scope():
        ratio = selectors.membership_ratio(node=a.county)
        # Four villages of two registered persons each, and the two tenants.
        assert (ratio.members, ratio.population) == (4, 10)
        assert Person.objects.count() == 12


def test_top_level_volunteer_teams_have_distinct_names(world):
    a = world.a
    with a.scope():
        services.volunteer_team_create(
            actor=a.users["county_admin"], node=a.county, name="县志愿者服务队", service="general"
        )
        with pytest.raises(ValidationError) as caught:
            services.volunteer_team_create(
                actor=a.users["county_admin"],
                node=a.county,
                name="县志愿者服务队",
                service="arts",
            )
    assert codes(caught.value, "name") == {"team_exists"}
