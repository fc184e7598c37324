import random
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.utils import timezone

from associations.management.base import find_county
from associations.models import Association, ChangeRecord, Level
from associations.scope import Scope, activate
from households.categories import Category, family_categories, family_types
from households.demo import PeopleScale, seed_people
from households.figures import Period, figures
from households.identity import parse_id_number
from households.models import AssistanceRecord, HardshipAssessment, Household, Person
from households.services import household_facts

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_every_village_believable_households(capsys):
    call_command("seed_demo", county="131127", name="景县")  # the test world holds 130534
    out = capsys.readouterr().out
    county = find_county("131127")
    today = timezone.localdate()
    with activate(Scope.for_node(county)):
        villages = set(Association.objects.filter(level=Level.VILLAGE).values_list("pk", flat=True))
        households = list(Household.objects.all())
        persons = list(Person.objects.all())
        members = defaultdict(list)
        for person in persons:
            members[person.household_id].append(person)
        by_id = {p.pk: p for p in persons}

        assert {h.village_id for h in households} == villages
        assert {p.village_id for p in persons} == villages
        assert all(60 <= sum(h.village_id == v for h in households) <= 100 for v in villages)
        assert 2200 <= len(persons) <= 5600
        assert f"{len(households)} 户、{len(persons)} 人" in out

        numbers = [p.id_number for p in persons]
        assert len(set(numbers)) == len(numbers)
        for person in persons:
            parsed = parse_id_number(person.id_number)
            assert parsed.number == person.id_number
            assert (parsed.sex, parsed.birth_date) == (person.sex, person.birth_date)
            assert person.name_initials.isascii() and len(person.name) in (2, 3, 4)
            if person.mother_id:
                mother = by_id[person.mother_id]
                assert mother.household_id == person.household_id
                assert mother.sex == "female"
                assert mother.birth_date < person.birth_date

        for household in households:
            head = by_id[household.head_id]
            assert head.household_id == household.pk and head.relation_to_head == "head"
            assert (household.county_id, household.township_id) == (
                head.county_id,
                head.township_id,
            )
            assert household.group_id is not None
            assert household.categories_refreshed_on == today
            facts = household_facts(household, members[household.pk])
            assert household.categories == sorted(
                c.value for c in family_categories(facts, today=today)
            )
            assert household.family_types == sorted(
                t.value for t in family_types(facts, today=today)
            )
        found = {c for h in households for c in h.categories}
        assert found == set(Category.values)

        this_year = HardshipAssessment.objects.filter(year=today.year)
        assert this_year.filter(status=HardshipAssessment.Status.IN_ROSTER).exists()
        assert this_year.filter(status=HardshipAssessment.Status.EXITED).exists()
        assert HardshipAssessment.objects.filter(year=today.year - 1).exists()
        assert AssistanceRecord.objects.exists()
        assert ChangeRecord.objects.filter(object_type="households.Household").count() == len(
            households
        )

        year = figures(node=county, period=Period.parse(str(today.year))).total.values
        assert year["births"] > 0 and year["deaths"] > 0
        assert year["households"] == len(households)
        assert year["women_15_49"] > year["married_women_15_49"] > 0

    call_command(
        "seed_demo", county="131127", name="景县"
    )  # idempotent: the county exists, nothing is added
    with activate(Scope.for_node(county)):
        assert Person.objects.count() == len(persons)

    capsys.readouterr()
    call_command("benchmark_registry", county="131127", runs=1)
    out = capsys.readouterr().out
    assert "按身份证号查人" in out and "Execution Time" in out
    lookup = next(line for line in out.splitlines() if line.startswith("按身份证号查人"))
    assert lookup.split()[-1] == "1"  # the sample person is found (rows), whole number


def test_seed_people_with_a_custom_scale_adds_to_an_existing_county(world):
    county = world.a.county
    with world.a.scope():
        before = set(Person.objects.values_list("id_number", flat=True))
        result = seed_people(
            county=county,
            scale=PeopleScale(households=30, persons=110, history_per_household=False),
            rng=random.Random(7),
        )
        assert (result["households"], result["persons"]) == (30, 110)
        assert Household.objects.count() == 30 + len(world.a.households)
        numbers = list(Person.objects.values_list("id_number", flat=True))
        assert len(numbers) == len(set(numbers)) == 110 + len(before)
        # The world's households are numbered 0001: the seeded ones come after them.
        assert not Household.objects.filter(number="0001").exclude(
            pk__in=[h.pk for h in world.a.households]
        )
        summaries = ChangeRecord.objects.filter(object_type="households.Household", object_id=0)
        assert sum(r.after["persons"] for r in summaries) == 110
        assert all(r.node.level == Level.VILLAGE for r in summaries)
        assert set(result["timings"]) >= {"generate", "copy_persons", "foreign_key_checks"}

    with world.b.scope(), pytest.raises(RuntimeError, match="scope"):
        seed_people(county=county, scale=PeopleScale(households=1), rng=random.Random(1))
