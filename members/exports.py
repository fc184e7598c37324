"""Export jobs of the printable rosters (members.rosters): the request (who, what, when, with
or without full ID numbers), the build in a worker or the request, the files' retention and
who may download them."""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from associations.files import make_private, private_folder
from associations.models import Association, ExportJob, Role
from households.masking import sees_full_identity

from .rosters import (
    ROSTERS,
    XLSX,
    association_title,
    by_village_sheets,
    roster_file_name,
    rosters_for,  # noqa: F401 (the roster pages find it here)
    write_roster,
)

logger = logging.getLogger(__name__)

EXPORTS_DIR = "exports"


SMALL_ROSTER_ROWS = 2000
FAILED_MESSAGE = "生成花名册时出错,请稍后重试;如仍失败,请联系系统管理员。"
BROKER_DOWN_MESSAGE = (
    "后台任务服务暂时不可用,花名册未能开始生成。"
    "请稍后重试;如持续出现,请联系系统管理员检查后台服务。"
)


def export_dir(county_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / EXPORTS_DIR / str(county_id)


def job_file(job: ExportJob) -> Path | None:
    """The job's file on disk, only if it lies where exports of its county live."""
    if not job.file_path:
        return None
    root = export_dir(job.county_id).resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file_path).resolve()
    return path if path.parent == root else None


def purge_expired_files(now: datetime.datetime | None = None) -> int:
    """Delete the files of the scope's finished exports older than
    settings.EXPORT_FILE_RETENTION_DAYS; the export records (who, what, when) stay."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.EXPORT_FILE_RETENTION_DAYS)
    expired = ExportJob.objects.filter(finished_at__lt=cutoff, file_deleted_at__isnull=True)
    purged = 0
    for job in expired.exclude(file_path="").iterator():
        path = job_file(job)
        if path is not None:
            path.unlink(missing_ok=True)
        job.file_path, job.file_deleted_at = "", now
        job.save(update_fields=["file_path", "file_deleted_at"])
        purged += 1
    return purged


def export_request(
    *, actor, node: Association, kind: str, full_identity_asked: bool = False
) -> ExportJob:
    """Record the request (who, what, when, with or without full ID numbers) as a pending job.
    Full ID numbers only when the user asked AND their role sees them."""
    roster = ROSTERS[kind]
    if node.level not in roster.levels:
        raise ValueError(f"{roster.title}不适用于{node.get_level_display()}。")
    today = timezone.localdate()
    job = ExportJob(
        kind=kind,
        node=node,
        params={"layout": "village_sheets" if by_village_sheets(node) else "group_sections"},
        requested_by=actor,
        full_identity=bool(full_identity_asked) and sees_full_identity(actor),
        rows_total=roster.count(node),
        file_name=roster_file_name(roster, node, today),
    )
    job.place_under(node)
    job.save()
    return job


def _made_by(job: ExportJob) -> str:
    user = job.requested_by
    unit = Association.objects.filter(pk=user.node_id).select_related("parent").first()
    return association_title(unit or job.node)


def run_export(job: ExportJob) -> ExportJob:
    """Build the job's file. Idempotent: a done job is left as it is; a pending, running
    (a worker died on it) or failed one is built again from scratch into a fresh file, and
    the file of an earlier attempt, if any, is removed."""
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job.pk)
        .exclude(status=ExportJob.Status.DONE)
        .update(status=ExportJob.Status.RUNNING, started_at=now, rows_done=0, error="")
    )
    if not claimed:
        job.refresh_from_db()
        return job
    job.status, job.started_at, job.rows_done, job.error = ExportJob.Status.RUNNING, now, 0, ""
    roster = ROSTERS[job.kind]
    folder = export_dir(job.county_id)
    final = folder / f"{job.pk}-{uuid.uuid4().hex[:12]}{XLSX}"
    partial = final.with_suffix(".part")
    work_dir = folder / f"work-{job.pk}"  # the build's temporary files, gone when it ends

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=rows)

    try:
        private_folder(work_dir)
        job.rows_total = roster.count(job.node)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
        rows = write_roster(
            roster,
            job.node,
            partial,
            full_identity=job.full_identity and sees_full_identity(job.requested_by),
            made_by=_made_by(job),
            progress=progress,
            work_dir=work_dir,
        )
        os.replace(make_private(partial), final)
    except DatabaseError:
        partial.unlink(missing_ok=True)
        raise  # the database itself is in trouble: the task retries later
    except Exception:
        logger.exception("export job %s (%s) failed", job.pk, job.kind)
        partial.unlink(missing_ok=True)
        return mark_failed(job, FAILED_MESSAGE)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    earlier = job_file(job)
    job.status = ExportJob.Status.DONE
    job.rows_done = job.rows_total = rows
    job.file_path = final.relative_to(Path(settings.MEDIA_ROOT)).as_posix()
    job.size = final.stat().st_size
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "rows_done", "rows_total", "file_path", "size", "finished_at"]
    )
    if earlier is not None and earlier != final:
        earlier.unlink(missing_ok=True)
    return job


def mark_failed(job: ExportJob, message: str) -> ExportJob:
    job.status, job.error, job.finished_at = ExportJob.Status.FAILED, message, timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=job.status, error=message, finished_at=job.finished_at
    )
    return job


def recent_jobs(*, actor, node: Association, limit: int = 10) -> list[ExportJob]:
    return list(ExportJob.objects.filter(node=node, requested_by=actor)[:limit])


def can_download(user, job: ExportJob) -> bool:
    return job.requested_by_id == user.pk or user.role == Role.COUNTY_ADMIN
