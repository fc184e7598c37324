"""What keeps the long lists quick: pages read by ids past the first, the `under` select
written in Python, choice labels without DRF's per-row signature inspection."""

import importlib
import re
import sys

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from associations.scope import Scope, activate
from households import figure_views, selectors, services
from households.api.serializers import HouseholdSerializer, PersonSerializer
from households.forms import LongSelect
from households.models import Household, Person
from households.pagination import rows_at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("selector", [selectors.person_list, selectors.person_rows])
def test_pages_of_a_joined_list_tile_the_whole_list(world, selector):
    """Joined by select_related (the pages' list) or by annotations (the API's rows)."""
    a = world.a
    with a.scope():
        people = selector(actor=a.users["county_admin"])
        whole = list(people)
        assert len(whole) == 8
        pages = []
        for offset in range(0, 9, 3):
            with CaptureQueriesContext(connection) as captured:
                pages.append(rows_at(people.all(), offset, 3))
                villages = [getattr(p, "village_name", None) or p.village.name for p in pages[-1]]
            # The first page is one query; later ones read their ids, then those rows (joined).
            assert len(captured.captured_queries) == (1 if offset == 0 else 2)
            assert villages == [p.village.name for p in whole[offset : offset + 3]]
        assert [p.pk for page in pages for p in page] == [p.pk for p in whole]
        assert rows_at(people.all(), 8, 3) == []


def test_pages_of_an_unjoined_list_are_one_slice(world):
    a = world.a
    with a.scope():
        people = Person.objects.order_by("birth_date", "id")
        with CaptureQueriesContext(connection) as captured:
            assert rows_at(people, 2, 3) == list(people[2:5])
        assert len(captured.captured_queries) == 2  # the call and the reference


def _options(markup: str) -> list[str]:
    return [re.sub(r"\s+", " ", line.strip()) for line in markup.splitlines() if line.strip()]


@pytest.mark.parametrize("value", ["", "2", "3", None])
def test_long_select_writes_what_django_select_writes(value):
    choices = [
        ("", "全县"),
        ("城关镇", [(1, "城关镇(全镇)"), (2, "东<村> & \"'")]),
        (3, "西村"),
    ]
    attrs = {"id": "id_under", "required": True, "disabled": False, "data-x": 'a"b'}
    django_markup = forms.Select(choices=choices).render("under", value, attrs=attrs)
    assert _options(LongSelect(choices=choices).render("under", value, attrs)) == _options(
        django_markup
    )


def test_county_list_offers_townships_and_their_villages(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    body = client.get("/people/", {"under": a.villages[1].pk}).content.decode()
    township = a.townships[0]
    assert f'<optgroup label="{township.name}">' in body
    assert f'<option value="{township.pk}">{township.name}(全镇)</option>' in body
    assert f'<option value="{a.villages[1].pk}" selected>{a.villages[1].name}</option>' in body


def test_list_rows_name_choices_as_the_models_do(world):
    a = world.a
    request = Request(APIRequestFactory().get("/"))
    request.user = a.users["county_admin"]
    with a.scope():
        Person.objects.filter(pk=a.persons[1].pk).update(
            relation_to_head="", residency="outflow", marital_status="widowed", ethnicity="03"
        )
        for person in selectors.person_rows(actor=request.user):
            row = PersonSerializer(person, context={"request": request}).data
            for name in ("sex", "ethnicity", "residency", "marital_status", "relation_to_head"):
                assert row[f"{name}_display"] == getattr(person, f"get_{name}_display")()
        for household in selectors.household_rows(actor=request.user):
            row = HouseholdSerializer(household, context={"request": request}).data
            assert row["residency_display"] == household.get_residency_display()


def test_the_benchmark_floor_module_loads_only_for_the_benchmark(monkeypatch):
    monkeypatch.delenv("JSX_BENCHMARK_FLOOR", raising=False)
    monkeypatch.delitem(sys.modules, "config.benchmark_wsgi", raising=False)
    with pytest.raises(ImproperlyConfigured):
        importlib.import_module("config.benchmark_wsgi")


def test_hardship_roster_pages_and_counts_the_whole_year(client, world, monkeypatch):
    """County A's villages 1-3 each have a household in this year's roster (the test world);
    one of them was in last year's too."""
    a = world.a
    admin = a.users["county_admin"]
    year = timezone.localdate().year
    with a.scope():
        home = Household.objects.get(pk=a.households[2].pk)
        services.hardship_record(actor=admin, household=home, year=year - 1, reasons=["illness"])
    monkeypatch.setattr(figure_views, "PER_PAGE", 2)
    client.force_login(admin)
    path = reverse("node-hardship", kwargs={"pk": a.county.pk})
    first = client.get(path).content.decode()
    second = client.get(path, {"page": 2}).content.decode()
    summary = "新增 <strong>2</strong> 户、退出 <strong>0</strong> 户、现有 <strong>3</strong> 户"
    assert f"{year}年:{summary}" in first and f"{year}年:{summary}" in second
    shown = [re.findall(r'href="/households/(\d+)/"', body) for body in (first, second)]
    assert shown == [[str(h.pk) for h in a.households[1:3]], [str(a.households[3].pk)]]
    assert "下一页" in first and "上一页" in second


def test_list_rows_are_what_the_generic_serializers_give(world):
    """PersonSerializer and HouseholdSerializer write their rows out; DRF's field-by-field
    loop is the reference."""
    a = world.a
    request = Request(APIRequestFactory().get("/"))
    request.user = a.users["township_staff"]
    with a.scope():
        Person.objects.filter(pk=a.persons[1].pk).update(
            relation_to_head="", group=None, married_on=None, disability_grade=2
        )
        Person.objects.filter(pk=a.persons[2].pk).update(household=None)
    with activate(Scope.for_node(request.user.node)):
        pairs = [
            (PersonSerializer, list(selectors.person_rows(actor=request.user))),
            (HouseholdSerializer, list(selectors.household_rows(actor=request.user))),
        ]
        for serializer_class, rows in pairs:
            assert len(rows) >= 2
            for row in rows:
                serializer = serializer_class(row, context={"request": request})
                generic = serializers.ModelSerializer.to_representation(serializer, row)
                assert list(serializer.data.items()) == list(generic.items())
