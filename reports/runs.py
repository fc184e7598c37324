"""Report runs (考核生成) on the shared job machinery: a job of family "report" (kind
"report.assessment", one step "build") per run. Asking for a run while one of the same
(county, period, version) is queued or running joins that one (a partial unique index keeps
one live run per key); the job is sent to the worker once the request commits
(associations.jobs.send). The step computes the indicators (progress: indicator k of n, then
scoring, then storing), then in ONE transaction replaces the run's snapshot rows and marks
the run and its job done: a worker killed mid-run leaves no partial snapshot, and the stale
sweep re-queues the job (or fails it with a reason; its page then offers 重试).

Publishing (发布) makes a done run the period's official result: one per (county, period);
publishing another of a period already published is refused. A published run and its
snapshot rows never change (database triggers, migration 0003_report_runs)."""

from __future__ import annotations

import os
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from associations import jobs
from associations.bulk import insert_many
from associations.heap import old_objects_frozen
from associations.models import Association, Job, Level
from associations.periods import parse_period, period_key, period_label
from associations.permissions import require

from . import permissions, snapshots
from .models import ReportRun, SchemeVersion, SnapshotNode

FAMILY = "report"
KIND = "report.assessment"
BUILD = "build"
# Tests only: seconds the step waits before storing the snapshot (to kill a worker mid-run).
PAUSE_ENV = "JSX_REPORT_RUN_PAUSE"
PROGRESS_EVERY = 4

ALREADY_PUBLISHED = "{period}已发布第{number}次生成的考核结果,发布后不能撤销或替换。"
NOT_DONE = "只有已完成的考核才能发布。"
DRAFT_VERSION = "考核细则版本尚未启用,不能用于生成考核。"


def _period(period_key: str):
    try:
        return parse_period(period_key)
    except ValueError as error:
        raise ValidationError({"period": str(error)}, code="bad_period") from error


def request_run(*, actor, county: Association, period_key: str, version: SchemeVersion):
    """Ask for a run; returns (run, created). A live run of the same key joins instead."""
    require(permissions.can_manage_schemes(actor, county), "只有县级管理员可以生成考核。")
    period = _period(period_key)
    key = _key_of(period)
    if version.county_id != county.pk:
        raise ValidationError({"version": "没有这个考核细则版本。"})
    if version.state == SchemeVersion.State.DRAFT:
        raise ValidationError({"version": DRAFT_VERSION})
    live = live_run(county=county, period_key=key, version=version)
    if live is not None:
        return live, False
    try:
        with transaction.atomic():
            label = f"{period_label(period)}考核"
            job = Job(
                kind=KIND,
                label=label,
                output_name=label,  # the job page's title
                step=BUILD,
                node=county,
                owner=actor,
                params={"period": key, "version": version.pk},
            )
            job.place_under(county)
            job.save()
            last = ReportRun.objects.filter(
                county_id=county.pk, period_key=key, version=version
            ).aggregate(n=Max("number"))["n"]
            run = ReportRun(
                period_key=key, version=version, job=job, number=(last or 0) + 1, created_by=actor
            )
            run.place_under(county)
            run.save()
    except IntegrityError:  # another request asked at the same moment: join its run
        live = live_run(county=county, period_key=key, version=version)
        if live is None:
            raise
        return live, False
    jobs.send(job, step=BUILD)
    return run, True


def _key_of(period) -> str:
    return period_key(period)


def live_run(*, county, period_key: str, version) -> ReportRun | None:
    return (
        ReportRun.objects.filter(
            county_id=county.pk,
            period_key=period_key,
            version=version,
            state__in=[ReportRun.State.QUEUED, ReportRun.State.RUNNING],
        )
        .select_related("job")
        .first()
    )


class QueryCounter:
    """Counts the statements sent on the connection (an execute wrapper): a run's query
    count, without the debug cursor's copy of every statement and its parameters."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def handle(job: Job) -> None:
    """The build step: compute, then store the snapshot and finish, in one transaction."""
    run = ReportRun.objects.select_related("version").get(job=job)
    period = parse_period(run.period_key)
    started = time.monotonic()
    steps = {"total": 2}

    def progress(done, total, stage):
        # Every PROGRESS_EVERY-th indicator and the scoring stage: each write is a commit of
        # its own, and a small county's indicators take milliseconds each (the heartbeat
        # thread, not these writes, tells the stale sweep the worker is alive). By count, not
        # by time: the run's query count stays the same from run to run.
        steps["total"] = total
        if done % PROGRESS_EVERY == 1 or done >= total - 2:
            jobs.progress(job, done, rows_total=total, result={"stage": stage})

    # The snapshot is tens of thousands of small objects: the collector's full passes leave
    # the rest of the process alone meanwhile.
    queries = QueryCounter()
    with old_objects_frozen(), connection.execute_wrapper(queries):
        rows = snapshots.build_rows(run, period, progress)
        total = steps["total"]
        jobs.progress(job, total - 1, rows_total=total, result={"stage": "保存结果"})
        pause = float(os.environ.get(PAUSE_ENV) or 0)
        if pause:
            time.sleep(pause)
        with transaction.atomic():
            SnapshotNode.objects.filter(run=run).delete()
            insert_many(rows, ids=False)
            now = timezone.now()
            # the run's figures count every query of the step but this one and the next
            ReportRun.objects.filter(pk=run.pk).update(
                finished_at=now,
                query_count=queries.count + 2,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            Job.objects.filter(pk=job.pk).update(
                state=Job.State.DONE,
                rows_done=total,
                rows_total=total,
                finished_at=now,
                error="",
                result={"stage": "已完成", "nodes": len(rows)},
            )


# --- publishing ----------------------------------------------------------------------------


@transaction.atomic
def publish(*, actor, run: ReportRun) -> ReportRun:
    county = run.county
    require(permissions.can_manage_schemes(actor, county), "只有县级管理员可以发布考核结果。")
    run = ReportRun.objects.select_for_update().get(pk=run.pk)
    if run.is_published:
        return run
    if run.state != ReportRun.State.DONE:
        raise ValidationError(NOT_DONE, code="not_done")
    published = ReportRun.objects.filter(
        county_id=run.county_id, period_key=run.period_key, published_at__isnull=False
    ).first()
    if published is not None:
        raise ValidationError(_already(published), code="already_published")
    try:
        with transaction.atomic():
            ReportRun.objects.filter(pk=run.pk).update(
                published_at=timezone.now(), published_by=actor
            )
    except IntegrityError as error:
        raise ValidationError("该统计期已有发布的考核结果。", code="already_published") from error
    run.refresh_from_db()
    return run


def _already(published: ReportRun) -> str:
    return ALREADY_PUBLISHED.format(
        period=period_label(parse_period(published.period_key)), number=published.number
    )


# --- reads ---------------------------------------------------------------------------------


def previous_run(run: ReportRun) -> ReportRun | None:
    """The latest done run of the same county and period built before this one."""
    return (
        ReportRun.objects.filter(
            county_id=run.county_id,
            period_key=run.period_key,
            state=ReportRun.State.DONE,
            created_at__lte=run.created_at,
        )
        .exclude(pk=run.pk)
        .order_by("-created_at", "-id")
        .first()
    )


def compare(run: ReportRun, previous: ReportRun) -> list[dict]:
    """Per village whose result changed: the indicators whose value or score changed (the
    why), the total and grade before and after."""
    old = {r.node_id_at: r for r in SnapshotNode.objects.filter(run=previous, level=Level.VILLAGE)}
    changes = []
    for row in SnapshotNode.objects.filter(run=run, level=Level.VILLAGE).order_by("division_code"):
        before = old.get(row.node_id_at)
        if before is None:
            changes.append({"row": row, "before": None, "indicators": [], "new": True})
            continue
        changed = []
        for key, now in row.indicators.items():
            was = before.indicators.get(key, {})
            if was.get("value") != now.get("value") or was.get("score") != now.get("score"):
                changed.append({"key": key, "before": was, "after": now})
        if changed or before.total != row.total or before.grade != row.grade:
            changes.append({"row": row, "before": before, "indicators": changed, "new": False})
    return changes


def published_snapshot(*, node: Association, period_key: str) -> dict | None:
    """The node's row of the published run of the period, if any, where to read it, and the
    figures table as the snapshot recorded it (`lines` of the node's child units, `total` the
    node's own row; none for a snapshot built before it kept the figures): a published
    period's figures are the snapshot's, the registry's figures page shows them first."""
    from .population_sheet import display_cells

    row = (
        SnapshotNode.objects.filter(
            node_id_at=node.pk, run__period_key=period_key, run__published_at__isnull=False
        )
        .select_related("run")
        .first()
    )
    if row is None:
        return None
    url = sheet_url = ""
    children = SnapshotNode.objects.none()
    if node.level == Level.COUNTY:
        url = reverse("report-run", args=[row.run_id])
        sheet_url = reverse("report-run-population", args=[row.run_id])
        children = SnapshotNode.objects.filter(run_id=row.run_id, level=Level.TOWNSHIP)
    elif node.level == Level.TOWNSHIP:
        url = f"{reverse('report-run-list', args=[node.pk])}?run={row.run_id}"
        children = SnapshotNode.objects.filter(
            run_id=row.run_id, level=Level.VILLAGE, township_node_id=node.pk
        )
    lines, total = [], None
    if row.population_figures:
        lines = [
            {"label": child.name, "cells": display_cells(child)}
            for child in children.order_by("division_code", "id")
        ]
        total = {"label": "合计", "cells": display_cells(row)}
    return {
        "run": row.run,
        "row": row,
        "url": url,
        "sheet_url": sheet_url,
        "lines": lines,
        "total": total,
    }


def may_see(user, job: Job) -> bool:
    return user.node_level == Level.COUNTY and user.county_id == job.county_id


def page_context(job: Job) -> dict:
    from .run_views import run_context

    return run_context(job)


def register_family() -> None:
    jobs.register(
        jobs.Family(
            name=FAMILY,
            handler=handle,
            may_see=may_see,
            template="reports/run.html",
            background=lambda job: True,
            context=page_context,
        )
    )
