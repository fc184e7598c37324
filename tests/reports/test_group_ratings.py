"""五好小组 / 五有小组 ratings: the township's staff tick the ten criteria of a village's groups
in one POST, the next period's page is prefilled from them, a locked period refuses changes,
the village reads them, a sibling village's page is 404; the facts beside the ticks; report
runs copy the ratings into the snapshot and the targets count them.

World (tests/conftest.py): county A, township t0 with villages v0, v1 (groups g0, g1 of v0),
period 2026-Q1 open; township_staff sits at t0, village_secretary at v0."""

import datetime

import pytest
from django.urls import reverse

from activities import services as activity_services
from associations.models import ChangeRecord, Level
from associations.periods import parse_period
from members import services as member_services
from reports import group_ratings, periods_services, targets
from reports.models import FIVE_GOOD_CRITERIA, FIVE_HAVE_CRITERIA, GroupRating, SnapshotNode
from reports.snapshots import build_rows
from tests.reports.test_runs import published_run

COUNTS = ("groups", "rated_groups", "five_good", "five_have")

pytestmark = pytest.mark.django_db

GOOD = [k for k, _ in FIVE_GOOD_CRITERIA]
HAVE = [k for k, _ in FIVE_HAVE_CRITERIA]


@pytest.fixture
def a(world):
    return world.a


def url(village, key="2026-Q1"):
    return reverse("group-ratings", kwargs={"pk": village.pk, "key": key})


def ticks(group, keys, note=""):
    data = {f"g{group.pk}_{k}": "on" for k in keys}
    data[f"g{group.pk}_note"] = note
    return data


def ratings_of(a, period):
    with a.scope():
        return {r.node_id: r for r in GroupRating.objects.filter(period=period)}


def test_township_staff_rate_a_village_in_one_post(client, a):
    """g0: all five 五好 and four 五有 (no 文体器材) → 五好 only; g1: all five 五有 → 五有 only."""
    v0, g0, g1 = a.villages[0], a.groups[0], a.groups[1]
    client.force_login(a.users["township_staff"])
    page = client.get(url(v0))
    body = page.content.decode()
    assert page.status_code == 200 and g0.name in body and g1.name in body
    assert body.count('type="checkbox"') == 20 and "保存评定" in body
    data = {**ticks(g0, GOOD + HAVE[:4], note="场所在村部"), **ticks(g1, HAVE)}
    response = client.post(url(v0), data)
    assert response.status_code == 302
    saved = ratings_of(a, a.periods[0])
    assert saved[g0.pk].five_good and not saved[g0.pk].five_have
    assert saved[g1.pk].five_have and not saved[g1.pk].five_good
    assert saved[g0.pk].note == "场所在村部" and saved[g0.pk].rated_by == a.users["township_staff"]
    with a.scope():
        records = ChangeRecord.objects.filter(
            object_type="reports.GroupRating", object_id__in=[r.pk for r in saved.values()]
        )
        assert records.count() == 2
    page = client.get(url(v0))
    assert page.context["five_good"] == 1 and page.context["five_have"] == 1
    assert page.context["rated"] == 2
    # saving the same ticks again changes nothing and records nothing more
    client.post(url(v0), data)
    with a.scope():
        assert ChangeRecord.objects.filter(object_type="reports.GroupRating").count() == 2
    # unticking a criterion: g0 is no longer 五好
    client.post(url(v0), {**ticks(g0, GOOD[:4] + HAVE[:4]), **ticks(g1, HAVE)})
    assert not ratings_of(a, a.periods[0])[g0.pk].five_good


def test_next_period_prefilled_and_locked_period_refused(client, a):
    v0, g0, g1 = a.villages[0], a.groups[0], a.groups[1]
    q1 = a.periods[0]
    admin = a.users["county_admin"]
    client.force_login(a.users["township_staff"])
    client.post(url(v0), {**ticks(g0, GOOD), **ticks(g1, [])})
    with a.scope():
        q2 = periods_services.period_open(
            actor=admin,
            county=a.county,
            key="2026-Q2",
            version=q1.version,
            due_on=datetime.date(2026, 7, 10),
        )
    page = client.get(url(v0, "2026-Q2"))
    rows = {row["group"].pk: row for row in page.context["rows"]}
    assert rows[g0.pk]["rating"] is None and rows[g0.pk]["prefilled_from"] == q1
    assert all(rows[g0.pk]["values"][k] for k in GOOD) and rows[g0.pk]["five_good"]
    assert "预填" in page.content.decode()
    assert ratings_of(a, q2) == {}  # a prefill saves nothing

    with a.scope():
        periods_services.period_lock(actor=admin, period=q1)
    page = client.get(url(v0))
    assert 'type="checkbox"' not in page.content.decode()  # read-only once locked
    refused = client.post(url(v0), ticks(g0, GOOD + HAVE))
    assert refused.status_code == 400 and "考核期已锁定" in refused.content.decode()
    assert not ratings_of(a, q1)[g0.pk].five_have


def test_village_reads_only_and_others_are_404(client, a, world):
    v0, v1, g0 = a.villages[0], a.villages[1], a.groups[0]
    client.force_login(a.users["township_staff"])
    client.post(url(v0), ticks(g0, GOOD, note="带头好"))
    client.force_login(a.users["village_secretary"])
    page = client.get(url(v0))
    body = page.content.decode()
    assert page.status_code == 200 and 'type="checkbox"' not in body and "带头好" in body
    assert "本页只读" in body
    assert client.post(url(v0), ticks(g0, HAVE)).status_code == 403
    assert client.get(url(v1)).status_code == 404  # a sibling village
    assert client.get(url(g0)).status_code == 404  # a group node is not rated as a village
    client.force_login(a.users["township_staff_sibling"])
    assert client.get(url(v0)).status_code == 404
    assert client.post(url(v0), ticks(g0, HAVE)).status_code == 404
    client.force_login(world.b.users["county_admin"])
    assert client.get(url(v0)).status_code == 404
    client.force_login(a.users["township_staff"])
    assert client.get(url(v0, "2031-Q1")).status_code == 404  # no such period
    assert client.get(url(v0, "xx")).status_code == 404


def test_bad_input_loses_nothing(client, a):
    v0, g0 = a.villages[0], a.groups[0]
    client.force_login(a.users["township_staff"])
    data = ticks(g0, GOOD, note="长" * 301)
    response = client.post(url(v0), data)
    assert response.status_code == 400 and "备注不能超过 300 字" in response.content.decode()
    rows = {row["group"].pk: row for row in response.context["rows"]}
    assert all(rows[g0.pk]["values"][k] for k in GOOD)  # the ticks are still there
    assert ratings_of(a, a.periods[0]) == {}


def test_facts_beside_the_ticks(client, a):
    """g0 of v0 over 2026-Q1: activities on 10 and 20 January and 5 March → 2 months of 3;
    its leader (member 0, leader from 1 January) visits twice in February → 2 visits. g1:
    none. Read in a fixed number of queries whatever the groups."""
    v0, g0 = a.villages[0], a.groups[0]
    admin = a.users["county_admin"]
    member = a.members[0]
    with a.scope():
        member_services.group_role_assign(
            actor=admin, member=member, role="leader", starts_on=datetime.date(2026, 1, 1)
        )
        for day in (
            datetime.date(2026, 1, 10),
            datetime.date(2026, 1, 20),
            datetime.date(2026, 3, 5),
        ):
            activity_services.activity_create(
                actor=admin, association=g0, kind="meeting", meeting_type="group_meeting",
                date=day, attendees=[member],
            )  # fmt: skip
        for day in (datetime.date(2026, 2, 3), datetime.date(2026, 2, 17)):
            activity_services.visit_record(
                actor=admin, visitor=member, household=a.households[0], visited_on=day,
                purpose="policy",
            )  # fmt: skip
        facts = group_ratings.facts(v0, a.periods[0])
    assert facts[g0.pk] == {"activity_months": 2, "months": 3, "visits": 2}
    assert a.groups[1].pk not in facts
    client.force_login(a.users["township_staff"])
    body = client.get(url(v0)).content.decode()
    assert "活动月数 2/3" in body and "入户走访 2 次" in body and "活动月数 0/3" in body


def build_run(a, run):
    """The snapshot rows of a run rebuilt (not saved) for the world's published Q1 run."""
    with a.scope():
        return build_rows(run, parse_period("2026-Q1"))


def test_snapshot_counts_and_targets_achieved(client, a, django_capture_on_commit_callbacks):
    """Ratings: g0 (v0) 五好 and 五有, g1 (v0) 五好, g2 (v1) 五有, g3 (v1) nothing ticked (the
    page saves every group of the village), t1's groups not rated.
    v0: 2 groups, 2 rated, 五好 2, 五有 1; v1: 2 groups, 2 rated, 五好 0, 五有 1;
    t0: 五好 2, 五有 2; t1: 0, 0; county: 五好 2, 五有 2."""
    g0, g1, g2 = a.groups[0], a.groups[1], a.groups[2]
    v0, v1 = a.villages[0], a.villages[1]
    t0, t1 = a.townships
    client.force_login(a.users["township_staff"])
    client.post(url(v0), {**ticks(g0, GOOD + HAVE), **ticks(g1, GOOD)})
    client.post(url(v1), ticks(g2, HAVE))
    with a.scope():
        from reports.models import ReportRun

        run = ReportRun.objects.get(pk=a.report_run.pk)
    rows = {r.node_id_at: r for r in build_run(a, run)}
    assert rows[g0.pk].figures["rating"]["five_good"] and rows[g0.pk].figures["rating"]["five_have"]
    assert rows[g0.pk].figures["rating"]["has_equipment"] is True
    assert (
        rows[g1.pk].figures["rating"]["five_good"]
        and not rows[g1.pk].figures["rating"]["five_have"]
    )
    assert not any(rows[a.groups[3].pk].figures["rating"].values())
    assert "rating" not in rows[a.groups[4].pk].figures
    assert {k: rows[v0.pk].figures[k] for k in COUNTS} == {
        "groups": 2,
        "rated_groups": 2,
        "five_good": 2,
        "five_have": 1,
    }
    assert {k: rows[v1.pk].figures[k] for k in COUNTS} == {
        "groups": 2,
        "rated_groups": 2,
        "five_good": 0,
        "five_have": 1,
    }
    for node, good, have in ((t0, 2, 2), (t1, 0, 0), (a.county, 2, 2)):
        assert (rows[node.pk].figures["five_good"], rows[node.pk].figures["five_have"]) == (
            good,
            have,
        )
    assert rows[a.county.pk].figures["groups"] == 8

    # 2026-H1 opened and rated the same way, its run built and published: it ends after the
    # world's published Q1, so the targets count it
    with a.scope():
        version = a.periods[0].version
        periods_services.period_open(
            actor=a.users["county_admin"], county=a.county, key="2026-H1", version=version,
            due_on=datetime.date(2026, 7, 10),
        )  # fmt: skip
    client.post(url(v0, "2026-H1"), {**ticks(g0, GOOD + HAVE), **ticks(g1, GOOD)})
    client.post(url(v1, "2026-H1"), ticks(g2, HAVE))
    run = published_run(a, version, django_capture_on_commit_callbacks)
    with a.scope():
        assert targets.achieved_run(node=a.county, year=2026) == run
        result = targets.achieved(run=run)
        snap = SnapshotNode.objects.get(run=run, node_id_at=v0.pk)
    assert snap.figures["five_good"] == 2
    assert result["townships"][t0.pk]["five_good"] == 2
    assert result["townships"][t0.pk]["five_have"] == 2
    assert result["villages"][v1.pk]["five_have"] == 1
    with a.scope():
        targets.set_township_targets(
            actor=a.users["county_admin"], county=a.county, year=2026,
            numbers={t0.pk: {"five_good": 3, "five_have": 1}},
        )  # fmt: skip
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("node-targets", args=[a.county.pk]) + "?year=2026")
    cells = {row["node"].pk: row["cells"] for row in page.context["rows"]}
    good, have = cells[t0.pk][2], cells[t0.pk][3]
    assert (good["target"], good["achieved"], good["gap"]) == (3, 2, -1)
    assert (have["target"], have["achieved"], have["gap"]) == (1, 2, 1)
    # the township's page: its villages' counts
    client.force_login(a.users["township_staff"])
    page = client.get(reverse("node-targets", args=[t0.pk]) + "?year=2026")
    cells = {row["node"].pk: row["cells"] for row in page.context["rows"]}
    assert [cells[v.pk][2]["achieved"] for v in (v0, v1)] == [2, 0]
    assert [cells[v.pk][3]["achieved"] for v in (v0, v1)] == [1, 1]


def test_group_level_rows_exist_for_every_group(a):
    with a.scope():
        groups = SnapshotNode.objects.filter(run=a.report_run, level=Level.GROUP).count()
    assert groups == len(a.groups)


def test_the_page_reads_set_based(a):
    """The rows of a village (groups, saved and earlier ratings, the facts) take the same
    number of queries with 2 groups as with 5."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from associations import services as association_services

    v0 = a.villages[0]
    with a.scope():
        with CaptureQueriesContext(connection) as two:
            assert len(group_ratings.rating_rows(v0, a.periods[0])) == 2
        for n in range(3):
            association_services.association_create(
                actor=a.users["county_admin"], parent=v0, name=f"新增第{n + 3}组",
                division_code=f"{v0.division_code}{n + 3:03d}",
            )  # fmt: skip
        with CaptureQueriesContext(connection) as five:
            assert len(group_ratings.rating_rows(v0, a.periods[0])) == 5
    assert len(five.captured_queries) == len(two.captured_queries) <= 6
