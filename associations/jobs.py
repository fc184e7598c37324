"""Background jobs (imports, exports, next report runs): one record, one life cycle.

    queued ──claim──▶ running ──▶ ready (an import waits for the user) / done / failed
       ▲                 │
       └── re-queued once when its heartbeat goes stale (a worker died under it)

- `send` queues a step for the worker once the asking transaction commits. When the broker
  cannot be reached the job is marked failed (BROKER_DOWN) within about a second, and its page
  offers 重新提交, which sends it again.
- `claim` lets exactly one worker run a queued step (or a running one whose heartbeat is
  stale), so a message delivered twice runs once.
- While a step runs, `heartbeat` writes `heartbeat_at` every JOB_HEARTBEAT_SECONDS from a
  thread of its own; `sweep_stale` (celery beat, and every job page) re-queues a job whose
  heartbeat is older than JOB_STALE_SECONDS once, then fails it with a reason.
- Every job has its own folder, MEDIA_ROOT/jobs/<county>/<id>/ (0700): its upload, its
  results and, under tmp/, every temporary file of its work. tmp/ goes when a step ends,
  whatever the outcome; the whole folder goes with the retention purge.

What a step does, who may see a job and what its page shows are registered per family
("import", "export", next "report") as a `Family`."""

from __future__ import annotations

import datetime
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .files import private_folder
from .models import Job
from .scope import Scope, activate, current_scope

logger = logging.getLogger(__name__)

JOBS_DIR = "jobs"
TEMP_DIR = "tmp"

BROKER_DOWN_MESSAGE = (
    "后台任务服务暂不可用,任务尚未开始处理(已提交的文件和设置均已保存)。"
    "请稍后点击“重新提交”;如持续出现,请联系系统管理员检查后台服务。"
)
REQUEUED_MESSAGE = "后台服务在处理时中断,已自动重新开始。"
INTERRUPTED_MESSAGE = (
    "后台服务在处理时中断,自动重试后仍未完成,任务已停止。"
    "请点击“重试”重新开始;如仍失败,请联系系统管理员。"
)
FAILED_MESSAGE = "处理时出错,任务已停止。请点击“重试”;如仍失败,请联系系统管理员。"
TIMED_OUT_MESSAGE = "处理时间超过上限,任务已停止。请缩小范围后重试,或联系系统管理员。"
NOT_STARTED_NOTE = "后台服务尚未开始处理该任务,可能暂时繁忙或没有运行。"

Handler = Callable[[Job], None]


@dataclass(frozen=True)
class Family:
    """What one family of jobs ("import", "export", next "report") brings to the machinery:
    `handler(job)` runs the job's current step and leaves it ready, done or failed;
    `may_see(user, job)` says who may open its page (the scope has already hidden the rest);
    `template` is its page, extending jobs/job.html; `context(job)` adds what that page shows;
    `background(job)` whether its steps go to the worker (big work) or run in the request."""

    name: str
    handler: Handler
    may_see: Callable[[object, Job], bool]
    template: str
    background: Callable[[Job], bool]
    context: Callable[[Job], dict] = lambda job: {}


_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> None:
    _FAMILIES[family.name] = family


def family_of(job: Job) -> Family:
    try:
        return _FAMILIES[job.family]
    except KeyError:
        raise LookupError(f"no job family for {job.kind!r}") from None


# --- settings --------------------------------------------------------------------------------


def heartbeat_seconds() -> float:
    return float(getattr(settings, "JOB_HEARTBEAT_SECONDS", 10))


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "JOB_STALE_SECONDS", 180)))


def publish_seconds() -> float:
    return float(getattr(settings, "JOB_PUBLISH_SECONDS", 1.0))


def max_attempts() -> int:
    return int(getattr(settings, "JOB_MAX_ATTEMPTS", 2))


# --- files -----------------------------------------------------------------------------------


def folder_path(job: Job) -> Path:
    """The job's own folder, MEDIA_ROOT/jobs/<county>/<id>/, whether it exists or not."""
    return Path(settings.MEDIA_ROOT) / JOBS_DIR / str(job.county_id) / str(job.pk)


def folder(job: Job) -> Path:
    """The job's own folder, created 0700 (with any missing parent) on first use."""
    return private_folder(folder_path(job))


def temp_folder(job: Job) -> Path:
    """Where every temporary file of the job's current step goes; emptied when the step ends."""
    return private_folder(folder_path(job) / TEMP_DIR)


def relative(path: Path) -> str:
    return path.relative_to(Path(settings.MEDIA_ROOT)).as_posix()


def file_of(job: Job, name: str) -> Path | None:
    """A file the job recorded (`job.input_file`, `job.output_file`, …), only if it lies in the
    job's own folder: a path edited in the database cannot reach anywhere else."""
    if not name:
        return None
    root = folder_path(job).resolve()
    path = (Path(settings.MEDIA_ROOT) / name).resolve()
    return path if path.is_relative_to(root) and path != root else None


def remove_temp(job: Job) -> None:
    shutil.rmtree(folder_path(job) / TEMP_DIR, ignore_errors=True)


def remove_folder(job: Job) -> None:
    shutil.rmtree(folder_path(job), ignore_errors=True)


# --- sending ---------------------------------------------------------------------------------


def start(job: Job, *, step: str, background: bool) -> Job:
    """Run `step` of the job: on the worker (`send`), or here and now for small work."""
    if background:
        send(job, step=step)
        return job
    _queue(job, step)
    return run_here(job)


def send(job: Job, *, step: str) -> None:
    """Queue `step` of the job for the worker. The message goes once the current transaction
    commits (the worker must find the job); if the broker cannot take it the job says so."""
    _queue(job, step)
    scope = current_scope()
    if scope is None:
        raise ValueError("jobs.send() needs an active scope.")
    transaction.on_commit(lambda: publish(job.pk, scope))


def _queue(job: Job, step: str) -> None:
    now = timezone.now()
    values = dict(
        state=Job.State.QUEUED,
        step=step,
        failure=Job.Failure.NONE,
        error="",
        attempts=0,
        rows_done=0,
        task_id="",
        queued_at=now,
        heartbeat_at=None,
    )
    Job.objects.filter(pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)


def runs_eagerly() -> bool:
    from .tasks import run_job

    return bool(run_job.app.conf.task_always_eager)


def publish(job_id: int, scope: Scope) -> bool:
    """Hand the job to the broker. False, and the job marked BROKER_DOWN, when the broker does
    not take it within PUBLISH_SECONDS: a user is waiting on this request, and the Redis
    client retries a refused connection for a couple of seconds before it gives up. A message
    that still goes out after the deadline finds its job failed and is skipped by `claim`."""
    from .tasks import run_job

    if runs_eagerly():  # tests: the task runs here and now
        run_job.apply_async(args=(job_id,), kwargs={"scope": asdict(scope)})
        return True
    sent: dict = {}

    def send() -> None:
        try:
            sent["result"] = run_job.apply_async(
                args=(job_id,), kwargs={"scope": asdict(scope)}, retry=False
            )
        except Exception as error:  # kombu, redis and socket errors alike
            sent["error"] = error

    sender = threading.Thread(target=send, daemon=True, name=f"job-{job_id}-publish")
    sender.start()
    sender.join(timeout=publish_seconds())
    if "result" not in sent:
        reason = sent.get("error") or f"no answer within {publish_seconds()} s"
        logger.warning("broker unreachable: job %s not sent (%s)", job_id, reason)
        with activate(scope):
            Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
                state=Job.State.FAILED,
                failure=Job.Failure.BROKER_DOWN,
                error=BROKER_DOWN_MESSAGE,
                finished_at=timezone.now(),
            )
        return False
    with activate(scope):
        Job.objects.filter(pk=job_id, task_id="").update(task_id=sent["result"].id or "")
    return True


def may_resend(job: Job, now: datetime.datetime | None = None) -> bool:
    """The page's 重新提交 / 重试: a job the broker never took, one that failed for a reason a
    new attempt can cure, or one that has sat in the queue long after its worker should have
    taken it."""
    if job.file_deleted_at:
        return False
    if job.state == Job.State.FAILED:
        return job.failure in (Job.Failure.BROKER_DOWN, Job.Failure.INTERRUPTED, Job.Failure.ERROR)
    return job.state == Job.State.QUEUED and waiting_too_long(job, now)


def waiting_too_long(job: Job, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    since = job.queued_at or job.created_at
    return job.state == Job.State.QUEUED and since is not None and since < now - stale_after()


# --- running ---------------------------------------------------------------------------------


def claim(job_id: int) -> Job | None:
    """Take the job for this worker: a queued one, or a running one whose worker has gone
    silent. None when it is not there to take (done, failed, ready, or alive elsewhere), so a
    redelivered or duplicated message does nothing."""
    now = timezone.now()
    claimable = Q(state=Job.State.QUEUED) | Q(
        state=Job.State.RUNNING, heartbeat_at__lt=now - stale_after()
    )
    taken = (
        Job.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            state=Job.State.RUNNING,
            failure=Job.Failure.NONE,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not taken:
        return None
    return Job.objects.select_related("node__parent", "owner").get(pk=job_id)


def run_step(job: Job) -> Job:
    """Run the claimed job's step with its registered handler; whatever goes wrong leaves the
    job failed with a Chinese reason (the details go to the log), never running."""
    try:
        family_of(job).handler(job)
    except OperationalError:
        raise  # the database is unreachable: the worker retries the step later
    except SoftTimeLimitExceeded:
        fail(job, TIMED_OUT_MESSAGE)
    except Exception:
        logger.exception("job %s (%s, %s) failed", job.pk, job.kind, job.step)
        fail(job, FAILED_MESSAGE)
    finally:
        remove_temp(job)
    job.refresh_from_db()
    return job


def run_here(job: Job) -> Job:
    """Run the job's queued step within the request (small files): the same claim and the
    same handler as the worker, without a heartbeat (the request is the heartbeat)."""
    claimed = claim(job.pk)
    if claimed is None:
        job.refresh_from_db()
        return job
    return run_step(claimed)


def fail(job: Job, message: str, failure: str = Job.Failure.ERROR) -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.FAILED, failure=failure, error=message, finished_at=now
    )
    job.state, job.failure, job.error, job.finished_at = Job.State.FAILED, failure, message, now
    return job


def progress(job: Job, rows_done: int, **values) -> None:
    """Rows done so far (and the heartbeat with them), written straight away: for work that
    does not hold the job's row in an open transaction."""
    Job.objects.filter(pk=job.pk).update(rows_done=rows_done, heartbeat_at=timezone.now(), **values)


class Heartbeat:
    """Writes the job's heartbeat every `interval` seconds from a thread of its own (its own
    database connection, in the job's scope), so a long query or a long transaction of the
    step itself does not stop it. Only a dead worker does."""

    def __init__(self, job: Job, interval: float | None = None):
        self.job_id = job.pk
        self.scope = current_scope()
        self.interval = heartbeat_seconds() if interval is None else interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"job-{job.pk}-beat")

    def __enter__(self) -> Heartbeat:
        if self.scope is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=self.interval + 5)

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        try:
            with activate(self.scope):
                Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # a missed beat is not worth failing the job over
            logger.warning("job %s heartbeat not written", self.job_id, exc_info=True)


# --- jobs left by dead workers ------------------------------------------------------------------


def stale(queryset: QuerySet[Job], now: datetime.datetime | None = None) -> QuerySet[Job]:
    now = now or timezone.now()
    return queryset.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=now - stale_after())
        | Q(heartbeat_at__isnull=True, started_at__lt=now - stale_after())
    )


def sweep_stale(
    queryset: QuerySet[Job] | None = None, now: datetime.datetime | None = None
) -> dict:
    """Running jobs whose heartbeat is stale: re-queued once (the step starts again from
    scratch: every step is idempotent), then failed with a reason and a 重试 button."""
    now = now or timezone.now()
    requeued = failed = 0
    for job in stale(queryset if queryset is not None else Job.objects.all(), now):
        remove_temp(job)
        if job.attempts < max_attempts():
            sent_back = _requeue(job, now)
            requeued += sent_back
        else:
            failed += Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.FAILED,
                failure=Job.Failure.INTERRUPTED,
                error=INTERRUPTED_MESSAGE,
                finished_at=now,
            )
    return {"requeued": requeued, "failed": failed}


def _requeue(job: Job, now: datetime.datetime) -> int:
    """Back to the queue, but only if nobody claimed it meanwhile (same heartbeat)."""
    sent_back = Job.objects.filter(
        pk=job.pk, state=Job.State.RUNNING, heartbeat_at=job.heartbeat_at
    ).update(state=Job.State.QUEUED, error=REQUEUED_MESSAGE, queued_at=now, task_id="")
    if sent_back:
        scope = current_scope()
        transaction.on_commit(lambda: publish(job.pk, scope))
    return sent_back


def refresh(job: Job) -> Job:
    """What a job page calls before showing a job: a stale one is dealt with right away
    rather than at the next sweep."""
    if job.state == Job.State.RUNNING and stale(Job.objects.filter(pk=job.pk)).exists():
        sweep_stale(Job.objects.filter(pk=job.pk))
        job.refresh_from_db()
    return job


# --- retention ---------------------------------------------------------------------------------


def has_files(job: Job) -> bool:
    return bool(job.input_file or job.output_file) or folder_path(job).exists()


def retention_days(job: Job) -> int:
    if job.family == "import":
        return settings.IMPORT_FILE_RETENTION_DAYS
    if job.full_identity:  # encryption at rest: a file of full numbers is kept the shortest
        return min(settings.EXPORT_FILE_RETENTION_DAYS, settings.FULL_IDENTITY_RETENTION_DAYS)
    return settings.EXPORT_FILE_RETENTION_DAYS


EXPIRED_MESSAGE = "上传的文件已超过保留期限({days} 天)被删除,未导入。如仍需导入,请重新上传。"


def purge_expired_files(now: datetime.datetime | None = None) -> int:
    """Delete the files of the scope's jobs past their retention period (imports
    IMPORT_FILE_RETENTION_DAYS after upload, exports EXPORT_FILE_RETENTION_DAYS after they were
    made); the job records (who did what and when) stay. A job at work is left for next time,
    unless its heartbeat is stale: a job whose worker died does not keep personal files. An
    import not committed by then can no longer be: it is marked failed, saying why."""
    now = now or timezone.now()
    purged = 0
    shortest = min(
        settings.IMPORT_FILE_RETENTION_DAYS,
        settings.EXPORT_FILE_RETENTION_DAYS,
        settings.FULL_IDENTITY_RETENTION_DAYS,
    )
    candidates = Job.objects.filter(
        file_deleted_at__isnull=True, created_at__lt=now - datetime.timedelta(days=shortest)
    )
    alive = candidates.filter(state=Job.State.RUNNING).exclude(pk__in=stale(candidates, now))
    for job in candidates.exclude(pk__in=alive).iterator():
        since = job.created_at if job.family == "import" else (job.finished_at or job.created_at)
        days = retention_days(job)
        if since >= now - datetime.timedelta(days=days) or not has_files(job):
            continue
        remove_folder(job)
        values = {"input_file": "", "output_file": "", "file_deleted_at": now}
        if job.family == "import" and job.state != Job.State.DONE:
            values |= {
                "state": Job.State.FAILED,
                "failure": Job.Failure.EXPIRED,
                "error": EXPIRED_MESSAGE.format(days=days),
            }
        if job.result.get("error_file"):
            values["result"] = {**job.result, "error_file": ""}
        Job.objects.filter(pk=job.pk).update(**values)
        purged += 1
    return purged
