"""How many rows a list matches: exact where that is cheap, else the planner's estimate,
and the lists say which."""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households import pagination
from households.models import Person
from households.pagination import MatchCount, match_count, peek_page, planner_estimate

pytestmark = pytest.mark.django_db


def persons(world):
    return Person.objects.order_by("id")


def test_the_texts_say_how_the_number_is_known():
    assert MatchCount(12, exact=True).text == "共 12 条"
    assert MatchCount(1000, at_least=True).text == "超过 1,000 条"
    assert MatchCount(46887).text == "约 46,900 条(估算)"
    assert MatchCount(512).text == "约 512 条(估算)"


def test_the_last_page_counts_itself(world):
    with world.a.scope():
        page = peek_page(persons(world), QueryDict("page=2"), per_page=5)  # 8 persons
        with CaptureQueriesContext(connection) as queries:
            count = match_count(persons(world), page)
    assert count == MatchCount(8, exact=True) and not queries.captured_queries


def test_a_small_match_is_counted_up_to_the_cap(world, monkeypatch):
    with world.a.scope():
        page = peek_page(persons(world), QueryDict(), per_page=3)
        assert page.has_next
        with CaptureQueriesContext(connection) as queries:
            assert match_count(persons(world), page) == MatchCount(8, exact=True)
        sql = [q["sql"] for q in queries.captured_queries]
        assert sql[0].startswith("EXPLAIN") and "LIMIT 1001" in sql[1]
        monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
        assert match_count(persons(world), page) == MatchCount(5, at_least=True)


def test_a_large_match_is_the_planners_estimate(world, monkeypatch):
    monkeypatch.setattr(pagination, "planner_estimate", lambda queryset: 46887)
    with world.a.scope():
        page = peek_page(persons(world), QueryDict(), per_page=3)
        with CaptureQueriesContext(connection) as queries:
            assert match_count(persons(world), page) == MatchCount(46887)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_the_planner_is_asked_for_the_filtered_query(world):
    with world.a.scope():
        estimate = planner_estimate(Person.objects.filter(name__prefix="1村"))
    assert isinstance(estimate, int) and estimate >= 1


@pytest.mark.parametrize(
    "name,expected",
    [("person-list", "共 8 条"), ("household-list", "共 4 条"), ("member-list", "共 4 条")],
)
def test_list_pages_show_the_count(client, world, name, expected):
    client.force_login(world.a.users["county_admin"])
    body = client.get(reverse(name)).content.decode()
    assert f'<p class="match-count">{expected}' in body


def test_list_pages_say_when_the_number_is_an_estimate(client, world, monkeypatch):
    monkeypatch.setattr(pagination, "planner_estimate", lambda queryset: 46887)
    monkeypatch.setattr("households.list_views.PER_PAGE", 2)
    client.force_login(world.a.users["county_admin"])
    body = client.get(reverse("person-list"), {"sex": "female"}).content.decode()
    assert "符合条件的约 46,900 条(估算)" in body and "按数据库统计信息估算" in body
    assert "筛选条件(已选 1 项)" in body and "data-fold-on-phone" in body
