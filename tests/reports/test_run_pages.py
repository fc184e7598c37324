"""The report run pages and API by role, on the hand-worked scheme of test_runs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from activities import services as activity_services
from reports import runs
from reports.models import ReportRun

from .test_runs import build, day, hand  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version, "2026-H1")
    with a.scope():
        run.refresh_from_db()
    return a, version, run


def test_county_admin_builds_from_the_page(hand, client, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("report-run-list", args=[a.county.pk]))
    assert page.status_code == 200 and "生成考核" in page.content.decode()
    url = reverse("report-run-create", args=[a.county.pk])
    bad = client.post(url, {"period": "2026-13", "version": version.pk})
    assert bad.status_code == 400 and "统计期格式" in bad.content.decode()
    month = client.post(url, {"period": "2026-03", "version": version.pk})
    assert month.status_code == 400 and "季度、半年或年度" in month.content.decode()
    with a.scope():
        draft = a.schemes[0].versions.get()
    refused = client.post(url, {"period": "2026-Q2", "version": draft.pk})
    assert refused.status_code == 400 and "已启用的考核细则版本" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period": "2026-q2", "version": version.pk})
    with a.scope():
        run = ReportRun.objects.get(version=version)
    assert run.period_key == "2026-Q2" and run.state == "done"
    assert response.status_code == 302 and response.url == reverse("job", args=[run.job_id])
    page = client.get(response.url).content.decode()
    assert "2026年第二季度" in page and "考核结果" in page and "发布" in page
    assert a.villages[0].name in page and "不合格" in page
    listing = client.get(reverse("report-run-list", args=[a.county.pk])).content.decode()
    assert "2026年第二季度" in listing and "第 1 次" in listing


def test_publish_from_the_page(built, client):
    a, _version, run = built
    client.force_login(a.users["county_viewer"])
    assert client.post(reverse("report-run-publish", args=[run.pk])).status_code == 403
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    assert 'action="/reports/runs/' not in page  # no publish button for the viewer
    client.force_login(a.users["county_admin"])
    response = client.post(reverse("report-run-publish", args=[run.pk]), follow=True)
    assert "考核结果已发布" in response.content.decode()
    with a.scope():
        run.refresh_from_db()
    assert run.is_published


def test_compare_with_the_previous_run(built, client, django_capture_on_commit_callbacks):
    a, version, first = built
    with a.scope():
        activity_services.activity_create(
            actor=a.users["county_admin"],
            association=a.villages[1],
            kind="meeting",
            meeting_type="congress",
            date=day(4, 2),
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = build(a, version, "2026-H1")
    with a.scope():
        second.refresh_from_db()
        changes = runs.compare(second, runs.previous_run(second))
    assert [c["row"].node_id_at for c in changes] == [a.villages[1].pk]
    assert [i["key"] for i in changes[0]["indicators"]] == ["congress_held"]
    client.force_login(a.users["county_viewer"])
    page = client.get(reverse("report-run-compare", args=[second.pk])).content.decode()
    assert "年度召开会员代表大会" in page and "0.00 → 20.00" in page
    assert "不合格 → 合格村协会" in page
    first_page = client.get(reverse("report-run-compare", args=[first.pk])).content.decode()
    assert "无可比较" in first_page


def test_township_staff_see_their_villages_of_published_runs(world, client):
    a = world.a
    client.force_login(a.users["township_staff"])
    page = client.get(reverse("report-run-list", args=[a.townships[0].pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert a.villages[0].name in body and a.villages[1].name in body
    assert a.villages[2].name not in body and a.villages[3].name not in body
    assert "理事会按季召开" in body  # the columns as the snapshot recorded them
    run = a.report_run
    assert client.get(reverse("report-run", args=[run.pk])).status_code == 404
    assert client.get(reverse("job", args=[run.job_id])).status_code == 404
    other = client.get(reverse("report-run-list", args=[a.townships[0].pk]), {"run": "x"})
    assert other.status_code == 404
    client.force_login(a.users["village_secretary"])
    assert client.get(reverse("report-run-list", args=[a.villages[1].pk])).status_code == 404


def test_township_staff_do_not_see_unpublished_runs(built, client):
    a, _version, _run = built
    client.force_login(a.users["township_staff"])
    body = client.get(reverse("report-run-list", args=[a.townships[0].pk])).content.decode()
    assert "2026-H1" not in body and "2026-Q1" in body


def test_the_api(built):
    a, _version, run = built
    county = APIClient()
    county.force_authenticate(a.users["county_admin"])
    listed = county.get(reverse("api-report-run-list")).json()["results"]
    assert {r["id"] for r in listed} == {run.pk, a.report_run.pk}
    nodes = county.get(reverse("api-report-run-nodes", args=[run.pk])).json()["results"]
    by_node = {r["node"]: r for r in nodes}
    v0, v2 = by_node[a.villages[0].pk], by_node[a.villages[2].pk]
    # 2026-H1: the council met in Q1 only (50% of the quarters: 0 points), the congress 20
    assert (v0["total"], v0["grade"], v0["rank_in_county"]) == ("20.00", "qualified", 1)
    assert (v2["total"], v2["rank_in_county"], by_node[a.villages[1].pk]["rank_in_county"]) == (
        "20.00", 1, 3
    )  # fmt: skip
    township = APIClient()
    township.force_authenticate(a.users["township_staff"])
    assert township.get(reverse("api-report-run-list")).json()["results"] == []
    assert township.get(reverse("api-report-run-nodes", args=[run.pk])).status_code == 404
    rows = township.get(reverse("api-report-node-list"), {"run": run.pk}).json()["results"]
    assert rows == []  # not published
    rows = township.get(reverse("api-report-node-list"), {"period": "2026-Q1"}).json()["results"]
    assert {r["node"] for r in rows} == {
        a.townships[0].pk, *(v.pk for v in a.villages[:2]), *(g.pk for g in a.groups[:4])
    }  # fmt: skip
    bad = township.get(reverse("api-report-node-list"), {"run": "abc"})
    assert bad.status_code == 400


def test_the_figures_page_of_a_published_period_links_to_the_snapshot(world, client):
    a = world.a
    client.force_login(a.users["county_admin"])
    url = reverse("node-figures", args=[a.county.pk])
    body = client.get(url, {"period": "2026-Q1"}).content.decode()
    assert "本期考核结果已于" in body
    assert f'href="{reverse("report-run", args=[a.report_run.pk])}"' in body
    assert "本期考核结果已于" not in client.get(url, {"period": "2026-Q2"}).content.decode()
    client.force_login(a.users["township_staff"])
    body = client.get(
        reverse("node-figures", args=[a.townships[0].pk]), {"period": "2026-Q1"}
    ).content.decode()
    assert f"?run={a.report_run.pk}" in body


def test_the_results_table_folds_each_reason_into_its_cell(built, client):
    """A score's reason (未达标…, 无数据) is folded into a <details> of its cell, so a row
    stays one line tall; each value cell is labelled for the phone's card layout, and the
    card's indicators unfold from 各项得分."""
    import html

    from reports.models import SnapshotNode

    a, _version, run = built
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    with a.scope():
        villages = list(SnapshotNode.objects.filter(run=run, level="village"))
        county_row = SnapshotNode.objects.get(run=run, level="county")
    columns = {c["key"]: c for c in county_row.figures["columns"]}
    reasoned = [
        (v, key, cell)
        for v in villages
        for key, cell in v.indicators.items()
        if cell["reason"] and columns[key]["assessed"]
    ]
    assert reasoned  # the hand-worked world has scores with a reason
    for _village, key, cell in reasoned:
        folded = (
            f'<td class="score" data-label="{html.escape(columns[key]["name"])}">'
            f'<details class="why"><summary>{cell["score"]}</summary>'
            f'<span class="muted">{html.escape(cell["reason"])}</span></details></td>'
        )
        assert folded in page
    assert page.count('<tr class="village">') == len(villages)
    assert page.count("各项得分(") == len(villages)
    assert '<br><span class="muted">' not in page  # no reason wrapped under a score
