"""Importing rosters (会员名册, 家庭户成员名册) from Excel or CSV: running a file through
the importer (members.import_resources, which says what a row does), and the import jobs
behind the pages and the worker: upload, dry run, commit, progress, the error workbook and
the templates to download.

The names the rest of the project uses (KINDS, ROW_CODES, run_import, the resources …) are
importable from here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from import_export.results import RowResult

from associations.models import Association
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
from .models import ElderKind, MemberCategory

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
    progress=None,
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


def upgrade_notice(upgrades: list[IdUpgrade]) -> dict:
    """One notice for the job's warnings: how many 15-digit numbers were upgraded, and which
    (row, old and new number masked), at most IMPORT_MAX_PROBLEMS of them."""
    limit = int(getattr(settings, "IMPORT_MAX_PROBLEMS", 5000))
    return {
        "row": 0,
        "column": "",
        "field": "id_number",
        "code": ID_UPGRADED,
        "message": f"有 {len(upgrades)} 个 15 位身份证号码已按国家标准自动升级为 18 位。",
        "upgrades": [u.as_dict() for u in upgrades[:limit]],
    }


def error_workbook_for(
    *, kind: str, node: Association, data: bytes, file_type: str, problems: list[dict]
) -> bytes:
    """The uploaded rows with the bad cells red and commented, plus the list of problems."""
    spec = KINDS[kind]
    table, raw = import_files.read_table(data, file_type, spec.columns_for(node), keep_raw=True)
    text_columns = [table.columns[c.key] for c in spec.columns if c.text and c.key in table.columns]
    return import_files.build_error_workbook(
        table, raw, problems, code_labels=ROW_CODES, text_columns=text_columns
    )


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
    "RowProblem",
    "group_number",
    "read_rows",
    "run_import",
    "template_workbook",
]
