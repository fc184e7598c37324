"""Importing rosters (会员名册, 家庭户成员名册) from Excel or CSV: running a file through
the importer (members.import_resources, which says what a row does), and the import jobs
behind the pages and the worker: upload, dry run, commit, progress, the error workbook and
the templates to download.

The names the rest of the project uses (KINDS, ROW_CODES, run_import, the resources …) are
importable from here."""

from __future__ import annotations

import datetime
import logging
import threading
import time
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from import_export.results import RowResult

from associations import permissions
from associations.models import Association, Level
from associations.scope import activate, current_scope
from households.categories import Relation
from households.models import ETHNICITIES, MaritalStatus, Residency

from . import import_files
from .import_columns import (
    DATABASE_ERROR,
    HOUSEHOLD_COLUMNS,
    ID_UPGRADED,
    KIND_HOUSEHOLDS,
    KIND_MEMBERS,
    KINDS,
    MEMBER_COLUMNS,
    NUMERIC_ID_MESSAGE,
    ROW_CODES,
    IdUpgrade,
    ImportKind,
    RowProblem,
    group_number,
)
from .import_files import FileRefused, Record, Table, as_text
from .import_resources import (
    RESOURCES,
    HouseholdRosterResource,
    MemberRosterResource,
)
from .models import ElderKind, ImportJob, MemberCategory

logger = logging.getLogger(__name__)

# --- running an import ------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    dry_run: bool
    rows_total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    upgrades: list[IdUpgrade] = field(default_factory=list)
    error: str = ""  # a database error: nothing was written
    committed: bool = False

    @property
    def counts(self) -> dict:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
        }


def is_untouched_example(record: Record, example: dict[str, str]) -> bool:
    return all(as_text(record.values.get(k)) == v for k, v in example.items() if k in record.values)


def to_dataset(table: Table, kind: ImportKind) -> tablib.Dataset:
    keys = [c.key for c in kind.columns]
    dataset = tablib.Dataset(headers=["__row", "__numeric", *keys])
    for record in table.records:
        if is_untouched_example(record, kind.example):
            continue
        values = record.values
        dataset.append([record.row_number, record.numeric_id, *(values.get(k) for k in keys)])
    return dataset


def read_rows(data: bytes, file_type: str, kind: str, target: Association):
    spec = KINDS[kind]
    table, _raw = import_files.read_table(data, file_type, spec.columns_for(target))
    dataset = to_dataset(table, spec)
    if not len(dataset):
        raise FileRefused(import_files.EMPTY_FILE, "除模板中的示例行外,文件中没有数据行。")
    return table, dataset


def run_import(
    *,
    kind: str,
    target: Association,
    actor,
    data: bytes,
    file_type: str,
    dry_run: bool,
    progress: ProgressWriter | None = None,
    table_and_dataset=None,
) -> ImportOutcome:
    """Read the file and run every row through the importer, in one transaction that is
    rolled back for a dry run, or when any row is invalid, or when the database refuses a
    write. Raises FileRefused for problems of the file as a whole (nothing is written)."""
    table, dataset = table_and_dataset or read_rows(data, file_type, kind, target)
    if progress is not None:
        # The upload's count was an estimate (a sheet's declared size): now it is exact.
        progress.start(len(dataset))
    resource = RESOURCES[kind](target=target, actor=actor, table=table, progress=progress)
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
    )
    totals = result.totals
    outcome = ImportOutcome(
        dry_run=dry_run,
        rows_total=len(dataset),
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
        invalid=totals[RowResult.IMPORT_TYPE_INVALID] + totals[RowResult.IMPORT_TYPE_ERROR],
        problems=sorted(resource.problems, key=lambda p: p.row_number),
        warnings=resource.column_warnings(),
        upgrades=resource.upgrades,
    )
    for row_number, errors in result.row_errors():
        for error in errors:
            outcome.problems.append(
                RowProblem(
                    error.number or row_number,
                    "",
                    DATABASE_ERROR,
                    f"处理此行时出错,全部数据均未导入({str(error.error)[:200]})。请联系管理员。",
                )
            )
    if result.base_errors:
        outcome.error = _database_message(result.base_errors[0].error)
    outcome.committed = not dry_run and not outcome.invalid and not outcome.error
    return outcome


def _database_message(error: Exception) -> str:
    text = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    return f"数据库拒绝了写入,全部数据均未导入({text})。请联系管理员。"


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
        raise FileRefused(import_files.FILE_TYPE, "未知的导入类别。")
    file_type = import_files.check_upload(upload.name, upload.size)
    data = upload.read()
    found = import_files.probe(data, file_type, KINDS[kind].columns_for(node))
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


def upgrade_notice(upgrades: list[IdUpgrade]) -> dict:
    """One notice for the job's warnings: how many 15-digit numbers were upgraded, and which
    (row, old and new number masked), at most max_problems() of them."""
    return {
        "row": 0,
        "column": "",
        "field": "id_number",
        "code": ID_UPGRADED,
        "message": f"有 {len(upgrades)} 个 15 位身份证号码已按国家标准自动升级为 18 位。",
        "upgrades": [u.as_dict() for u in upgrades[: max_problems()]],
    }


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
    spec = KINDS[job.kind]
    data = _job_data(job)
    table, raw = import_files.read_table(
        data, job.file_type, spec.columns_for(job.node), keep_raw=True
    )
    problems = [p for p in job.problems if p.get("row")] + column_warnings(job)
    text_columns = [table.columns[c.key] for c in spec.columns if c.text and c.key in table.columns]
    content = import_files.build_error_workbook(
        table, raw, problems, code_labels=ROW_CODES, text_columns=text_columns
    )
    path = default_storage.save(
        f"imports/{job.county_id}/{job.file.name.rsplit('/', 1)[-1]}-errors.xlsx",
        ContentFile(content),
    )
    ImportJob.objects.filter(pk=job.pk).update(error_file=path)
    job.error_file = path
    return content


TEMPLATE_NOTES = [
    "1. 第 1 行是表头,请勿修改列名;红色列名为必填项。"
    "第 2 行是示例,可直接覆盖或删除(保留原样时导入会跳过它)。",
    "2. 身份证号码列已设为“文本”格式。请勿把身份证号码存成数字:Excel 只保留 15 位有效数字,"
    "末尾几位会丢失,导入时这样的行会被拒绝。",
    "3. 性别、出生日期可不填,系统按身份证号码确定;填写时须与身份证号码一致。"
    "婚姻状况:新登记的人员必须填写,已登记的人员可不填。",
    "4. 所属村(社区)填写名称或 12 位区划代码;在村(社区)页面导入时可不填。"
    "会员小组填写小组名称或 15 位代码。",
    "5. 会员类别可填多个,用顿号(、)或逗号分开;填写五老类别时会自动加上“五老”类别。",
    "6. 会员证号可不填,系统按本村现有最大号码依次编号。",
    "7. 留空的单元格不会清除系统中已有的内容;同一文件重复导入不会产生重复数据。",
    "8. 导入前系统会先完整校验全部行并给出预览;有问题的行会在“下载错误标注文件”中标红并注明原因,"
    "改正后重新上传即可。确认导入时要么全部导入,要么全部不导入。",
]


HOUSEHOLD_TEMPLATE_NOTES = [
    "9. 母亲身份证号码可不填。填写时,母亲须是本县已登记的人或写在本文件中(前后行均可),"
    "性别为女,且比本人年长 12 岁以上;统计孩次时按母亲计算。",
]


def template_workbook(kind: str) -> bytes:
    spec = KINDS[kind]
    allowed = [
        import_files.AllowedValues("性别", ["男", "女"], "sex"),
        import_files.AllowedValues("民族", [name for _code, name in ETHNICITIES], "ethnicity"),
        import_files.AllowedValues(
            "与户主关系", [label for _v, label in Relation.choices], "relation_to_head"
        ),
        import_files.AllowedValues(
            "户籍状态", [label for _v, label in Residency.choices], "residency"
        ),
        import_files.AllowedValues(
            "婚姻状况", [label for _v, label in MaritalStatus.choices], "marital_status"
        ),
        import_files.AllowedValues("会员类别", [label for _v, label in MemberCategory.choices]),
        import_files.AllowedValues(
            "五老类别", [label for _v, label in ElderKind.choices], "elder_kind"
        ),
        import_files.AllowedValues("骨干会员", ["是", "否"], "is_backbone"),
    ]
    if kind == KIND_HOUSEHOLDS:  # the membership columns are the members roster's only
        allowed = [a for a in allowed if a.title not in ("会员类别", "五老类别", "骨干会员")]
    return import_files.build_template(
        sheet_title=spec.sheet_title,
        columns=spec.columns,
        example=spec.example,
        allowed=allowed,
        notes=TEMPLATE_NOTES + (HOUSEHOLD_TEMPLATE_NOTES if kind == KIND_HOUSEHOLDS else []),
    )


__all__ = [
    "HOUSEHOLD_COLUMNS",
    "KINDS",
    "KIND_HOUSEHOLDS",
    "KIND_MEMBERS",
    "MEMBER_COLUMNS",
    "NUMERIC_ID_MESSAGE",
    "RESOURCES",
    "ROW_CODES",
    "FileRefused",
    "HouseholdRosterResource",
    "ImportOutcome",
    "MemberRosterResource",
    "ProgressWriter",
    "RowProblem",
    "can_import",
    "group_number",
    "job_commit",
    "job_create",
    "job_error_workbook",
    "job_start_commit",
    "job_validate",
    "purge_expired_files",
    "read_rows",
    "run_import",
    "template_workbook",
]
