"""Background work of the members app: building large rosters (花名册) for export jobs."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from associations.models import ExportJob
from associations.tasks import ScopedTask

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
