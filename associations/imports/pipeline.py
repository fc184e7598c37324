"""The import pipeline every kind of sheet goes through, and the registry of kinds.

A kind (会员名册, 家庭户成员名册, next activities, assessments, benefits …) is declared by its
app as an `ImportKind` and registered (`register`) when the app is ready. The pipeline reads
the file (after the hostile-file checks), turns it into rows keyed by column, and runs them
through the kind's resource — a django-import-export Resource whose `import_data(dataset,
dry_run=...)` runs inside one transaction. The dry run and the commit are the SAME path: every
row is resolved, validated and written, and the dry run is rolled back at the end, so the
preview counts exactly what the commit will do, database constraints included. A commit is
all-or-nothing: one invalid row, or a database refusal, and nothing is written.

The resource's contract: ``Resource(target=, actor=, table=, progress=)``; after
``import_data`` it holds ``problems`` (RowProblem list), ``upgrades`` (IdUpgrade list),
``column_warnings()``, and ``row_of_refusal(error)`` (the file's row a database error is
about, or None)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from import_export.results import RowResult

from ..heap import old_objects_frozen
from . import dberrors
from .checks import EMPTY_FILE, FILE_CODES, FileRefused
from .columns import DATABASE_ERROR, GENERIC_CODES, ColumnSpec, RowProblem, as_text
from .reading import Record, Table, read_table
from .workbooks import AllowedValues, build_error_workbook, build_template

ID_UPGRADED = "ID_UPGRADED"  # a notice: old 15-digit numbers read as their 18-digit form


@dataclass(frozen=True)
class IdUpgrade:
    """An old 15-digit number of the file and the 18-digit number it was read as, both masked:
    the preview names them without showing anyone's full number."""

    row_number: int
    old: str
    new: str

    def as_dict(self) -> dict:
        return {"row": self.row_number, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ImportKind:
    """One kind of sheet an app imports.

    key, label: the stable key ("members") and the Chinese name shown (会员名册).
    sheet_title: the template's sheet name. columns: the ColumnSpecs, in the template's order.
    example: the template's example row ({column key: text}); a row left exactly like it is
    skipped. resource: the import-export Resource class doing the rows (see the module doc).
    notes: the template's filling notes. code_labels: the kind's row codes -> Chinese labels.
    allowed: () -> the template's AllowedValues (drop-downs). adapt_columns: (node, columns)
    -> the columns for an import into that node (e.g. a column required above a village).
    id_key: the column of codes a number cell cannot hold (flagged as ID_NUMERIC_CELL).
    constraints: a database constraint's name -> (the cause in Chinese words, the column key
    to mark) for the messages of database refusals. order: place in lists.
    masked_columns: column key -> the mask the error workbook applies to that column's cells
    for a user `sees_full(user)` denies (the app's one masking policy decides both)."""

    key: str
    label: str
    sheet_title: str
    columns: list[ColumnSpec]
    example: dict[str, str]
    resource: type
    notes: list[str] = field(default_factory=list)
    code_labels: dict[str, str] = field(default_factory=dict)
    allowed: Callable[[], list[AllowedValues]] | None = None
    adapt_columns: Callable[[object, list[ColumnSpec]], list[ColumnSpec]] | None = None
    id_key: str = "id_number"
    constraints: dict[str, tuple[str, str]] = field(default_factory=dict)
    order: int = 100
    masked_columns: dict[str, Callable[[str], str]] = field(default_factory=dict)
    sees_full: Callable[[object], bool] | None = None

    def masks_for(self, user) -> bool:
        """Whether `user` gets the error workbook with the masked columns masked."""
        return bool(self.masked_columns) and not (self.sees_full and self.sees_full(user))

    @property
    def constraint_causes(self) -> dict[str, str]:
        return {name: cause for name, (cause, _key) in self.constraints.items()}

    def columns_for(self, node) -> list[ColumnSpec]:
        if self.adapt_columns is None:
            return self.columns
        return self.adapt_columns(node, self.columns)


# --- the registry -----------------------------------------------------------------------------

_registry: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    """Called by the app declaring the kind (from its AppConfig.ready)."""
    _registry[kind.key] = kind
    return kind


def _kinds() -> dict[str, ImportKind]:
    from django.apps import apps

    apps.check_apps_ready()  # the apps register their kinds in ready()
    return dict(sorted(_registry.items(), key=lambda item: (item[1].order, item[0])))


class _KindsView(Mapping):
    """key -> ImportKind, every registered kind, in their order."""

    def __getitem__(self, key: str) -> ImportKind:
        return _kinds()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_kinds())

    def __len__(self) -> int:
        return len(_kinds())


KINDS: Mapping[str, ImportKind] = _KindsView()


def get_kind(key: str) -> ImportKind:
    """The registered kind; KeyError for an unknown key."""
    return KINDS[key]


def _as_kind(kind: str | ImportKind) -> ImportKind:
    return kind if isinstance(kind, ImportKind) else get_kind(kind)


class _RowCodes(Mapping):
    """code -> Chinese label: the file's codes, the generic row codes and every kind's."""

    def _labels(self) -> dict[str, str]:
        labels = dict(GENERIC_CODES)
        for kind in _kinds().values():
            labels.update(kind.code_labels)
        labels[ID_UPGRADED] = "15 位身份证号码已升级为 18 位"
        labels.update(FILE_CODES)
        return labels

    def __getitem__(self, code: str) -> str:
        return self._labels()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


ROW_CODES: Mapping[str, str] = _RowCodes()


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
    rows = [
        [record.row_number, record.numeric_id, *map(record.values.get, keys)]
        for record in table.records
        if not is_untouched_example(record, kind.example)
    ]
    # Given at once: appended one by one, each row is checked against the headers again.
    return tablib.Dataset(*rows, headers=["__row", "__numeric", *keys])


def read_rows(data: bytes, file_type: str, kind: str | ImportKind, target):
    """(table, dataset) of the file for the kind: FileRefused when it cannot be imported."""
    spec = _as_kind(kind)
    table, _raw = read_table(data, file_type, spec.columns_for(target), id_key=spec.id_key)
    dataset = to_dataset(table, spec)
    if not len(dataset):
        raise FileRefused(EMPTY_FILE, "除模板中的示例行外,文件中没有数据行。")
    return table, dataset


def run_import(
    *,
    kind: str | ImportKind,
    target,
    actor,
    data: bytes,
    file_type: str,
    dry_run: bool,
    progress=None,
) -> ImportOutcome:
    """Read the file and run every row through the kind's resource, in one transaction that
    is rolled back for a dry run, or when any row is invalid, or when the database refuses a
    write. Raises FileRefused for problems of the file as a whole (nothing is written).
    ``progress``, when given, has ``start(total)`` and is called with the rows done."""
    with old_objects_frozen():
        return _run(
            spec=_as_kind(kind),
            target=target,
            actor=actor,
            data=data,
            file_type=file_type,
            dry_run=dry_run,
            progress=progress,
        )


def _run(*, spec: ImportKind, target, actor, data, file_type, dry_run, progress) -> ImportOutcome:
    table, dataset = read_rows(data, file_type, spec, target)
    if progress is not None:
        # The upload's count was an estimate: now it is exact.
        progress.start(len(dataset))
    resource = spec.resource(target=target, actor=actor, table=table, progress=progress)
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
    )
    after_run = getattr(resource, "after_run", None)
    if after_run is not None:  # e.g. the read log of an import's ID number lookups
        after_run()
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
            outcome.problems.append(_row_error(spec, error.number or row_number, error.error))
    if result.base_errors:
        error = result.base_errors[0].error
        outcome.error = _refused_write(spec, table, resource, error, outcome)
    outcome.committed = not dry_run and not outcome.invalid and not outcome.error
    return outcome


def _row_error(spec: ImportKind, row: int, error: BaseException) -> RowProblem:
    """An exception while one row was processed (import-export caught it)."""
    refusal = dberrors.refusal_of(error)
    dberrors.log_refusal(refusal, kind=spec.key, row=row)
    cause = dberrors.cause_of(refusal, spec.constraint_causes)
    message = f"处理此行时出错,全部数据均未导入:{cause}。请重新校验;如仍出现,请联系管理员。"
    return RowProblem(row, "", DATABASE_ERROR, message)


def _refused_write(spec, table: Table, resource, error: BaseException, outcome) -> str:
    """The database refused a bulk write: the message names the row when the error's
    diagnostics lead to it (the key of a unique violation, the line of a COPY), and the
    problem is listed on that row."""
    refusal = dberrors.refusal_of(error)
    finder = getattr(resource, "row_of_refusal", None)
    row = finder(refusal) if finder is not None else None
    dberrors.log_refusal(refusal, kind=spec.key, row=row)
    cause = dberrors.cause_of(refusal, spec.constraint_causes)
    message = dberrors.refusal_message(cause, row)
    if row:
        key = spec.constraints.get(refusal.constraint, ("", ""))[1]
        key = key or _key_of_column(table, dberrors.copy_column(refusal))
        column = table.header_text(key, "") if key else ""
        outcome.problems.append(RowProblem(row, column, DATABASE_ERROR, message, key))
    return message


def _key_of_column(table: Table, column: str) -> str:
    """A database column named by the error, as the table's column key (member_number, or a
    foreign key's group_id as group) when the file has that column."""
    for key in (column, column.removesuffix("_id")):
        if key and key in table.columns:
            return key
    return ""


# --- workbooks --------------------------------------------------------------------------------


def max_problems() -> int:
    return int(getattr(settings, "IMPORT_MAX_PROBLEMS", 5000))


def upgrade_notice(upgrades: list[IdUpgrade]) -> dict:
    """One notice for a job's warnings: how many 15-digit numbers were upgraded, and which
    (row, old and new number masked), at most max_problems() of them."""
    return {
        "row": 0,
        "column": "",
        "field": "id_number",
        "code": ID_UPGRADED,
        "message": f"有 {len(upgrades)} 个 15 位身份证号码已按国家标准自动升级为 18 位。",
        "upgrades": [u.as_dict() for u in upgrades[: max_problems()]],
    }


def error_workbook(
    *,
    kind: str | ImportKind,
    node,
    data: bytes,
    file_type: str,
    problems: list[dict],
    warnings: list[dict],
    masked: bool = False,
) -> bytes:
    """The upload with every problem marked on its cell, and the list of problems (the row
    problems, then the warnings about the file's columns). FileRefused when the file can no
    longer be read."""
    spec = _as_kind(kind)
    table, raw = read_table(
        data, file_type, spec.columns_for(node), id_key=spec.id_key, keep_raw=True
    )
    listed = [p for p in problems if p.get("row")] + list(warnings)
    text_columns = [table.columns[c.key] for c in spec.columns if c.text and c.key in table.columns]
    masks = {}
    if masked:
        masks = {
            table.columns[key]: mask
            for key, mask in spec.masked_columns.items()
            if key in table.columns
        }
    return build_error_workbook(
        table, raw, listed, code_labels=dict(ROW_CODES), text_columns=text_columns, masks=masks
    )


def template_workbook(kind: str | ImportKind) -> bytes:
    spec = _as_kind(kind)
    return build_template(
        sheet_title=spec.sheet_title,
        columns=spec.columns,
        example=spec.example,
        allowed=spec.allowed() if spec.allowed else [],
        notes=spec.notes,
    )
