"""The care-subsidy list pages read their rows in a fixed number of queries: four more
applications (in other villages and programmes) cost no extra query on the enrolment list,
the to-do page, the notice list or the home page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import login

from .factories_workflow import applied, make_person, make_program

pytestmark = pytest.mark.django_db

PAGES = ["benefits-home", "enrollment-list", "enrollment-todo", "notice-list"]


def _queries(client, name: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name))
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", PAGES)
def test_more_rows_cost_no_more_queries(client, world, name):
    a = world.a
    login(client, a.users["county_admin"])
    _queries(client, name)  # catalogues and caches warmed once
    before = _queries(client, name)
    for n, village_index in enumerate((0, 1, 2, 3)):
        program = make_program(a, name=f"查询计数项目{n}")
        person = make_person(a, village_index, name=f"计数{n}", sequence=700 + n)
        applied(a, program, person)
    assert _queries(client, name) == before
    shown = {"benefits-home": "查询计数项目3", "enrollment-list": "计数3"}.get(name)
    if shown:  # the new rows are on the page the count was taken of
        assert shown in client.get(reverse(name)).content.decode()
