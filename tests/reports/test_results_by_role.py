"""Who reads a published run's results, and where a village moved after publishing is read.

On the hand-worked scheme of test_runs (2026-H1, built and published here; the world's
2026-Q1 is published already): 2026-H1 totals v0 20 (合格), v1 0, v2 20, v3 0 — the council
met in Q1 only (1 of 2 quarters: 0 of 30), the congress 20 at v0 and v2. Ranks: county v0 1,
v2 1, v1 3, v3 3; township t0: v0 1, v1 2; t1: v2 1, v3 2."""

from __future__ import annotations

import io
from decimal import Decimal as D

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from associations import services as association_services
from reports import runs
from reports.models import SnapshotNode

from .test_runs import build, hand  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def h1(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version, "2026-H1")
    with a.scope():
        run.refresh_from_db()
    return a, version, run


def _publish(a, run):
    with a.scope():
        return runs.publish(actor=a.users["county_admin"], run=run)


def _page(client, user, node, run=None):
    client.force_login(user)
    return client.get(reverse("report-run-list", args=[node.pk]), {"run": run.pk} if run else {})


def _sheet_villages(client, user, township, run) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("report-township-sheet", args=[township.pk]), {"run": run.pk})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return {row[1] for row in sheet.iter_rows(min_row=5, max_col=2, values_only=True) if row[1]}


def test_township_staff_read_their_villages_ranks_grades_and_scores(h1, client):
    a, _version, run = h1
    _publish(a, run)
    page = _page(client, a.users["township_staff"], a.townships[0], run)
    body = page.content.decode()
    assert page.status_code == 200 and "2026年上半年" in body
    assert a.villages[0].name in body and a.villages[1].name in body
    assert a.villages[2].name not in body and a.villages[3].name not in body
    assert "合格村协会" in body and "20.00</strong>/100.00" in body  # v0: 20 of 100
    # the sibling township's page and another county's: 404
    assert _page(client, a.users["township_staff"], a.townships[1]).status_code == 404
    assert _page(client, a.users["township_staff"], a.villages[2]).status_code == 404


def test_a_village_reads_its_own_row_and_ranks_only(h1, client, world):
    a, _version, run = h1
    _publish(a, run)
    page = _page(client, a.users["village_secretary"], a.villages[0], run)
    body = page.content.decode()
    assert page.status_code == 200
    assert "20.00</strong>/100.00" in body and "合格村协会" in body
    assert "理事会按季召开" in body and "未达标" in body  # its own indicators
    assert "<dt>乡镇排名</dt><dd>1" in body and "<dt>全县排名</dt><dd>1" in body
    for other in a.villages[1:]:
        assert other.name not in body  # nothing of the other villages
    # the sibling village, the township, another county's village: 404
    assert _page(client, a.users["village_secretary"], a.villages[1]).status_code == 404
    assert _page(client, a.users["village_secretary"], a.townships[0]).status_code == 404
    b = world.b
    assert _page(client, a.users["village_secretary"], b.villages[0]).status_code == 404
    # the township staff read the village's page too
    assert _page(client, a.users["township_staff"], a.villages[1], run).status_code == 200


def test_unpublished_runs_are_for_the_county_only(h1, client):
    a, _version, run = h1
    for key, node in (("township_staff", a.townships[0]), ("village_secretary", a.villages[0])):
        assert _page(client, a.users[key], node, run).status_code == 404
        body = _page(client, a.users[key], node).content.decode()
        assert "2026-H1" not in body and "2026-Q1" in body  # the world's published Q1
    body = _page(client, a.users["county_admin"], a.villages[0], run).content.decode()
    assert "2026年上半年" in body  # the county reads it before publishing
    api = APIClient()
    api.force_authenticate(a.users["village_secretary"])
    assert api.get(reverse("api-report-node-list"), {"run": run.pk}).json()["results"] == []


def test_a_village_reads_its_own_rows_over_the_api(h1):
    a, _version, run = h1
    _publish(a, run)
    api = APIClient()
    api.force_authenticate(a.users["village_secretary"])
    rows = api.get(reverse("api-report-node-list"), {"run": run.pk}).json()["results"]
    assert {r["node"] for r in rows} == {a.villages[0].pk, *(g.pk for g in a.groups[:2])}


def test_a_village_moved_after_publishing_stays_with_its_old_township(h1, client):
    a, _version, run = h1
    _publish(a, run)
    v1 = a.villages[1]
    with a.scope():
        before = {
            r.node_id_at: (r.total, r.grade, r.rank_in_township, r.rank_in_county, r.figures)
            for r in SnapshotNode.objects.filter(run=run)
        }
        association_services.association_move(
            actor=a.users["county_admin"], association=v1, new_parent=a.townships[1]
        )
    # the old township still reads it in that run, with its rank there (2nd in t0)
    old = _page(client, a.users["township_staff"], a.townships[0], run).content.decode()
    assert v1.name in old and a.villages[0].name in old
    # the new township does not: its results are those of the villages it had then
    new = _page(client, a.users["township_staff_sibling"], a.townships[1], run).content.decode()
    assert v1.name not in new and a.villages[2].name in new and a.villages[3].name in new
    # the county reads the new township's page the same way
    county = _page(client, a.users["county_admin"], a.townships[1], run).content.decode()
    assert v1.name not in county
    # the API likewise
    api = APIClient()
    api.force_authenticate(a.users["township_staff"])
    rows = api.get(reverse("api-report-node-list"), {"run": run.pk}).json()["results"]
    assert v1.pk in {r["node"] for r in rows}
    api.force_authenticate(a.users["township_staff_sibling"])
    rows = api.get(reverse("api-report-node-list"), {"run": run.pk}).json()["results"]
    assert v1.pk not in {r["node"] for r in rows}
    # the townships' printed sheets follow their pages
    assert v1.name in _sheet_villages(client, a.users["township_staff"], a.townships[0], run)
    new_sheet = _sheet_villages(client, a.users["township_staff_sibling"], a.townships[1], run)
    assert v1.name not in new_sheet and a.villages[2].name in new_sheet
    # the village's own staff still read their row
    own = _page(client, a.users["village_secretary_sibling"], v1, run).content.decode()
    assert "0.00</strong>/100.00" in own
    # the run's figures did not change
    with a.scope():
        after = {
            r.node_id_at: (r.total, r.grade, r.rank_in_township, r.rank_in_county, r.figures)
            for r in SnapshotNode.objects.filter(run=run)
        }
    assert after == before
    assert after[v1.pk][:4] == (D("0.00"), "unqualified", 2, 3)
