"""Export jobs: a printable workbook (a roster, next a report sheet) built on the shared job
machinery (associations.jobs). Small ones are built within the request; bigger ones by the
worker while the job page shows progress. The file lands in the job's folder and is served
to the one who asked (or a county admin) until the retention purge removes it; the record of
who exported what, when, with or without full ID numbers, stays.

Apps declare what may be exported as an `Exportable` and `register` it."""

from __future__ import annotations

import os
import uuid
from typing import Protocol

from django.utils import timezone

from . import jobs
from .files import make_private
from .models import Association, Job, Role

FAMILY = "export"
BUILD = "build"
SMALL_ROWS = 2000
XLSX = ".xlsx"


class Exportable(Protocol):
    """What an app declares for one kind of export."""

    kind: str  # unique among exports, e.g. "members" (the job's kind is "export.members")
    title: str
    levels: frozenset[str]  # the node levels it applies to

    def count(self, node: Association) -> int: ...

    def file_name(self, node: Association, on) -> str: ...

    def params(self, node: Association) -> dict: ...

    def write(self, job: Job, path, *, progress, work_dir) -> int:
        """Write the workbook of `job` (its node, owner, full_identity, params) to `path`,
        every temporary file inside `work_dir`; call `progress(rows)` now and then; return
        the number of rows written."""


EXPORTS: dict[str, Exportable] = {}


def register(exportable: Exportable) -> None:
    EXPORTS[exportable.kind] = exportable


def exportable_of(job: Job) -> Exportable:
    return EXPORTS[job.subject]


def request(*, actor, node: Association, kind: str, full_identity: bool) -> Job:
    """Record the request (who, what, when, with or without full ID numbers) as a queued job.
    `full_identity` is what the user may have and asked for: the caller decides it."""
    exportable = EXPORTS[kind]
    if node.level not in exportable.levels:
        raise ValueError(f"{exportable.title}不适用于{node.get_level_display()}。")
    job = Job(
        kind=f"{FAMILY}.{kind}",
        label=exportable.title,
        step=BUILD,
        node=node,
        owner=actor,
        params=exportable.params(node),
        full_identity=full_identity,
        rows_total=exportable.count(node),
        output_name=exportable.file_name(node, timezone.localdate()),
    )
    job.place_under(node)
    job.save()
    return job


def runs_in_background(job: Job) -> bool:
    return job.rows_total > SMALL_ROWS


def start(job: Job) -> Job:
    return jobs.start(job, step=BUILD, background=runs_in_background(job))


def handle(job: Job) -> None:
    """Build the job's file from scratch into a fresh name in its folder; the file of an
    earlier attempt, if any, goes once the new one is in place. A done job is never claimed
    again, so a redelivered message does nothing."""
    exportable = exportable_of(job)
    folder = jobs.folder(job)
    final = folder / f"{uuid.uuid4().hex[:12]}{XLSX}"
    partial = jobs.temp_folder(job) / f"{final.stem}.part"
    jobs.progress(job, 0, rows_total=exportable.count(job.node))
    rows = exportable.write(
        job,
        partial,
        progress=lambda done: jobs.progress(job, done),
        work_dir=jobs.temp_folder(job),
    )
    os.replace(make_private(partial), final)
    earlier = jobs.file_of(job, job.output_file)
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE,
        rows_done=rows,
        rows_total=rows,
        output_file=jobs.relative(final),
        output_size=final.stat().st_size,
        finished_at=timezone.now(),
        error="",
    )
    if earlier is not None and earlier != final:
        earlier.unlink(missing_ok=True)


def output(job: Job):
    """The job's file on disk, if it is done and still there."""
    path = jobs.file_of(job, job.output_file)
    return path if job.state == Job.State.DONE and path is not None and path.exists() else None


def recent(*, actor, node: Association, limit: int = 10) -> list[Job]:
    return list(Job.objects.filter(node=node, owner=actor, kind__startswith=f"{FAMILY}.")[:limit])


def may_see(user, job: Job) -> bool:
    return job.owner_id == user.pk or user.role == Role.COUNTY_ADMIN
