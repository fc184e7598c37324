"""Indicators that count in some evaluations only (本期不考核), and the grade on the score rate.

The scheme "按期考核" (lines: 一流 ≥ 90, 合格 ≥ 70, 100 points in all), put in use:
  congress_held          met ≥ 1                max 40   year only
  council_quarterly      met ≥ 100              max 30   every evaluation
  group_activity_share   share of target 62.5   max 30   every evaluation
Records (2026; the world has nothing else at county A's first village):
  v0: 理事会 Feb 10, 会员代表大会 Mar 3; its first group g0 an activity in Jan, Feb and Mar,
      its second group nothing.
2026-Q1 at v0: congress 本期不考核 (null, out of the total and of the maximum);
  council met in the one quarter (100%) → 30; groups active every month 1 of 2 = 50% →
  30 × 50 ÷ 62.5 = 24. Total 54 of 60 → rate 54 ÷ 60 × 100 = 90 → 一流村协会 (≥ 90).
  (Counted out of 100, as before, 54 would be 不合格: the unfairness this removes.)
2026-H1 at v0: congress 本期不考核; council 1 of 2 quarters = 50% → 0; groups active every
  month of six: none → 0. Total 0 of 60 → 不合格.
2026 (the year) at v0: every indicator counts: congress held → 40; council 1 of 4 quarters →
  0; groups every month of twelve: none → 0. Total 40 of 100 → rate 40 → 不合格."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from activities import services as activity_services
from reports import defaults, periods_services, scoring, services
from reports.models import SchemeIndicator, SnapshotNode
from reports.submission_models import ManualScore

from .test_runs import build, day

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(world):
    a = world.a
    admin = a.users["county_admin"]
    v0, g0 = a.villages[0], a.groups[0]
    with a.scope():
        scheme = services.scheme_create(
            actor=admin,
            county=a.county,
            year=2026,
            name="按期考核",
            first_class_min=D("90"),
            qualified_min=D("70"),
        )
        version = scheme.versions.get()
        add = lambda **f: services.indicator_add(actor=admin, version=version, **f)  # noqa: E731
        add(key="congress_held", name="", max_score=D("40"), rule="met", threshold=D("1"),
            in_quarter=False, in_half=False)  # fmt: skip
        add(key="council_quarterly", name="", max_score=D("30"), rule="met", threshold=D("100"))
        add(key="group_activity_share", name="", max_score=D("30"), rule="share_of_target",
            threshold=D("62.5"))  # fmt: skip
        version = services.scheme_version_activate(actor=admin, version=version)

        def activity(node, date, kind="publicity", **fields):
            activity_services.activity_create(
                actor=admin, association=node, kind=kind, date=date, **fields
            )

        activity(v0, day(2, 10), "meeting", meeting_type="council")
        activity(v0, day(3, 3), "meeting", meeting_type="congress")
        for month in (1, 2, 3):
            activity(g0, day(month, 12))
    return a, version


def _run(a, version, period, callbacks):
    with callbacks(execute=True):
        run = build(a, version, period)
    with a.scope():
        run.refresh_from_db()
        assert run.state == "done"
        return run, {r.node_id_at: r for r in SnapshotNode.objects.filter(run=run)}


def test_a_quarter_leaves_out_the_year_only_indicator(
    rated, client, django_capture_on_commit_callbacks
):
    a, version = rated
    run, snap = _run(a, version, "2026-Q1", django_capture_on_commit_callbacks)
    v0 = snap[a.villages[0].pk]
    assert v0.indicators["congress_held"] == {"value": None, "score": None, "reason": "本期不考核"}
    assert v0.indicators["council_quarterly"]["score"] == "30.00"
    assert v0.indicators["group_activity_share"]["score"] == "24.00"
    assert v0.total == D("54.00")
    assert (v0.figures["max_score"], v0.figures["rate"]) == ("60.00", "90.00")
    assert v0.grade == "first_class"  # 54 / 60 = 90%: 一流 (54 of 100 would be 不合格)
    v1 = snap[a.villages[1].pk]
    assert (v1.total, v1.grade, v1.figures["max_score"]) == (D("0.00"), "unqualified", "60.00")
    county = snap[a.county.pk]
    assert county.figures["max_score"] == "60.00"
    assert {c["key"]: c["assessed"] for c in county.figures["columns"]} == {
        "congress_held": False, "council_quarterly": True, "group_activity_share": True
    }  # fmt: skip
    # the county's run page says so: 本期不考核 over the column, 得分/满分
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    assert "本期不考核" in page and "总分/满分" in page and "54.00</strong>/60.00" in page


def test_half_year_and_year(rated, django_capture_on_commit_callbacks):
    a, version = rated
    _run_h1, snap = _run(a, version, "2026-H1", django_capture_on_commit_callbacks)
    v0 = snap[a.villages[0].pk]
    assert v0.indicators["congress_held"]["reason"] == "本期不考核"
    assert (v0.total, v0.figures["max_score"], v0.grade) == (D("0.00"), "60.00", "unqualified")
    _run_year, snap = _run(a, version, "2026", django_capture_on_commit_callbacks)
    v0 = snap[a.villages[0].pk]
    assert v0.indicators["congress_held"] == {"value": "1", "score": "40.00", "reason": ""}
    assert v0.indicators["council_quarterly"]["value"] == "25.00"
    assert v0.indicators["council_quarterly"]["score"] == "0.00"
    assert v0.indicators["group_activity_share"]["score"] == "0.00"
    assert (v0.total, v0.figures["max_score"], v0.figures["rate"], v0.grade) == (
        D("40.00"), "100.00", "40.00", "unqualified"
    )  # fmt: skip


def test_grade_on_rate():
    lines = {"first_class_min": D("90"), "qualified_min": D("70")}
    # 54 of 60 → 90 of 100 → 一流; 53.99 of 60 → 89.98 → 合格; 42 of 60 → 70 → 合格
    assert scoring.grade_on_rate(D("54"), applicable_max=60, full_max=100, **lines) == "first_class"
    assert scoring.grade_on_rate(D("53.99"), applicable_max=60, full_max=100, **lines) == (
        "qualified"
    )
    assert scoring.grade_on_rate(D("42"), applicable_max=60, full_max=100, **lines) == "qualified"
    # a scheme of 120 points with lines 108 / 84: 54 of 60 is 90% → 108 of 120 → 一流
    assert (
        scoring.grade_on_rate(
            D("54"), applicable_max=60, full_max=120, first_class_min=108, qualified_min=84
        )
        == "first_class"
    )
    assert scoring.score_rate(D("54"), D("60")) == D("90.00")
    assert scoring.score_rate(D("1"), D("3")) == D("33.33")
    assert scoring.score_rate(D("0"), D("0")) is None


def test_the_evaluations_are_frozen_with_the_version(rated):
    a, version = rated
    with a.scope():
        indicator = SchemeIndicator.objects.get(version=version, key="congress_held")
        with pytest.raises(IntegrityError), transaction.atomic():
            SchemeIndicator.objects.filter(pk=indicator.pk).update(in_quarter=True)
        # a new version copies them, and its draft may change them
        copy = services.scheme_new_version(actor=a.users["county_admin"], version=version)
        copied = SchemeIndicator.objects.get(version=copy, key="congress_held")
        assert (copied.in_quarter, copied.in_half, copied.in_year) == (False, False, True)
        services.indicator_update(actor=a.users["county_admin"], indicator=copied, in_half=True)
        copied.refresh_from_db()
        assert copied.in_half
        with pytest.raises(Exception, match="请至少选择一种考核"):
            services.indicator_update(
                actor=a.users["county_admin"],
                indicator=copied,
                in_quarter=False,
                in_half=False,
                in_year=False,
            )


def test_the_default_scheme_counts_once_a_year_duties_in_the_year_only(world):
    a = world.a
    with a.scope():
        version = a.schemes[0].versions.get()
        flags = {
            i.key: (i.in_quarter, i.in_half, i.in_year)
            for i in SchemeIndicator.objects.filter(version=version)
        }
    assert set(defaults.YEAR_ONLY) == {"congress_held", "training_held", "news_report"}
    for key in defaults.YEAR_ONLY:
        assert flags[key] == (False, False, True)
    assert flags["council_quarterly"] == (True, True, True)
    assert flags["archives"] == (True, True, True)


def test_the_world_run_marks_the_year_only_indicators(world):
    """The world's published 2026-Q1 run on the default scheme: the congress, the training
    and the news report are out (100 − 5 − 5 − 5 = 85 points)."""
    a = world.a
    with a.scope():
        row = SnapshotNode.objects.get(run=a.report_run, node_id_at=a.villages[0].pk)
    assert row.figures["max_score"] == "85.00"
    for key in defaults.YEAR_ONLY:
        assert row.indicators[key]["reason"] == "本期不考核"


def test_a_period_asks_only_for_the_manual_scores_that_count_in_it(world):
    """A year-only manual indicator (the archives checklist) is not on a quarter's or a
    half-year's submissions; an every-evaluation one is on all three."""
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        scheme = services.scheme_create(
            actor=admin,
            county=a.county,
            year=2027,
            name="手工指标",
            first_class_min=D("18"),
            qualified_min=D("10"),
        )
        version = scheme.versions.get()
        add = lambda **f: services.indicator_add(actor=admin, version=version, **f)  # noqa: E731
        add(key="archives", name="档案", max_score=D("10"), rule="met", threshold=D("1"),
            manual=True, in_quarter=False, in_half=False)  # fmt: skip
        add(key="position", name="阵地", max_score=D("10"), rule="met", threshold=D("1"),
            manual=True)  # fmt: skip
        version = services.scheme_version_activate(actor=admin, version=version)
        asked = {}
        for key, due in (("2027-Q1", (2027, 4, 10)), ("2027-H1", (2027, 7, 10)),
                         ("2027", (2028, 1, 15))):  # fmt: skip
            period = periods_services.period_open(
                actor=admin, county=a.county, key=key, version=version,
                due_on=datetime.date(*due),
            )  # fmt: skip
            keys = ManualScore.objects.filter(submission__period=period).values_list(
                "indicator__key", flat=True
            )
            asked[key] = (set(keys), period.expected_units.count())
    villages = len(a.villages)
    assert asked == {
        "2027-Q1": ({"position"}, villages),
        "2027-H1": ({"position"}, villages),
        "2027": ({"archives", "position"}, villages),
    }
    with a.scope():
        assert ManualScore.objects.filter(indicator__key="position").count() == 3 * villages
