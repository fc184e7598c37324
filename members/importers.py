"""Import jobs of rosters (会员名册, 家庭户成员名册) behind the pages and the worker: upload,
dry run, commit, progress, the error workbook. The pipeline itself (checks, reading, the
kinds, run_import, the workbooks) is associations.imports; the kinds are declared in
households.imports and members.imports."""

from __future__ import annotations

import datetime
import logging
import threading
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from associations import permissions
from associations.imports import (
    FILE_TYPE,
    ID_UPGRADED,
    KINDS,
    FileRefused,
    ImportOutcome,
    check_upload,
    error_workbook,
    probe,
    run_import,
    upgrade_notice,
)
from associations.models import Association, Level
from associations.scope import activate, current_scope

from .models import ImportJob

logger = logging.getLogger(__name__)

# --- jobs: upload, dry run, commit -----------------------------------------------------------


def background_rows() -> int:
    """Files with more rows than this run in Celery; smaller ones in the request."""
    return int(getattr(settings, "IMPORT_BACKGROUND_ROWS", 2000))


def max_problems() -> int:
    return int(getattr(settings, "IMPORT_MAX_PROBLEMS", 5000))


IMPORT_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)


def can_import(user, node: Association) -> bool:
    return node.level in IMPORT_LEVELS and permissions.can_edit_node(user, node)


def job_create(*, actor, node: Association, kind: str, upload) -> ImportJob:
    """Check the uploaded file (size, type, zip and XML bombs, macros, a header with the
    required columns) and keep it. A refused file raises FileRefused and nothing is stored."""
    permissions.require(can_import(actor, node), "您没有向该组织导入数据的权限。")
    if kind not in KINDS:
        raise FileRefused(FILE_TYPE, "未知的导入类别。")
    file_type = check_upload(upload.name, upload.size)
    data = upload.read()
    found = probe(data, file_type, KINDS[kind].columns_for(node))
    job = ImportJob(
        kind=kind,
        node=node,
        original_name=upload.name[:200],
        file_type=file_type,
        uploaded_by=actor,
        rows_total=max(found.rows_estimate or 0, 0),
        warnings=[],
    )
    job.place_under(node)
    job.file.save(f"upload.{file_type}", ContentFile(data), save=False)
    job.save()
    return job


def runs_in_background(job: ImportJob) -> bool:
    """Large files, and those whose size is unknown before reading (rows_total 0: a sheet
    without a declared dimension), go to the worker."""
    return job.rows_total == 0 or job.rows_total > background_rows()


def _run_job(job: ImportJob, *, dry_run: bool, progress: bool) -> ImportOutcome:
    """The job's file through the importer, as the job's uploader, into the job's node."""
    return run_import(
        kind=job.kind,
        target=job.node,
        actor=job.uploaded_by,
        data=_job_data(job),
        file_type=job.file_type,
        dry_run=dry_run,
        progress=ProgressWriter(job) if progress else None,
    )


def _job_data(job: ImportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def _store_outcome(job: ImportJob, outcome: ImportOutcome) -> None:
    job.count_new = outcome.new
    job.count_updated = outcome.updated
    job.count_unchanged = outcome.unchanged
    job.count_invalid = outcome.invalid
    job.rows_total = outcome.rows_total
    job.rows_done = outcome.rows_total
    job.problem_total = len(outcome.problems)
    job.problems = [p.as_dict() for p in outcome.problems[: max_problems()]]
    job.warnings = [p.as_dict() for p in outcome.warnings]
    if outcome.upgrades:
        job.warnings.append(upgrade_notice(outcome.upgrades))
    job.error_file = ""  # the error workbook follows the problems: rebuilt on demand


def column_warnings(job: ImportJob) -> list[dict]:
    """The job's warnings about the file's columns (not the notices of upgraded numbers)."""
    return [w for w in job.warnings if w.get("code") != ID_UPGRADED]


def id_upgrades(job: ImportJob) -> dict | None:
    return next((w for w in job.warnings if w.get("code") == ID_UPGRADED), None)


FILE_EXPIRED_MESSAGE = "上传的文件已超过保留期限({days} 天)被删除,未导入。如仍需导入,请重新上传。"


def purge_expired_files(now: datetime.datetime | None = None) -> int:
    """Delete the uploaded files and error workbooks of the scope's import jobs older than
    settings.IMPORT_FILE_RETENTION_DAYS; the job records stay. A job not imported by then
    can no longer be: it is marked failed, saying why. Jobs at work are left for next time."""
    now = now or timezone.now()
    days = settings.IMPORT_FILE_RETENTION_DAYS
    expired = ImportJob.objects.filter(
        created_at__lt=now - datetime.timedelta(days=days), file_deleted_at__isnull=True
    ).exclude(status__in=[ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING])
    purged = 0
    for job in expired.iterator():
        for name in (job.file.name, job.error_file):
            if name:
                default_storage.delete(name)
        job.file, job.error_file, job.file_deleted_at = "", "", now
        if job.status != ImportJob.Status.DONE:
            job.status = ImportJob.Status.FAILED
            job.message = FILE_EXPIRED_MESSAGE.format(days=days)
        job.save(update_fields=["file", "error_file", "file_deleted_at", "status", "message"])
        purged += 1
    return purged


def _refused(job: ImportJob, refused: FileRefused) -> None:
    job.status = ImportJob.Status.FAILED
    job.message = refused.message
    job.problems = [refused.as_dict()]
    job.problem_total = 1
    job.error_file = ""


def job_validate(job: ImportJob, *, progress: bool = False) -> ImportJob:
    """The dry run: every row through the importer, everything rolled back; the job keeps
    the counts and the problems. Safe to run again (a worker restart, a re-check)."""
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.IMPORTING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, rows_done=0)
    job.status = ImportJob.Status.VALIDATING
    try:
        outcome = _run_job(job, dry_run=True, progress=progress)
    except FileRefused as refused:
        _refused(job, refused)
    else:
        _store_outcome(job, outcome)
        if outcome.error:
            job.status, job.message = ImportJob.Status.FAILED, outcome.error
        else:
            job.status, job.message = ImportJob.Status.VALIDATED, ""
    job.validated_at = timezone.now()
    job.save()
    return job


def nothing_to_import(job: ImportJob) -> bool:
    """Checked without a problem, and every row is already as the file says."""
    return (
        job.status == ImportJob.Status.VALIDATED
        and not job.count_invalid
        and not job.count_new
        and not job.count_updated
    )


def job_start_commit(job: ImportJob) -> bool:
    """Claim the job for its commit: only a validated job without invalid rows, and only
    once (a second click or a second tab gets False)."""
    if not job.can_commit:
        return False
    claimed = ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.VALIDATED, count_invalid=0
    ).update(status=ImportJob.Status.IMPORTING, rows_done=0, message="")
    if claimed:
        job.status, job.rows_done, job.message = ImportJob.Status.IMPORTING, 0, ""
    return bool(claimed)


def job_commit(job: ImportJob, *, progress: bool = False) -> ImportJob:
    """The real import of a claimed job: all rows or none. The job is marked done in the same
    transaction as the data, so a worker that dies after the commit leaves a done job and a
    redelivered task does nothing; one that dies before leaves nothing written, and running
    the task again imports the file (importing is idempotent anyway)."""
    if job.status != ImportJob.Status.IMPORTING:
        return job
    try:
        with transaction.atomic():
            outcome = _run_job(job, dry_run=False, progress=progress)
            _store_outcome(job, outcome)
            if outcome.committed:
                job.status, job.message = ImportJob.Status.DONE, ""
                job.finished_at = timezone.now()
                job.save()
                return job
    except FileRefused as refused:
        _refused(job, refused)
        job.save()
        return job
    if outcome.error:
        job.status, job.message = ImportJob.Status.FAILED, outcome.error
    else:
        # The data changed since the dry run: the new problems are shown, nothing written.
        job.status = ImportJob.Status.VALIDATED
        job.message = "导入前重新校验时发现问题(系统中的数据可能已有变化),全部数据均未导入。"
    job.save()
    return job


class ProgressWriter:
    """Writes rows_done while the import's transaction is open. That transaction's own writes
    are invisible until it ends, so the progress goes through a second connection, opened
    in a short-lived thread (Django connections are per thread) in the same scope, at most
    once a second. The import never locks the job row before its last statement, so the two
    never wait for each other."""

    def __init__(self, job: ImportJob, interval: float = 1.0):
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
                ImportJob.objects.filter(pk=self.job_id).update(**values)
        except Exception:  # progress is a courtesy: never fail the import over it
            logger.warning("import progress not written", exc_info=True)
        finally:
            connection.close()


def job_error_workbook(job: ImportJob) -> bytes:
    """The uploaded rows with the bad cells red and commented, plus the list of problems;
    built on first download and kept until the problems change."""
    if job.error_file and default_storage.exists(job.error_file):
        with default_storage.open(job.error_file, "rb") as handle:
            return handle.read()
    content = error_workbook(
        kind=job.kind,
        node=job.node,
        data=_job_data(job),
        file_type=job.file_type,
        problems=job.problems,
        warnings=column_warnings(job),
    )
    path = default_storage.save(
        f"imports/{job.county_id}/{job.file.name.rsplit('/', 1)[-1]}-errors.xlsx",
        ContentFile(content),
    )
    ImportJob.objects.filter(pk=job.pk).update(error_file=path)
    job.error_file = path
    return content
