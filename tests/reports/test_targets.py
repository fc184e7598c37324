"""Targets (指标分解): county A gives its townships numbers for 2026, township t0 splits them to
its villages v0, v1 (two groups each); achieved counted from a published run.

Permissions chosen: the county admin sets townships' numbers (the viewer reads, POST 403);
the staff of a township split its numbers (the county admin and viewer read the township page,
POST 403; another township's staff 404 by scope); village and group accounts have no targets
page (their own node 404, the township node 404 by scope)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from associations.models import ChangeRecord
from reports import targets
from reports.models import Target, TargetKind
from tests.reports.test_runs import hand, published_run  # noqa: F401 (hand: a fixture)

pytestmark = pytest.mark.django_db

F, Q, G, H = (TargetKind.FIRST_CLASS, TargetKind.QUALIFIED, TargetKind.FIVE_GOOD,
              TargetKind.FIVE_HAVE)  # fmt: skip


def county_sets(a, t0=None, t1=None):
    numbers = {}
    if t0:
        numbers[a.townships[0].pk] = t0
    if t1:
        numbers[a.townships[1].pk] = t1
    with a.scope():
        return targets.set_township_targets(
            actor=a.users["county_admin"], county=a.county, year=2026, numbers=numbers
        )


def township_splits(a, numbers):
    with a.scope():
        return targets.split_targets(
            actor=a.users["township_staff"], township=a.townships[0], year=2026, numbers=numbers
        )


def numbers_of(a, node):
    with a.scope():
        return targets.targets_of(year=2026, nodes=[node]).get(node.pk, {})


def test_county_sets_and_township_splits(world):
    a = world.a
    v0, v1 = a.villages[0], a.villages[1]
    assert county_sets(a, t0={F: 1, Q: 1, G: 3, H: 1}, t1={F: 0}) == 5
    assert numbers_of(a, a.townships[0]) == {F: 1, Q: 1, G: 3, H: 1}
    assert numbers_of(a, a.townships[1]) == {F: 0}
    assert township_splits(a, {v0.pk: {F: 1, G: 2}, v1.pk: {Q: 1, G: 1, H: 1}}) == 5
    assert numbers_of(a, v0) == {F: 1, G: 2}
    assert numbers_of(a, v1) == {Q: 1, G: 1, H: 1}
    # unchanged numbers write nothing; a change is recorded with before and after
    assert county_sets(a, t0={F: 1, Q: 1, G: 3, H: 1}) == 0
    assert county_sets(a, t0={G: 4}) == 1
    with a.scope():
        record = ChangeRecord.objects.filter(
            object_type="reports.Target", node=a.townships[0], action="update"
        ).get()
        assert (record.before["number"], record.after["number"]) == (3, 4)
        assert ChangeRecord.objects.filter(object_type="reports.Target").count() == 11
        row = Target.objects.get(year=2026, node=v0, kind=F)
        assert (row.township_id, row.village_id) == (a.townships[0].pk, v0.pk)


def test_split_over_the_township_number_is_refused(world):
    a = world.a
    v0, v1 = a.villages[0], a.villages[1]
    county_sets(a, t0={F: 1, G: 3})
    with pytest.raises(ValidationError) as error:
        township_splits(a, {v0.pk: {F: 1}, v1.pk: {F: 1}})
    assert error.value.messages == ["“一流村协会”分解到各村的合计 2 个,超过了乡镇指标 1 个。"]
    township_splits(a, {v0.pk: {G: 2}})
    with pytest.raises(ValidationError) as error:  # with what v0 already has: 2 + 2 > 3
        township_splits(a, {v1.pk: {G: 2}})
    assert "“五好小组”分解到各村的合计 4 个,超过了乡镇指标 3 个。" in error.value.messages
    with pytest.raises(ValidationError) as error:  # a kind the county gave nothing
        township_splits(a, {v1.pk: {H: 1}})
    assert "“五有小组”分解到各村的合计 1 个,超过了乡镇指标 0 个。" in error.value.messages
    # and the county cannot take back below what is split
    with pytest.raises(ValidationError) as error:
        county_sets(a, t0={G: 1})
    assert "不能少于 2" in error.value.messages[0]
    assert numbers_of(a, v1) == {}


def test_village_numbers_are_bounded(world):
    a = world.a
    v0 = a.villages[0]
    county_sets(a, t0={F: 2, Q: 2, G: 9, H: 9})
    with pytest.raises(ValidationError) as error:
        township_splits(a, {v0.pk: {F: 2}})
    assert error.value.messages == [f"{v0.name}的“一流村协会”指标只能是 0 或 1(是否争创)。"]
    with pytest.raises(ValidationError) as error:  # v0 has two groups
        township_splits(a, {v0.pk: {G: 3}})
    assert error.value.messages[0].startswith(f"{v0.name}只有 2 个会员小组")
    with pytest.raises(ValidationError):
        township_splits(a, {v0.pk: {Q: -1}})
    with pytest.raises(ValidationError):  # another township's village
        township_splits(a, {a.villages[2].pk: {F: 1}})
    assert numbers_of(a, v0) == {}


def test_who_may_set_and_split(world):
    a = world.a
    for role in ("county_viewer", "township_staff"):
        with a.scope(), pytest.raises(PermissionDenied):
            targets.set_township_targets(
                actor=a.users[role], county=a.county, year=2026, numbers={}
            )
    for role in ("county_admin", "county_viewer", "village_secretary"):
        with a.scope(), pytest.raises(PermissionDenied):
            targets.split_targets(
                actor=a.users[role], township=a.townships[0], year=2026, numbers={}
            )


def url(node, **query):
    base = reverse("node-targets", args=[node.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_pages_and_permissions(client, world):
    a, b = world.a, world.b
    t0, t1 = a.townships
    client.force_login(a.users["county_admin"])
    page = client.get(url(a.county, year=2026))
    assert page.status_code == 200 and "保存指标" in page.content.decode()
    key = f"n_{t0.pk}_{F.value}"
    response = client.post(url(a.county, year=2026), {key: "1", f"n_{t0.pk}_five_good": "3"})
    assert response.status_code == 302
    assert numbers_of(a, t0) == {F: 1, G: 3}
    bad = client.post(url(a.county, year=2026), {key: "x"})
    assert bad.status_code == 400 and "请填写整数。" in bad.content.decode()
    assert client.get(url(a.county, year="20x6")).status_code == 400
    assert client.post(url(t0, year=2026), {}).status_code == 403  # splitting is the township's
    assert client.get(url(t0, year=2026)).status_code == 200
    assert client.get(url(a.villages[0])).status_code == 404
    assert client.get(url(b.county)).status_code == 404

    client.force_login(a.users["county_viewer"])
    page = client.get(url(a.county, year=2026)).content.decode()
    assert "保存指标" not in page
    assert client.post(url(a.county, year=2026), {key: "2"}).status_code == 403

    client.force_login(a.users["township_staff"])  # staff of t0
    page = client.get(url(t0, year=2026))
    assert page.status_code == 200 and "本乡镇(街道)指标" in page.content.decode()
    assert client.get(url(t1)).status_code == 404
    assert client.get(url(a.county)).status_code == 404
    v0 = a.villages[0]
    split = {f"n_{v0.pk}_five_good": "2", f"n_{a.villages[1].pk}_five_good": "2"}
    over = client.post(url(t0, year=2026), split)
    assert over.status_code == 400
    assert "“五好小组”分解到各村的合计 4 个,超过了乡镇指标 3 个。" in over.content.decode()
    not_01 = client.post(url(t0, year=2026), {f"n_{v0.pk}_first_class": "2"})
    assert not_01.status_code == 400 and "只能填 0 或 1。" in not_01.content.decode()
    ok = client.post(url(t0, year=2026), {f"n_{v0.pk}_first_class": "1"})
    assert ok.status_code == 302 and numbers_of(a, v0) == {F: 1}

    for role in ("village_secretary", "group_leader"):
        client.force_login(a.users[role])
        assert client.get(url(t0)).status_code == 404
        assert client.get(url(v0)).status_code == 404


def test_achieved_from_the_latest_published_run(
    client,
    hand,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """The hand-worked records of test_runs (lines 一流 ≥ 50, 合格 ≥ 20), built and published
    as 2026-H1: the world published 2026-Q1 already, H1 ends later, so H1 counts. Over the
    half year the council met in one quarter of two (理事会按季召开 50% < 100: 0), so
      v0 (t0): 会员代表大会 20 → 合格;  v1 (t0): 0 → 不合格
      v2 (t1): 会员代表大会 20 → 合格;  v3 (t1): 0 → 不合格
    t0: 一流 0, 合格 1; t1: 一流 0, 合格 1. Targets t0 一流 2 合格 1 → 差额 −2, 0.
    No group was rated for 2026-H1: 五好 / 五有 achieved 0 (counted, not “—”)."""
    a, version = hand
    h1 = published_run(a, version, django_capture_on_commit_callbacks)
    county_sets(a, t0={F: 2, Q: 1}, t1={F: 0, Q: 1})
    with a.scope():
        chosen = targets.achieved_run(node=a.county, year=2026)
        assert chosen == h1
        assert targets.achieved_run(node=a.townships[0], year=2026) == h1
        assert targets.achieved_run(node=a.county, year=2025) is None
        result = targets.achieved(run=h1)
    t0, t1 = a.townships
    v0, v1, v2, v3 = a.villages
    none = {G: 0, H: 0}
    assert result["townships"] == {t0.pk: {F: 0, Q: 1, **none}, t1.pk: {F: 0, Q: 1, **none}}
    assert result["villages"] == {
        v0.pk: {F: 0, Q: 1, **none}, v1.pk: {F: 0, Q: 0, **none},
        v2.pk: {F: 0, Q: 1, **none}, v3.pk: {F: 0, Q: 0, **none},
    }  # fmt: skip
    client.force_login(a.users["county_admin"])
    page = client.get(url(a.county, year=2026))
    rows = {row["node"].pk: row for row in page.context["rows"]}
    first = rows[t0.pk]["cells"][0]
    assert (first["target"], first["achieved"], first["gap"]) == (2, 0, -2)
    qualified = rows[t0.pk]["cells"][1]
    assert (qualified["target"], qualified["achieved"], qualified["gap"]) == (1, 1, 0)
    five_good = rows[t0.pk]["cells"][2]
    assert (five_good["target"], five_good["achieved"], five_good["gap"]) == (None, 0, None)
    assert "按考核期的小组评定计数" in page.content.decode()

    # the township page: its villages' achieved; a year without a published run shows none
    client.force_login(a.users["township_staff"])
    page = client.get(url(t0, year=2026))
    cells = {row["node"].pk: row["cells"] for row in page.context["rows"]}
    assert [cells[v.pk][1]["achieved"] for v in (v0, v1)] == [1, 0]
    assert client.get(url(t0, year=2026, run=999999)).status_code == 404
    empty = client.get(url(t0, year=2025))
    assert all(c["achieved"] is None for row in empty.context["rows"] for c in row["cells"])
    assert "本年度尚无发布的考核结果" in empty.content.decode()
