"""Background work of the members app: building large rosters (花名册) for export jobs, and
deleting import and export files past their retention period every night."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from associations.models import ExportJob
from associations.tasks import ScopedTask, send_to_every_county

from . import exports, importers
from .exports import run_export


@shared_task(
    base=ScopedTask,
    name="members.build_roster",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def build_roster(self, job_id: int) -> dict:
    """Build the file of an ExportJob, in the scope it was requested from. Idempotent: a job
    that is already done is left alone; one that is pending, failed or was left running by a
    worker that died is rebuilt. Progress (rows_done) is written every 1,000 rows; a failure
    leaves the job failed with a Chinese message. When the database itself is unreachable the
    task is retried later."""
    job = ExportJob.objects.select_related("node__parent", "requested_by").filter(pk=job_id).first()
    if job is None:  # not in this scope, or gone
        return {"job": job_id, "status": "missing"}
    try:
        job = run_export(job)
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=30) from error
    return {"job": job.pk, "status": job.status, "rows": job.rows_done}


@shared_task(base=ScopedTask, name="members.purge_expired_files_in_scope")
def purge_expired_files_in_scope() -> dict:
    """Delete the scope's import and export files past their retention period. Idempotent:
    a purged job is not touched again."""
    return {"imports": importers.purge_expired_files(), "exports": exports.purge_expired_files()}


@shared_task(name="members.purge_expired_files_everywhere")
def purge_expired_files_everywhere() -> int:
    """Celery beat's nightly entry: one scoped task per county."""
    return send_to_every_county(purge_expired_files_in_scope)
