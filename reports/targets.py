"""Targets (指标分解): the county admin gives each township its numbers for a year (一流 / 合格
villages, 五好 / 五有 groups); the township's staff split them to their villages. For 一流 and
合格 a village's target is 0 or 1 (this village should become 一流 / 合格); for 五好 / 五有 it
is a number of the village's groups, at most the groups it has. What the villages are given
together may not exceed the township's number.

Achieved: the 一流 / 合格 villages of the latest published run of the year (the run whose
period ends last; of two ending together, the longer period: the year before its last
half, before its last quarter), or of a given run, counted from its snapshot grades
(SnapshotNode.grade, by the township as the snapshot recorded it). 合格 counts the villages
graded 合格村协会 only (一流 villages are counted under 一流). 五好 / 五有 groups are the
groups rated so (reports.group_ratings) for the run's period, as the run copied them into its
village rows' figures; a run built before group ratings existed recorded none, and its
achieved stays None (shown as “—”), never a number made up.

Who: the county admin (县级管理员) of the county sets townships' numbers; the township staff
(乡镇专干) of the township split them. County viewers and county admins read a township's
split; village and group accounts have no targets page (404 by scope)."""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction

from associations import permissions as association_permissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, Level, Role
from associations.periods import parse_period

from .models import Grade, ReportRun, SnapshotNode, Target, TargetKind

KINDS = list(TargetKind)
GROUP_KINDS = {TargetKind.FIVE_GOOD, TargetKind.FIVE_HAVE}
GRADE_OF_KIND = {TargetKind.FIRST_CLASS: Grade.FIRST_CLASS, TargetKind.QUALIFIED: Grade.QUALIFIED}
TARGET_FIELDS = ["year", "node", "kind", "number"]
GROUP_KINDS_NOTE = "五好小组、五有小组按考核期的小组评定计数(由乡镇专干评定)。"


def can_set_township_targets(user, county: Association) -> bool:
    return user.role == Role.COUNTY_ADMIN and user.node_id == county.pk


def can_split_targets(user, township: Association) -> bool:
    return user.role == Role.TOWNSHIP_STAFF and user.node_id == township.pk


def _check_year(year) -> int:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError("年度应在 2000 至 2100 之间。", code="year")
    return year


def _check_number(kind, number, label: str) -> int:
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise ValidationError(
            f"{label}的“{TargetKind(kind).label}”应为不小于 0 的整数。", code="number"
        )
    return number


def targets_of(*, year: int, nodes) -> dict[int, dict[str, int]]:
    """{node id: {kind: number}} of the nodes for the year (a kind not set is absent)."""
    result: dict[int, dict[str, int]] = {}
    for row in Target.objects.filter(year=year, node__in=list(nodes)).values(
        "node_id", "kind", "number"
    ):
        result.setdefault(row["node_id"], {})[row["kind"]] = row["number"]
    return result


def _write(*, actor, node: Association, year: int, numbers: dict) -> int:
    """Create or update the node's targets for the year; one change record per changed row.
    Returns how many rows changed."""
    existing = {t.kind: t for t in Target.objects.filter(year=year, node=node)}
    changed = 0
    for kind, number in numbers.items():
        target = existing.get(kind)
        if target is not None and target.number == number:
            continue
        before = snapshot(target, TARGET_FIELDS) if target is not None else None
        action = ChangeRecord.Action.UPDATE if target else ChangeRecord.Action.CREATE
        if target is None:
            target = Target(year=year, node=node, kind=kind)
            target.place_under(node)
        target.number = number
        target.assigned_by = actor
        target.save()
        record_change(
            actor=actor,
            node=node,
            obj=target,
            action=action,
            before=before,
            after=snapshot(target, TARGET_FIELDS),
        )
        changed += 1
    return changed


@transaction.atomic
def set_township_targets(*, actor, county: Association, year: int, numbers: dict) -> int:
    """The county admin sets townships' numbers: `numbers` is {township id: {kind: number}}.
    A township's number may not fall below what it has already given its villages."""
    if county.level != Level.COUNTY:
        raise ValidationError("乡镇指标由县级协会下达。", code="not_county")
    association_permissions.require(
        can_set_township_targets(actor, county), "只有县级管理员可以下达乡镇指标。"
    )
    _check_year(year)
    townships = {
        t.pk: t
        for t in Association.objects.filter(parent=county, level=Level.TOWNSHIP, county=county)
    }
    errors = []
    for township_id, kinds in numbers.items():
        township = townships.get(township_id)
        if township is None:
            raise ValidationError("只能给本县的乡镇(街道)下达指标。", code="not_township")
        for kind, number in kinds.items():
            _check_number(kind, number, township.name)
    given = _given_to_villages(year, list(townships.values()))
    for township_id, kinds in numbers.items():
        for kind, number in kinds.items():
            split = given.get(township_id, Counter())[kind]
            if number < split:
                errors.append(
                    f"{townships[township_id].name}已分解到村的“{TargetKind(kind).label}”"
                    f"共 {split} 个,乡镇指标不能少于 {split}(填写的是 {number})。"
                )
    if errors:
        raise ValidationError(errors, code="below_split")
    return sum(
        _write(actor=actor, node=townships[tid], year=year, numbers=kinds)
        for tid, kinds in numbers.items()
    )


def _given_to_villages(year: int, townships) -> dict[int, Counter]:
    given: dict[int, Counter] = {}
    for row in Target.objects.filter(
        year=year, node__level=Level.VILLAGE, node__parent__in=townships
    ).values("node__parent_id", "kind", "number"):
        given.setdefault(row["node__parent_id"], Counter())[row["kind"]] += row["number"]
    return given


def group_counts(villages) -> dict[int, int]:
    counts = Counter(
        Association.objects.filter(level=Level.GROUP, parent__in=list(villages)).values_list(
            "parent_id", flat=True
        )
    )
    return {v.pk: counts[v.pk] for v in villages}


@transaction.atomic
def split_targets(*, actor, township: Association, year: int, numbers: dict) -> int:
    """The township staff split the township's numbers to its villages: `numbers` is
    {village id: {kind: number}}; villages and kinds not named keep what they have."""
    if township.level != Level.TOWNSHIP:
        raise ValidationError("指标由乡镇(街道)分解到村(社区)。", code="not_township")
    association_permissions.require(
        can_split_targets(actor, township), "只有本乡镇(街道)的专干可以分解指标。"
    )
    _check_year(year)
    villages = {v.pk: v for v in Association.objects.filter(parent=township, level=Level.VILLAGE)}
    groups = group_counts(list(villages.values()))
    errors = []
    for village_id, kinds in numbers.items():
        village = villages.get(village_id)
        if village is None:
            raise ValidationError("只能给本乡镇(街道)的村(社区)分解指标。", code="not_village")
        for kind, number in kinds.items():
            _check_number(kind, number, village.name)
            label = TargetKind(kind).label
            if kind in GROUP_KINDS and number > groups[village_id]:
                errors.append(
                    f"{village.name}只有 {groups[village_id]} 个会员小组,"
                    f"“{label}”指标不能超过 {groups[village_id]}(填写的是 {number})。"
                )
            elif kind not in GROUP_KINDS and number > 1:
                errors.append(f"{village.name}的“{label}”指标只能是 0 或 1(是否争创)。")
    if errors:
        raise ValidationError(errors, code="village_number")
    own = targets_of(year=year, nodes=[township]).get(township.pk, {})
    current = {
        vid: dict(kinds) for vid, kinds in targets_of(year=year, nodes=villages.values()).items()
    }
    for village_id, kinds in numbers.items():
        current.setdefault(village_id, {}).update(kinds)
    for kind in KINDS:
        total = sum(kinds.get(kind, 0) for kinds in current.values())
        limit = own.get(kind, 0)
        if total > limit:
            errors.append(f"“{kind.label}”分解到各村的合计 {total} 个,超过了乡镇指标 {limit} 个。")
    if errors:
        raise ValidationError(errors, code="over_township")
    return sum(
        _write(actor=actor, node=villages[vid], year=year, numbers=kinds)
        for vid, kinds in numbers.items()
    )


# --- achieved ------------------------------------------------------------------------------


def published_runs(*, node: Association, year: int) -> list[ReportRun]:
    """The published runs of the year a county or township page may count from. A run sits
    at the county node (hidden from township accounts), so a township reaches it through
    its own snapshot row."""
    if node.level == Level.COUNTY:
        runs = ReportRun.objects.filter(
            county_id=node.pk, published_at__isnull=False, period_key__startswith=str(year)
        )
    else:
        runs = [
            row.run
            for row in SnapshotNode.objects.filter(
                level=Level.TOWNSHIP,
                node_id_at=node.pk,
                run__published_at__isnull=False,
                run__period_key__startswith=str(year),
            ).select_related("run")
        ]
    return sorted(
        (run for run in runs if run.period_key[:4] == str(year) and len(run.period_key) in (4, 7)),
        key=_order,
        reverse=True,
    )


def _order(run: ReportRun):
    """Of the period ending last, the longest first (year, then half, then quarter)."""
    period = parse_period(run.period_key)
    return (period.end, -period.start.toordinal(), run.number)


def achieved_run(*, node: Association, year: int) -> ReportRun | None:
    """The latest published run of the year (see the module)."""
    runs = published_runs(node=node, year=year)
    return runs[0] if runs else None


def achieved(*, run: ReportRun | None, township_ids=None) -> dict:
    """{"townships": {township id: {kind: n}}, "villages": {village id: {kind: n}}}: 一流 /
    合格 (0/1 per village) from the run's village snapshot rows' grades, 五好 / 五有 (groups)
    from their figures (a kind the run did not record is absent).
    `township_ids` limits it to those townships' villages (as the snapshot recorded them)."""
    townships: dict[int, dict] = {}
    villages: dict[int, dict] = {}
    if run is None:
        return {"townships": townships, "villages": villages}
    rows = SnapshotNode.objects.filter(run_id=run.pk, level=Level.VILLAGE)
    if township_ids is not None:
        rows = rows.filter(township_node_id__in=list(township_ids))
    for node_id, township_id, grade, figures in rows.values_list(
        "node_id_at", "township_node_id", "grade", "figures"
    ):
        counts = townships.setdefault(township_id, {kind: 0 for kind in GRADE_OF_KIND})
        mine = {kind: 0 for kind in GRADE_OF_KIND}
        for kind, wanted in GRADE_OF_KIND.items():
            if grade == wanted:
                counts[kind] += 1
                mine[kind] = 1
        for kind in GROUP_KINDS:
            if kind.value in (figures or {}):
                mine[kind] = figures[kind.value]
                counts[kind] = counts.get(kind, 0) + figures[kind.value]
        villages[node_id] = mine
    return {"townships": townships, "villages": villages}


def table(*, nodes, targets: dict, done: dict, have_run: bool) -> list[dict]:
    """Rows of nodes × kinds: target, achieved (None when not counted) and 差额 (achieved −
    target, None when either is missing)."""
    rows = []
    for node in nodes:
        cells = []
        for kind in KINDS:
            target = targets.get(node.pk, {}).get(kind)
            got = None
            if have_run:
                default = None if kind in GROUP_KINDS else 0
                got = done.get(node.pk, {}).get(kind, default)
            gap = got - target if got is not None and target is not None else None
            cells.append({"kind": kind, "target": target, "achieved": got, "gap": gap})
        rows.append({"node": node, "cells": cells})
    return rows
