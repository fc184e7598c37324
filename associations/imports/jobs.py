"""Import jobs: an uploaded sheet checked (dry run), shown, then committed on the user's word,
on the shared job machinery (associations.jobs). A file of at most IMPORT_BACKGROUND_ROWS rows
is worked within the request; a larger one by the worker.

    upload ─▶ [validate] ─▶ ready (counts, problems, error workbook) ─▶ [commit] ─▶ done

The validate step also builds the error workbook (the uploaded rows with the bad cells red and
commented) and keeps it in the job's folder, so downloading it costs the web server nothing."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import history, jobs, permissions, sources
from ..files import make_private
from ..models import Association, Job, Level
from ..scope import activate, current_scope
from .checks import FILE_TYPE, FileRefused, check_upload
from .pipeline import ID_UPGRADED, KINDS, error_workbook, get_kind, run_import, upgrade_notice
from .reading import probe

logger = logging.getLogger(__name__)

FAMILY = "import"
VALIDATE = "validate"
COMMIT = "commit"
IMPORT_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
ERRORS_NAME = "errors.xlsx"
MASKED_ERRORS_NAME = "errors-masked.xlsx"
RECHECK_FOUND_PROBLEMS = "导入前重新校验时发现问题(系统中的数据可能已有变化),全部数据均未导入。"


def background_rows() -> int:
    """Files with more rows than this run in Celery; smaller ones in the request."""
    return int(getattr(settings, "IMPORT_BACKGROUND_ROWS", 2000))


def max_problems() -> int:
    return int(getattr(settings, "IMPORT_MAX_PROBLEMS", 5000))


def can_import(user, node: Association) -> bool:
    return node.level in IMPORT_LEVELS and permissions.can_edit_node(user, node)


# --- upload ------------------------------------------------------------------------------------


def job_create(*, actor, node: Association, kind: str, upload) -> Job:
    """Check the uploaded file (size, type, zip and XML bombs, macros, a header with the
    required columns) and keep it in the job's folder. A refused file raises FileRefused and
    nothing is stored."""
    permissions.require(can_import(actor, node), "您没有向该组织导入数据的权限。")
    if kind not in KINDS:
        raise FileRefused(FILE_TYPE, "未知的导入类别。")
    file_type = check_upload(upload.name, upload.size)
    data = upload.read()
    found = probe(data, file_type, KINDS[kind].columns_for(node))
    job = Job(
        kind=f"{FAMILY}.{kind}",
        label=KINDS[kind].label,
        step=VALIDATE,
        node=node,
        owner=actor,
        input_name=upload.name[:200],
        file_type=file_type,
        rows_total=max(found.rows_estimate or 0, 0),
    )
    job.place_under(node)
    job.save()
    path = jobs.folder(job) / f"upload.{file_type}"
    path.write_bytes(data)
    job.input_file = jobs.relative(make_private(path))
    job.save(update_fields=["input_file"])
    return job


def runs_in_background(job: Job) -> bool:
    """Large files, and those whose size is unknown before reading (rows_total 0: a sheet
    without a declared dimension), go to the worker."""
    return job.rows_total == 0 or job.rows_total > background_rows()


def validate(job: Job) -> Job:
    """Start (or start again) the dry run: here for a small file, on the worker for a big one."""
    return jobs.start(job, step=VALIDATE, background=runs_in_background(job))


def may_recheck(job: Job) -> bool:
    return not job.file_deleted_at and (
        job.state in (Job.State.READY, Job.State.FAILED) or jobs.may_resend(job)
    )


def can_commit(job: Job) -> bool:
    return (
        job.state == Job.State.READY
        and job.step == VALIDATE
        and not job.count("invalid")
        and (job.count("new") or job.count("updated")) > 0
    )


def nothing_to_import(job: Job) -> bool:
    """Checked without a problem, and every row is already as the file says."""
    return (
        job.state == Job.State.READY
        and not job.count("invalid")
        and not job.count("new")
        and not job.count("updated")
    )


def start_commit(job: Job) -> bool:
    """Claim the checked job for its commit: only a ready job without invalid rows, and only
    once (a second click or a second tab gets False)."""
    if not can_commit(job):
        return False
    claimed = Job.objects.filter(pk=job.pk, state=Job.State.READY, step=VALIDATE).update(
        step=COMMIT
    )
    if not claimed:
        return False
    jobs.start(job, step=COMMIT, background=runs_in_background(job))
    job.refresh_from_db()
    return True


# --- the steps (run by jobs.run_step, in the worker or the request) ----------------------------


def handle(job: Job) -> None:
    if job.step == COMMIT:
        with history.change_source(sources.for_import(job.pk, job.input_name)):
            _commit(job)
    else:
        _validate(job)


def _run(job: Job, *, dry_run: bool):
    return run_import(
        kind=job.subject,
        target=job.node,
        actor=job.owner,
        data=_data(job),
        file_type=job.file_type,
        dry_run=dry_run,
        progress=ProgressWriter(job),
    )


def _data(job: Job) -> bytes:
    path = jobs.file_of(job, job.input_file)
    if path is None:
        raise FileNotFoundError(f"job {job.pk} has no upload")
    return path.read_bytes()


def _validate(job: Job) -> None:
    """The dry run: every row through the importer, everything rolled back; the job keeps the
    counts, the problems and the error workbook. Safe to run again."""
    try:
        outcome = _run(job, dry_run=True)
    except FileRefused as refused:
        _refused(job, refused)
    else:
        _store_outcome(job, outcome)
        if outcome.error:
            job.state, job.failure, job.error = Job.State.FAILED, Job.Failure.ERROR, outcome.error
        else:
            job.state, job.failure, job.error = Job.State.READY, Job.Failure.NONE, ""
        _keep_error_workbook(job)
    job.finished_at = timezone.now()
    job.save()


def _commit(job: Job) -> None:
    """The real import: all rows or none. The job is marked done in the same transaction as
    the data, so a worker that dies after the commit leaves a done job (a redelivered message
    finds nothing to claim), and one that dies before leaves nothing written."""
    try:
        with transaction.atomic():
            outcome = _run(job, dry_run=False)
            _store_outcome(job, outcome)
            if outcome.committed:
                job.state, job.error = Job.State.DONE, ""
                job.finished_at = timezone.now()
                # The upload (full ID numbers and phones) has served: its files go once the
                # import is committed, not at the end of the retention period.
                job.input_file = ""
                job.result["error_file"] = ""
                job.save()
                transaction.on_commit(lambda: jobs.remove_folder(job))
                return
    except FileRefused as refused:
        _refused(job, refused)
        job.save()
        return
    if outcome.error:
        job.state, job.failure, job.error = Job.State.FAILED, Job.Failure.ERROR, outcome.error
    else:
        # The data changed since the dry run: the new problems are shown, nothing written.
        job.state, job.step, job.error = Job.State.READY, VALIDATE, RECHECK_FOUND_PROBLEMS
        _keep_error_workbook(job)
    job.finished_at = timezone.now()
    job.save()


def _refused(job: Job, refused) -> None:
    job.state, job.failure, job.error = Job.State.FAILED, Job.Failure.REFUSED, refused.message
    job.result = {"problems": [refused.as_dict()], "problem_total": 1}


def _store_outcome(job: Job, outcome) -> None:
    warnings = [p.as_dict() for p in outcome.warnings]
    if outcome.upgrades:
        warnings.append(upgrade_notice(outcome.upgrades))
    job.rows_total = job.rows_done = outcome.rows_total
    job.result = {
        "counts": outcome.counts,
        "problems": [p.as_dict() for p in outcome.problems[: max_problems()]],
        "problem_total": len(outcome.problems),
        "warnings": warnings,
    }


# --- what the page shows -------------------------------------------------------------------------


def problems(job: Job) -> list[dict]:
    return job.result.get("problems", [])


def column_warnings(job: Job) -> list[dict]:
    """The job's warnings about the file's columns (not the notices of upgraded numbers)."""
    return [w for w in job.result.get("warnings", []) if w.get("code") != ID_UPGRADED]


def id_upgrades(job: Job) -> dict | None:
    notices = job.result.get("warnings", [])
    return next((w for w in notices if w.get("code") == ID_UPGRADED), None)


def has_error_workbook(job: Job) -> bool:
    return not job.file_deleted_at and bool(job.result.get("error_file"))


def _keep_error_workbook(job: Job) -> None:
    """Build the error workbook now, in the step (on the worker for a big file), when the
    check found something to mark: the download then only reads a file."""
    marked = [p for p in problems(job) if p.get("row")]
    warnings = column_warnings(job)
    job.result["error_file"] = ""
    if not marked and not warnings:
        return
    data = _data(job)

    def workbook(masked: bool) -> bytes:
        return error_workbook(
            kind=job.subject,
            node=job.node,
            data=data,
            file_type=job.file_type,
            problems=marked,
            warnings=warnings,
            masked=masked,
        )

    path = jobs.folder(job) / ERRORS_NAME
    path.write_bytes(workbook(masked=False))
    job.result["error_file"] = jobs.relative(make_private(path))
    job.result["error_file_masked"] = ""
    if get_kind(job.subject).masked_columns:
        # The same workbook with ID numbers and phones masked, for whoever may download it
        # but not see them (township staff, county viewers): households.masking decides.
        path = jobs.folder(job) / MASKED_ERRORS_NAME
        path.write_bytes(workbook(masked=True))
        job.result["error_file_masked"] = jobs.relative(make_private(path))


def kept_error_workbook(job: Job, user=None) -> bytes | None:
    """The error workbook as `user` may see it: masked unless the kind's masking policy lets
    the user see full ID numbers (no user: the masked one)."""
    key = "error_file"
    if get_kind(job.subject).masks_for(user):
        key = "error_file_masked"
    path = jobs.file_of(job, job.result.get(key, ""))
    return path.read_bytes() if path is not None and path.exists() else None


# --- progress ------------------------------------------------------------------------------------


class ProgressWriter:
    """Writes rows_done (and the heartbeat) while the import's transaction is open. That
    transaction's own writes are invisible until it ends, so the progress goes through a
    second connection, opened in a short-lived thread (Django connections are per thread) in
    the same scope, at most once a second. The import never locks the job row before its last
    statement, so the two never wait for each other."""

    def __init__(self, job: Job, interval: float = 1.0):
        self.job_id = job.pk
        self.scope = current_scope()
        self.interval = interval
        self.last = 0.0

    def start(self, total: int) -> None:
        """The number of data rows, once the file has been read: the header and the title
        rows above it, empty rows and the template's untouched example are not among them."""
        self.send(rows_total=total, rows_done=0)

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        self.send(rows_done=done)

    def send(self, **values) -> None:
        if self.scope is None:
            return
        thread = threading.Thread(target=self.write, kwargs=values, daemon=True)
        thread.start()
        thread.join(timeout=10)

    def write(self, **values) -> None:
        try:
            with activate(self.scope):
                Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now(), **values)
        except Exception:  # progress is a courtesy: never fail the import over it
            logger.warning("import progress not written", exc_info=True)
        finally:
            connection.close()


def may_see(user, job: Job) -> bool:
    return can_import(user, job.node)
