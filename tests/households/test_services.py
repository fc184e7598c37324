import datetime
from dataclasses import asdict

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from associations.models import ChangeRecord
from associations.scope import Scope, activate
from households import selectors, services
from households.models import HardshipAssessment, Household, Person, Relocation
from households.tasks import refresh_categories_in_scope

from ..conftest import make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date


def codes(error: ValidationError, field: str) -> set[str]:
    return {e.code for e in error.error_dict.get(field, [])}


@pytest.fixture
def village_scope(world):
    with activate(Scope.for_node(world.a.villages[0])):
        yield world.a


def add(world_a, **fields):
    fields.setdefault("name", "王秀英")
    return services.person_create(
        actor=world_a.users["village_secretary"], village=world_a.villages[0], **fields
    )


class TestPersons:
    def test_id_number_is_normalised_and_fills_birth_and_sex(self, village_scope):
        number = make_id_number("130534", D(1990, 3, 7), 21, "female")
        typed = "　".join(number[:6]) + number[6:].replace("X", "x")
        typed = typed.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        person = add(village_scope, id_number=typed)
        assert person.id_number == number
        assert (person.birth_date, person.sex) == (D(1990, 3, 7), "female")
        assert person.name_initials == "wxy"

    def test_fifteen_digit_number_is_upgraded_with_a_notice(self, village_scope):
        eighteen = make_id_number("130534", D(1965, 8, 1), 33, "male")
        fifteen = eighteen[:6] + eighteen[8:17]
        person = add(village_scope, id_number=fifteen, name="赵老汉")
        assert person.id_number == eighteen
        assert any("18 位" in notice for notice in person.notices)

    def test_entered_values_must_agree_with_the_number(self, village_scope):
        number = make_id_number("130534", D(1990, 3, 7), 21, "female")
        with pytest.raises(ValidationError) as caught:
            add(village_scope, id_number=number, birth_date=D(1990, 3, 8), sex="male")
        assert codes(caught.value, "birth_date") == {"id_birth_mismatch"}
        assert codes(caught.value, "sex") == {"id_sex_mismatch"}

    def test_bad_checksum_is_refused_and_nothing_saved(self, village_scope):
        number = make_id_number("130534", D(1990, 3, 7), 21, "female")
        bad = number[:-1] + ("1" if number[-1] != "1" else "2")
        with pytest.raises(ValidationError) as caught:
            add(village_scope, id_number=bad)
        assert codes(caught.value, "id_number") == {"id_checksum"}
        assert not Person.objects.filter(name="王秀英").exists()

    def test_duplicate_in_a_sibling_village_tells_a_secretary_no_place(self, world):
        """Issue 12 (oracles): the village secretary learns that the number is registered
        elsewhere in the county, and nothing of where, which household or membership."""
        a = world.a
        elsewhere = a.persons[2]  # head of village 1's household, invisible to the secretary
        with activate(Scope.for_node(a.villages[0])), pytest.raises(ValidationError) as caught:
            assert not Person.objects.filter(pk=elsewhere.pk).exists()
            add(a, id_number=elsewhere.id_number)
        message = caught.value.error_dict["id_number"][0].message
        assert codes(caught.value, "id_number") == {"person_exists"}
        assert message == "该身份证号码已在本县其他村登记,请联系乡镇办理迁移,不要重复登记。"
        assert a.villages[1].name not in message and "0002户" not in message

    def test_duplicate_in_another_village_names_the_village_to_township_staff(self, world):
        a = world.a
        elsewhere = a.persons[2]
        with activate(Scope.for_node(a.townships[0])), pytest.raises(ValidationError) as caught:
            services.person_create(
                actor=a.users["township_staff"],
                village=a.villages[0],
                name="重复",
                id_number=elsewhere.id_number,
            )
        message = caught.value.error_dict["id_number"][0].message
        assert f"已登记在{a.villages[1].name}," in message
        assert "0002户" not in message and elsewhere.name not in message
        assert elsewhere.id_number not in message  # masked in the message

    def test_same_id_number_in_another_county_is_another_record(self, world):
        number = world.a.persons[0].id_number
        with activate(Scope.for_node(world.b.villages[0])):
            person = services.person_create(
                actor=world.b.users["village_secretary"],
                village=world.b.villages[0],
                name="同号",
                id_number=number,
            )
        assert person.county_id == world.b.county.pk

    def test_phone_is_normalised_and_checked(self, village_scope):
        person = add(village_scope, sex="male", birth_date=D(1970, 1, 1), phone="+86 138 1234 5678")
        assert person.phone == "13812345678"
        with pytest.raises(ValidationError) as caught:
            add(village_scope, sex="male", birth_date=D(1970, 1, 1), phone="12345")
        assert codes(caught.value, "phone") == {"phone_invalid"}

    def test_birth_date_or_id_is_required(self, village_scope):
        with pytest.raises(ValidationError) as caught:
            add(village_scope, sex="male")
        assert "birth_date" in caught.value.error_dict

    def test_death_date_rules(self, village_scope):
        with pytest.raises(ValidationError) as caught:
            add(village_scope, sex="male", birth_date=D(1970, 1, 1), died_on=D(1969, 1, 1))
        assert codes(caught.value, "died_on") == {"died_before_birth"}
        person = add(village_scope, sex="male", birth_date=D(1940, 1, 1), died_on=D(2025, 1, 1))
        assert person.is_deceased

    def test_group_leader_cannot_register(self, world):
        a = world.a
        with activate(Scope.for_node(a.groups[0])), pytest.raises(PermissionDenied):
            services.person_create(
                actor=a.users["group_leader"],
                village=a.villages[0],
                group=a.groups[0],
                name="某",
                sex="male",
                birth_date=D(1970, 1, 1),
            )

    def test_update_is_recorded(self, village_scope):
        person = village_scope.persons[0]
        services.person_update(
            actor=village_scope.users["village_secretary"], person=person, phone="0319-8123456"
        )
        record = ChangeRecord.objects.filter(object_id=person.pk, action="update").get()
        # Encryption at rest: the change record keeps the phone masked, never in plain text.
        assert record.after["phone"] == "0319-******6" and record.before["phone"] == ""


class TestHouseholds:
    def test_duplicate_number_in_village(self, village_scope):
        with pytest.raises(ValidationError) as caught:
            services.household_create(
                actor=village_scope.users["village_secretary"],
                village=village_scope.villages[0],
                number="0001",
            )
        assert codes(caught.value, "number") == {"household_exists"}

    def test_head_is_set_from_the_first_head_member(self, village_scope):
        household = village_scope.households[0]
        household.refresh_from_db()
        assert household.head_id == village_scope.persons[0].pk

    def test_two_daughters_makes_the_category(self, village_scope):
        household = village_scope.households[0]
        mother = village_scope.persons[1]
        for name, born in (("大妞", D(2008, 1, 1)), ("二妞", D(2011, 6, 1))):
            add(
                village_scope,
                name=name,
                household=household,
                sex="female",
                birth_date=born,
                relation_to_head="daughter",
                mother=mother,
            )
        household.refresh_from_db()
        assert "two_daughters" in household.categories
        assert "adolescent" in household.family_types

    def test_removing_the_head_clears_it(self, village_scope):
        household = village_scope.households[0]
        head = village_scope.persons[0]
        services.person_remove_from_household(
            actor=village_scope.users["village_secretary"], person=head
        )
        household.refresh_from_db()
        head.refresh_from_db()
        assert household.head_id is None and head.household_id is None
        assert head.village_id == village_scope.villages[0].pk  # still recorded in the village

    def test_household_move_takes_its_persons_and_keeps_history(self, world):
        a = world.a
        household = a.households[0]
        with a.scope():
            services.household_move(
                actor=a.users["county_admin"],
                household=household,
                to_village=a.villages[2],
                to_group=a.groups[4],
                new_number="0101",
            )
            moved = Person.objects.filter(household=household)
            assert {p.village_id for p in moved} == {a.villages[2].pk}
            assert {p.township_id for p in moved} == {a.townships[1].pk}
            relocation = Relocation.objects.get(household=household)
        assert relocation.from_village_id == a.villages[0].pk
        assert relocation.from_household_number == "0001"
        with activate(Scope.for_node(a.villages[0])):
            assert not Household.objects.filter(pk=household.pk).exists()

    def test_secretary_cannot_move_a_household_out_of_reach(self, world):
        a = world.a
        with activate(Scope.for_node(a.villages[0])), pytest.raises(PermissionDenied):
            services.household_move(
                actor=a.users["village_secretary"],
                household=a.households[0],
                to_village=a.villages[1],
            )

    def test_person_move_to_another_village(self, world):
        a = world.a
        person = a.persons[1]
        with a.scope():
            services.person_move(
                actor=a.users["county_admin"],
                person=person,
                to_household=a.households[2],
                relation_to_head="other",
            )
            person.refresh_from_db()
            assert person.village_id == a.villages[2].pk
            assert Relocation.objects.filter(person=person, from_village=a.villages[0]).exists()


class TestHardshipAndAssistance:
    def test_roster_counts_new_exited_and_total(self, world):
        a = world.a
        admin = a.users["county_admin"]
        year = D.today().year - 1  # the world already surveys every household this year
        with a.scope():
            h0, h1, h2 = a.households[:3]
            services.hardship_record(actor=admin, household=h0, year=year - 1, reasons=["illness"])
            services.hardship_record(actor=admin, household=h1, year=year - 1, reasons=["poverty"])
            services.hardship_record(actor=admin, household=h0, year=year, reasons=["illness"])
            services.hardship_record(
                actor=admin,
                household=h1,
                year=year,
                reasons=["poverty"],
                status=HardshipAssessment.Status.EXITED,
            )
            services.hardship_record(
                actor=admin, household=h2, year=year, reasons=["disaster", "illness"]
            )
            roster = selectors.hardship_roster(node=a.county, year=year)
        assert (roster.new_this_year, roster.exited_this_year, roster.total) == (1, 1, 2)

    def test_hardship_needs_a_reason_and_a_past_year(self, village_scope):
        secretary = village_scope.users["village_secretary"]
        household = village_scope.households[0]
        with pytest.raises(ValidationError):
            services.hardship_record(actor=secretary, household=household, year=2020, reasons=[])
        with pytest.raises(ValidationError):
            services.hardship_record(
                actor=secretary, household=household, year=D.today().year + 1, reasons=["other"]
            )

    def test_assistance_needs_amount_or_goods(self, village_scope):
        secretary = village_scope.users["village_secretary"]
        household = village_scope.households[0]
        with pytest.raises(ValidationError):
            services.assistance_add(
                actor=secretary,
                household=household,
                kind="visit",
                given_on=D(2026, 1, 20),
                given_by="县计生协",
            )
        record = services.assistance_add(
            actor=secretary,
            household=household,
            kind="visit",
            given_on=D(2026, 1, 20),
            given_by="县计生协",
            goods="米 1 袋、油 1 桶",
        )
        assert ChangeRecord.objects.filter(object_id=record.pk, action="create").exists()


def test_nightly_refresh_is_scoped_and_idempotent(world):
    a = world.a
    with a.scope():
        Household.objects.update(categories=[], categories_refreshed_on=None)
    scope = asdict(Scope.for_node(a.townships[0]))
    first = refresh_categories_in_scope(scope=scope)
    second = refresh_categories_in_scope(scope=scope)
    assert first["households"] == 2  # the township's two villages, one household each
    assert second["changed"] == 0
    with a.scope():
        refreshed = set(Household.objects.values_list("categories_refreshed_on", flat=True))
    assert None in refreshed  # the other township was not touched
