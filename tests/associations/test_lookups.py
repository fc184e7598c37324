"""associations.lookups: `any_of` finds what `in` finds, with one array parameter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Household, Person
from members.models import Member

pytestmark = pytest.mark.django_db


def test_any_of_matches_in_for_text_keys_and_foreign_keys(world):
    a = world.a
    with a.scope():
        numbers = [p.id_number for p in a.persons[:3]] + ["110101190001011234"]
        assert (
            set(Person.objects.filter(id_number__any_of=numbers))
            == set(Person.objects.filter(id_number__in=numbers))
            == set(a.persons[:3])
        )
        persons = [m.person_id for m in a.members]
        assert set(Member.objects.filter(person_id__any_of=persons)) == set(a.members)
        ids = {h.pk for h in a.households}
        assert set(Household.objects.filter(pk__any_of=ids)) == set(a.households)


def test_any_of_sends_one_parameter_and_an_empty_list_finds_nothing(world):
    with world.a.scope(), CaptureQueriesContext(connection) as queries:
        assert list(Person.objects.filter(id_number__any_of=[])) == []
        list(Person.objects.filter(pk__any_of=range(1, 5001)))
    sql = queries.captured_queries[-1]["sql"]
    assert "= ANY(" in sql and "::bigint[]" in sql and len(sql) < 40_000


def test_any_of_stays_in_the_scope(world):
    foreign = [p.id_number for p in world.b.persons]
    with world.a.scope():
        assert not Person.objects.filter(id_number__any_of=foreign).exists()


def test_in_list_finds_what_in_finds_by_the_index_and_stays_in_the_scope(world):
    a = world.a
    with a.scope():
        numbers = [p.id_number for p in a.persons[:3]] + ["110101190001011234"]
        assert set(Person.objects.filter(id_number__in_list=numbers)) == set(a.persons[:3])
        persons = [m.person_id for m in a.members]
        assert set(Member.objects.filter(person_id__in_list=persons)) == set(a.members)
        assert list(Person.objects.filter(id_number__in_list=[])) == []
        with CaptureQueriesContext(connection) as queries:
            list(Person.objects.filter(pk__in_list=range(1, 5001)))
        foreign = [p.id_number for p in world.b.persons]
        assert not Person.objects.filter(id_number__in_list=foreign).exists()
    sql = queries.captured_queries[-1]["sql"]
    assert "IN (SELECT unnest(" in sql and "::bigint[]" in sql and len(sql) < 40_000
