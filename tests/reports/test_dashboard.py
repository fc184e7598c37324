"""The assessment dashboard (考核看板), on the hand-worked scheme of test_runs (一流 ≥ 50,
合格 ≥ 20; council_quarterly max 30, congress_held max 20, archives (manual) max 50).

Records: test_runs' (2026 Q1: v0 理事会 Feb 10 and 代表大会 Mar 3; v2 代表大会 Mar 5; g0 an
activity each month) plus v0 理事会 May 12. Published runs on that scheme:
  2026-H1: council met every quarter of the half: v0 only (100% → 30); congress: v0, v2 (20)
           v0 = 30 + 20 + 0 = 50 一流, v1 = 0 不合格, v2 = 20 合格, v3 = 0 不合格
           t0 (v0, v1): 一流 1, 不合格 1, average (50 + 0) / 2 = 25.00
           t1 (v2, v3): 合格 1, 不合格 1, average (20 + 0) / 2 = 10.00
           county: 一流 1, 合格 1, 不合格 2, average 70 / 4 = 17.50
           得分率 council_quarterly: t0 30 / (2 × 30) = 50.0%, t1 0.0%, county 30 / 120 = 25.0%
                  congress_held:     t0 20 / (2 × 20) = 50.0%, t1 50.0%, county 50.0%
                  archives:          0.0% everywhere (未评分)
  2026-Q2: v0 council in Q2 (30); the congress counts from 1 January to the period's end,
           so v0 and v2 keep their 20: v0 = 50 一流, v2 = 20 合格, v1 = v3 = 0 不合格;
           average 70 / 4 = 17.50 (v1 = 0: the council met in Q1 only, so Q2's 0)
The world's published 2026-Q1 run (its default scheme) is the trend's first quarter.
Membership: each village has one household of two residents and one member (its head):
50.0% everywhere, above the 10% line."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from associations import services as association_services
from associations.scope import Scope, activate
from reports import dashboard, runs, submissions
from reports.models import SnapshotNode, Submission

from .test_runs import build, day, hand  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def publish(a, version, period, callbacks):
    with callbacks(execute=True):
        run = build(a, version, period)
    with a.scope():
        return runs.publish(actor=a.users["county_admin"], run=run)


@pytest.fixture
def dash(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    with a.scope():
        activity_services.activity_create(
            actor=a.users["county_admin"],
            association=a.villages[0],
            kind="meeting",
            meeting_type="council",
            date=day(5, 12),
        )
    publish(a, version, "2026-H1", django_capture_on_commit_callbacks)
    publish(a, version, "2026-Q2", django_capture_on_commit_callbacks)
    return a


def url(node, **query) -> str:
    base = reverse("report-dashboard", args=[node.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def board_of(a, node, **kwargs) -> dashboard.Dashboard:
    with a.scope():
        return dashboard.build(node=node, **kwargs)


def test_the_hand_worked_figures_of_the_county(dash):
    a = dash
    board = board_of(a, a.county, period_key="2026-H1")
    assert [p["key"] for p in board.periods] == ["2026-Q2", "2026-H1", "2026-Q1"]
    assert board.period_label == "2026年上半年"
    assert board.own.figures["grades"] == {"first_class": 1, "qualified": 1, "unqualified": 2}
    t0, t1 = board.units
    assert (t0.name, t1.name) == (a.townships[0].name, a.townships[1].name)
    assert t0.grades == {"first_class": 1, "qualified": 0, "unqualified": 1}
    assert t1.grades == {"first_class": 0, "qualified": 1, "unqualified": 1}
    assert (str(t0.average), str(t1.average)) == ("25.00", "10.00")
    rates = {r["column"]["key"]: r for r in board.indicator_rows}
    assert [str(x) for x in rates["council_quarterly"]["rates"]] == ["50.0", "0.0"]
    assert str(rates["council_quarterly"]["node_rate"]) == "25.0"
    assert [str(x) for x in rates["congress_held"]["rates"]] == ["50.0", "50.0"]
    assert str(rates["archives"]["node_rate"]) == "0.0"
    assert [(u.population, u.members, str(u.ratio)) for u in board.units] == [
        (4, 2, "50.0"), (4, 2, "50.0")
    ]  # fmt: skip
    assert str(board.node_ratio) == "50.0" and all(u.meets_target for u in board.units)
    # the trend: the published quarters of 2026 (the world's Q1, this Q2)
    assert [t["key"] for t in board.trend] == ["2026-Q1", "2026-Q2"]
    q2 = board.trend[1]
    assert (str(q2["average"]), q2["grades"]) == (
        "17.50", {"first_class": 1, "qualified": 1, "unqualified": 2}
    )  # fmt: skip
    with a.scope():
        world_q1 = SnapshotNode.objects.get(run=a.report_run, node_id_at=a.county.pk)
    assert board.trend[0]["grades"] == world_q1.figures["grades"]
    assert board.assessment_period is None  # no 2026-H1 assessment period was opened


def test_the_page_shows_the_figures_in_tables(dash, client):
    a = dash
    client.force_login(a.users["county_viewer"])
    response = client.get(url(a.county, period="2026-H1", indicator="council_quarterly"))
    assert response.status_code == 200
    body = response.content.decode()
    text = re.sub(r"<svg.*?</svg>", "", body, flags=re.S)  # the tables only
    t0 = a.townships[0].name
    # grade table: 村数, 一流, 合格, 不合格, 平均总分
    assert re.search(
        rf"<td>{t0}</td><td class=\"num\">2</td><td class=\"num\">1</td>"
        rf"<td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">25.00</td>",
        text,
    )
    assert re.search(
        r"<th>合计</th><th class=\"num\">4</th><th class=\"num\">1</th><th class=\"num\">1</th>"
        r"<th class=\"num\">2</th><th class=\"num\">17.50</th>",
        text,
    )
    assert "2026年上半年未开启考核报送" in text
    assert "各乡镇(街道)得分率" in body
    assert '<td class="num">50.0%</td><td class="num">50.0%</td><td class="num">0.0%</td>' in (
        text
    )  # t0: council, congress, archives
    assert "第二季度" in text and "17.50" in text
    assert text.count('<span class="ok">达到</span>') == 2


def test_the_svg_is_self_contained(dash, client):
    a = dash
    client.force_login(a.users["county_admin"])
    body = client.get(url(a.county)).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", body, flags=re.S)
    # grade ring and bars, indicators overall and by township, trend ×2, membership (the
    # latest period, 2026-Q2, has no assessment period: no completeness charts)
    assert len(svgs) == 7
    for svg in svgs:
        addresses = set(re.findall(r"https?://[^\s\"'<>)]+", svg))
        assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
        assert "<script" not in svg and "<!--" not in svg and "<?xml" not in svg
        assert "WenQuanYi Micro Hei" in svg and "Microsoft YaHei" in svg
        head = svg[: svg.index(">")]
        assert "viewBox=" in head and " width=" not in head and 'role="img"' in head
    # the whole page: no address off the site (the SVG namespaces aside), no outside script
    addresses = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", body))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/js/forms.js" defer>']
    assert "2026年第二季度" in body


def test_completeness_on_time_late_and_missing(world, client, monkeypatch):
    """The world's 2026-Q1 (published run and open period, due Apr 10): v0 submits late
    (Apr 11), v1 on time (Apr 10), v2 and v3 never.
    t0: 按时 1, 逾期 1, 未报送 0, 报送率 2/2 = 100.0%; t1: 未报送 2, 0.0%; 合计 4, 50.0%."""
    a = world.a

    def submit(key, village_index, when):
        user = a.users[key]
        monkeypatch.setattr(timezone, "now", lambda: timezone.make_aware(when))
        with activate(Scope.for_node(a.villages[village_index])):
            submission = Submission.objects.select_related("period", "expected").get(
                period=a.periods[0], village=a.villages[village_index]
            )
            submissions.submission_submit(actor=user, submission=submission)

    submit("village_secretary", 0, datetime.datetime(2026, 4, 11, 9, 0))
    submit("village_secretary_sibling", 1, datetime.datetime(2026, 4, 10, 23, 0))
    monkeypatch.undo()
    board = board_of(a, a.county, period_key="2026-Q1")
    t0, t1 = board.completeness
    assert (t0.expected, t0.on_time, t0.late, t0.missing, t0.submitted_share) == (
        2, 1, 1, 0, "100.0%"
    )  # fmt: skip
    assert (t1.expected, t1.on_time, t1.late, t1.missing, t1.submitted_share) == (
        2, 0, 0, 2, "0.0%"
    )  # fmt: skip
    total = board.completeness_total
    assert (total.expected, total.on_time, total.late, total.missing) == (4, 1, 1, 2)
    client.force_login(a.users["county_admin"])
    body = client.get(url(a.county, period="2026-Q1")).content.decode()
    assert (
        '<th>合计</th><th class="num">4</th><th class="num">1</th><th class="num">1</th>'
        '<th class="num">2</th><th class="num">50.0%</th>'
    ) in body
    assert "各乡镇(街道)报送情况(村数)" in body
    client.force_login(a.users["township_staff"])
    body = client.get(url(a.townships[0], period="2026-Q1")).content.decode()
    assert f"<td>{a.villages[0].name}</td><td>逾期报送</td>" in body
    assert f"<td>{a.villages[1].name}</td><td>按时报送</td>" in body
    assert a.villages[2].name not in body


def test_who_sees_which_dashboard(world, client):
    a, b = world.a, world.b
    county_a, t0, t1, v0 = a.county, a.townships[0], a.townships[1], a.villages[0]
    expected = {
        "county_admin": {county_a: 200, t0: 200, t1: 200, v0: 404, a.groups[0]: 404},
        "county_viewer": {county_a: 200, t0: 200, t1: 200},
        "township_staff": {t0: 200, t1: 404, county_a: 404, v0: 404},
        "village_secretary": {v0: 404, t0: 404, county_a: 404},
        "group_leader": {a.groups[0]: 404, v0: 404},
    }
    for role, pages in expected.items():
        client.force_login(a.users[role])
        for node, status in pages.items():
            assert client.get(url(node)).status_code == status, (role, node.name)
    client.force_login(b.users["county_admin"])
    assert client.get(url(county_a)).status_code == 404
    assert client.get(url(t0)).status_code == 404
    assert client.get(url(b.county)).status_code == 200


def test_township_staff_see_their_villages(dash, client):
    a = dash
    client.force_login(a.users["township_staff"])
    response = client.get(url(a.townships[0], period="2026-H1"))
    assert response.status_code == 200
    body = response.content.decode()
    text = re.sub(r"<svg.*?</svg>", "", body, flags=re.S)
    v0, v1 = a.villages[0].name, a.villages[1].name
    assert f'<td>{v0}</td><td class="num">50.00</td><td>一流</td>' in text
    assert f'<td>{v1}</td><td class="num">0.00</td><td>不合格</td>' in text
    assert a.villages[2].name not in body and a.townships[1].name not in body
    # 得分率 by village: v0 council 100%, congress 100%; v1 0%
    assert '<td class="num">100.0%</td><td class="num">100.0%</td><td class="num">0.0%</td>' in (
        text
    )
    assert "各村(社区)会员占常住人口比例" in text


def test_bad_input_gets_a_chinese_error(dash, client):
    a = dash
    client.force_login(a.users["county_admin"])
    bad = client.get(url(a.county, period="2026-Q9"))
    assert bad.status_code == 400 and "统计期格式" in bad.content.decode()
    missing = client.get(url(a.county, period="2025-Q1"))
    assert missing.status_code == 404 and dashboard.PERIOD_MISSING in missing.content.decode()
    unknown = client.get(url(a.county, period="2026-H1", indicator="nope"))
    body = unknown.content.decode()
    assert unknown.status_code == 400 and dashboard.INDICATOR_MISSING in body
    assert "<svg" in body  # the figures are still there


def test_no_published_run_yet(world, client):
    a = world.a
    client.force_login(a.users["county_admin"])
    # every node of the world is in its published 2026-Q1 run: a township made after it is
    # in none
    admin = a.users["county_admin"]
    with a.scope():
        township = association_services.association_create(
            actor=admin, parent=a.county, name="新设镇", division_code="130534190"
        )
    body = client.get(url(township)).content.decode()
    assert "尚无发布的考核结果" in body and "<svg" not in body


def test_links_to_the_dashboard(world, client):
    a = world.a
    link = lambda node: f'href="{url(node)}"'  # noqa: E731
    client.force_login(a.users["county_admin"])
    assert link(a.county) in client.get(reverse("node-detail", args=[a.county.pk])).content.decode()
    run_list = client.get(reverse("report-run-list", args=[a.county.pk])).content.decode()
    assert link(a.county) in run_list
    client.force_login(a.users["township_staff"])
    township = a.townships[0]
    assert link(township) in client.get(reverse("node-detail", args=[township.pk])).content.decode()
    results = client.get(reverse("report-run-list", args=[township.pk])).content.decode()
    assert link(township) in results
    client.force_login(a.users["village_secretary"])
    page = client.get(reverse("node-detail", args=[a.villages[0].pk])).content.decode()
    assert "考核看板" not in page


def test_the_query_count_does_not_grow_with_villages(
    hand,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    """2026-Q2 published with the world's four villages, then six villages more and 2026-Q3
    published with ten; both periods opened: the two dashboards cost the same queries."""
    from reports import periods_services
    from reports.models import AssessmentPeriod

    a, version = hand
    admin = a.users["county_admin"]
    with a.scope():
        quarterly = AssessmentPeriod.objects.get(pk=a.periods[0].pk).version
        periods_services.period_open(
            actor=admin, county=a.county, key="2026-Q2", version=quarterly,
            due_on=datetime.date(2026, 7, 10),
        )  # fmt: skip
    publish(a, version, "2026-Q2", django_capture_on_commit_callbacks)
    with a.scope():
        for n in range(6):
            association_services.association_create(
                actor=admin,
                parent=a.townships[n % 2],
                name=f"新村{n}",
                division_code=f"{a.townships[n % 2].division_code}{300 + n:03d}",
            )
        periods_services.period_open(
            actor=admin, county=a.county, key="2026-Q3", version=quarterly,
            due_on=datetime.date(2026, 10, 10),
        )  # fmt: skip
    publish(a, version, "2026-Q3", django_capture_on_commit_callbacks)
    client.force_login(admin)

    def count(node, period):
        client.get(url(node, period=period))  # sessions and caches warmed
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(node, period=period))
        assert response.status_code == 200
        return len(queries.captured_queries), response.content.decode()

    small, _ = count(a.county, "2026-Q2")
    big, body = count(a.county, "2026-Q3")
    assert small == big, (small, big)
    assert '<th>合计</th><th class="num">10</th>' in body  # 应报 10 (4 + 6), 参评 10
    small_t, _ = count(a.townships[0], "2026-Q2")
    big_t, body = count(a.townships[0], "2026-Q3")
    assert small_t == big_t and "新村4" in body
    assert big <= 12, big
