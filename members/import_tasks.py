"""Background work of roster imports: the dry run and the commit of large files (more than
settings.IMPORT_BACKGROUND_ROWS rows) run here, in the scope they were asked from.

Registered through settings.CELERY_IMPORTS (Celery's autodiscovery only loads tasks.py)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from associations import history, sources
from associations.tasks import ScopedTask

from . import importers
from .models import ImportJob


def _job(job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("node", "uploaded_by").filter(pk=job_id).first()


@shared_task(base=ScopedTask, name="members.import_validate", bind=True, max_retries=3)
def import_validate(self, job_id: int) -> dict:
    """The dry run of an ImportJob. Idempotent: it only reads (everything it writes is rolled
    back) and stores the counts and problems; a job already importing or done is left alone."""
    job = _job(job_id)
    if job is None:  # not in this scope, or gone
        return {"job": job_id, "status": "missing"}
    try:
        job = importers.job_validate(job, progress=True)
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=30) from error
    return {"job": job.pk, "status": job.status, **_counts(job)}


@shared_task(base=ScopedTask, name="members.import_commit", bind=True, max_retries=3)
def import_commit(self, job_id: int) -> dict:
    """The commit of a claimed ImportJob (status importing): all rows or none, the job marked
    done in the same transaction. A job in any other state is left alone, so a redelivered
    task after a successful commit does nothing."""
    job = _job(job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    try:
        with history.change_source(sources.for_import(job.pk, job.original_name)):
            job = importers.job_commit(job, progress=True)
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=30) from error
    return {"job": job.pk, "status": job.status, **_counts(job)}


def _counts(job: ImportJob) -> dict:
    return {
        "new": job.count_new,
        "updated": job.count_updated,
        "unchanged": job.count_unchanged,
        "invalid": job.count_invalid,
    }
