"""Celery plumbing every app uses: `ScopedTask` runs a task inside the scope it was sent
from, and `enqueue_in_scope` sends it only after the asking transaction commits."""

from __future__ import annotations

from dataclasses import asdict

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from . import history, sources, submissions
from .models import Association, Level
from .scope import Scope, UnscopedReason, activate, current_scope, unscoped


class ScopedTask(Task):
    """Takes the scope as its `scope` keyword (a dict) and enters it around `run`."""

    acks_late = True
    reject_on_worker_lost = True
    # `scope` is consumed by __call__, not by run(): skip Celery's signature check.
    typing = False

    def __call__(self, *args, scope: dict | None = None, **kwargs):
        if scope is None:
            raise ValueError(f"{self.name} needs a scope= argument; use enqueue_in_scope().")
        task_id = getattr(self.request, "id", None) or "local"
        with (
            activate(Scope(**scope)),
            history.change_source(sources.for_task(self.name, task_id)),
        ):
            return self.run(*args, **kwargs)


def enqueue_in_scope(task, *args, **kwargs) -> None:
    """Send `task` with the current scope once the current transaction commits."""
    scope = current_scope()
    if scope is None:
        raise ValueError("enqueue_in_scope() needs an active scope.")
    payload = asdict(scope)
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs={**kwargs, "scope": payload}))


def send_to_every_county(task) -> int:
    """For celery beat's entries: send the scoped `task` once per county, in that county's
    scope. Returns how many were sent."""
    with unscoped(reason=UnscopedReason.SCHEDULED_FANOUT):
        counties = list(Association.objects.filter(level=Level.COUNTY).values_list("pk", flat=True))
    for county_id in counties:
        scope = Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)
        task.apply_async(kwargs={"scope": asdict(scope)})
    return len(counties)


@shared_task(base=ScopedTask, name="associations.subtree_census")
def subtree_census(node_id: int) -> dict:
    """Counts the nodes under `node_id` by level, seen from the task's scope. Used by the
    worker health check (`manage.py check_worker`) to prove a round trip through the broker
    runs inside the sender's scope."""
    from .models import Association

    node = Association.objects.get(pk=node_id)
    rows = Association.objects.filter(**{f"{node.level}_id": node.pk}).values_list("level")
    census: dict[str, int] = {}
    for (level,) in rows:
        census[level] = census.get(level, 0) + 1
    return {"node": node.pk, "county": node.county_id, "census": census}


@shared_task(
    base=ScopedTask,
    name="associations.run_job",
    bind=True,
    ignore_result=True,  # the job's row is its result; no result backend on the way in or out
    max_retries=3,
    soft_time_limit=settings.JOB_SOFT_TIME_LIMIT,
    time_limit=settings.JOB_TIME_LIMIT,
)
def run_job(self, job_id: int) -> dict:
    """Run the current step of a background job (jobs.claim decides whether this message may:
    a duplicate or a late redelivery does nothing). The heartbeat runs beside it; any failure
    leaves the job failed with a reason. When the database itself is unreachable the job goes
    back to the queue and the task retries later."""
    from . import jobs
    from .models import Job

    job = jobs.claim(job_id)
    if job is None:
        return {"job": job_id, "status": "skipped"}
    try:
        with jobs.Heartbeat(job):
            job = jobs.run_step(job)
    except OperationalError as error:
        Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(state=Job.State.QUEUED)
        raise self.retry(exc=error, countdown=30) from error
    return {"job": job.pk, "state": job.state}


@shared_task(base=ScopedTask, name="associations.sweep_stale_jobs_in_scope")
def sweep_stale_jobs_in_scope() -> dict:
    """Re-queue or fail the scope's jobs whose worker died (stale heartbeat)."""
    from . import jobs

    return jobs.sweep_stale()


@shared_task(name="associations.sweep_stale_jobs_everywhere")
def sweep_stale_jobs_everywhere() -> int:
    """Celery beat's entry, every minute: one scoped sweep per county."""
    return send_to_every_county(sweep_stale_jobs_in_scope)


@shared_task(base=ScopedTask, name="associations.purge_expired_files_in_scope")
def purge_expired_files_in_scope() -> int:
    """Delete the files of the scope's jobs past their retention period."""
    from . import jobs

    return jobs.purge_expired_files()


@shared_task(name="associations.purge_expired_files_everywhere")
def purge_expired_files_everywhere() -> int:
    """Celery beat's nightly entry: one scoped purge per county, and the scratch folders of
    sheet builds a killed web process left behind."""
    from .sheets.book import purge_stale_scratch

    purge_stale_scratch()
    return send_to_every_county(purge_expired_files_in_scope)


@shared_task(base=ScopedTask, name="associations.prune_form_tokens_in_scope")
def prune_form_tokens_in_scope() -> int:
    """Delete the scope's used form tokens past their retention (associations.submissions)."""
    return submissions.prune()


@shared_task(name="associations.prune_form_tokens_everywhere")
def prune_form_tokens_everywhere() -> int:
    """Celery beat's nightly entry: one scoped prune per county."""
    return send_to_every_county(prune_form_tokens_in_scope)
