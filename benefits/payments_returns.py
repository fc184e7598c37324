"""Payment results by reference: the bank's return file (回盘文件) of a batch, and a finance
system's report through the API. Each result names a line by the reference the bank file gave
it (业务参考号) and says 成功 or 失败 (with a reason).

Idempotent and all or nothing: every result is checked first; if any cannot be applied (an
unknown reference, a line not confirmed, a failed line reported paid, …) nothing is applied and
every problem is listed, in Chinese, with a stable code. A result that matches what is recorded
already changes nothing, so the same file uploaded twice changes nothing the second time."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from associations.imports.checks import check_upload
from associations.imports.columns import ColumnSpec, as_text, parse_date
from associations.imports.reading import read_table
from associations.permissions import require

from .models import LIVE_LINE, BatchStatus, Disbursement, DisbursementBatch, LineStatus
from .payments_lines import NOT_ALLOWED, lock_batch, record_lines, today
from .payments_rules import PAID, parse_result
from .payments_services import refund_to_fund
from .permissions import can_pay

# Stable codes (API clients rely on them).
UNKNOWN_REFERENCE = "unknown_reference"
NOT_IN_BATCH = "not_in_batch"
LINE_NOT_LIVE = "line_not_live"
STATUS_CONFLICT = "status_conflict"
DUPLICATE_REFERENCE = "duplicate_reference"
REFERENCE_EMPTY = "reference_empty"
STATUS_INVALID = "status_invalid"
DATE_INVALID = "date_invalid"

DEFAULT_FAILURE = "银行返回失败"
MAX_RESULTS = 50_000


@dataclass(frozen=True)
class LineResult:
    reference: str
    result: str  # PAID or FAILED
    reason: str = ""
    paid_on: datetime.date | None = None
    at: str = ""  # where it came from: "第 5 行" of a file, "第 3 项" of a report


@dataclass(frozen=True)
class Problem:
    at: str
    reference: str
    code: str
    message: str
    index: int | None = None  # the result's position (API reports)

    @property
    def text(self) -> str:
        return f"{self.at}:{self.message}" if self.at else self.message


class ResultsRefused(Exception):
    """Results that cannot be applied: nothing was."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(";".join(p.text for p in problems[:5]))


@dataclass
class Outcome:
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    references: list[str] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return self.paid + self.failed

    @property
    def text(self) -> str:
        if not self.applied:
            return f"共 {self.unchanged} 条结果,与已登记的一致,没有变化。"
        parts = [f"登记发放成功 {self.paid} 条", f"发放失败 {self.failed} 条"]
        if self.unchanged:
            parts.append(f"与已登记一致未变化 {self.unchanged} 条")
        return "已" + "、".join(parts) + "。"


def _check(results: list[LineResult], lines: dict[str, Disbursement], batch) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, LineResult] = {}
    for index, result in enumerate(results):

        def problem(code: str, message: str, result=result, index=index) -> None:
            problems.append(Problem(result.at, result.reference, code, message, index))

        reference = result.reference
        if reference in seen and seen[reference].result != result.result:
            problem(DUPLICATE_REFERENCE, f"业务参考号“{reference}”出现多次且结果不一致。")
            continue
        seen[reference] = result
        line = lines.get(reference)
        if line is None:
            problem(UNKNOWN_REFERENCE, f"业务参考号“{reference}”在本县没有对应的发放明细。")
            continue
        if batch is not None and line.batch_id != batch.pk:
            problem(
                NOT_IN_BATCH,
                f"业务参考号“{reference}”属于第 {line.batch_id} 号批次,不是本批次的明细。",
            )
            continue
        if line.status not in (*LIVE_LINE, LineStatus.FAILED):
            problem(
                LINE_NOT_LIVE,
                f"业务参考号“{reference}”的明细{line.get_status_display()},不能登记发放结果。",
            )
            continue
        if line.status == LineStatus.FAILED and result.result == PAID:
            problem(
                STATUS_CONFLICT,
                f"业务参考号“{reference}”的明细已标记为发放失败,不能再登记为成功;"
                "如已补发,请通过重发批次办理。",
            )
            continue
        if result.paid_on is not None and result.paid_on > today():
            problem(DATE_INVALID, f"业务参考号“{reference}”的发放日期晚于今天。")
    return problems


@transaction.atomic
def results_apply(
    *, actor, results: list[LineResult], batch: DisbursementBatch | None = None
) -> Outcome:
    """Apply the results (only lines of `batch` when given; otherwise any of the county's).
    Raises ResultsRefused, having applied nothing, when any result cannot be applied."""
    require(can_pay(actor), NOT_ALLOWED)
    references = list(dict.fromkeys(r.reference for r in results))
    found = Disbursement.objects.filter(reference__in_list=references).values_list(
        "batch_id", flat=True
    )
    # Batches first, then their lines: the order line_fail and batch_mark_paid lock them in.
    batch_ids = sorted(set(found))
    batches = {
        b.pk: b
        for b in (
            DisbursementBatch.objects.select_for_update(of=("self",))
            .select_related("program")
            .filter(pk__in=batch_ids)
            .order_by("pk")
        )
    }
    if batch is not None:
        batch = batches.get(batch.pk) or lock_batch(batch)
    lines = {
        line.reference: line
        for line in Disbursement.objects.select_for_update()
        .filter(reference__in_list=references)
        .order_by("pk")
    }
    problems = _check(results, lines, batch)
    if problems:
        raise ResultsRefused(problems)
    outcome = Outcome()
    # (status before, status after, paid on, reason) -> the lines changed so, written set-wise
    changes: dict[tuple[str, str, datetime.date | None, str], list[Disbursement]] = defaultdict(
        list
    )
    done: set[str] = set()
    for result in results:
        line = lines[result.reference]
        target = LineStatus.PAID if result.result == PAID else LineStatus.FAILED
        if result.reference in done or line.status == target:
            outcome.unchanged += 1
            continue
        done.add(result.reference)
        if target == LineStatus.PAID:
            changes[(line.status, target, result.paid_on or today(), "")].append(line)
            outcome.paid += 1
        else:
            reason = (result.reason or DEFAULT_FAILURE)[:200]
            changes[(line.status, target, None, reason)].append(line)
            outcome.failed += 1
        outcome.references.append(result.reference)
    for (was, now, paid_on, reason), changed in changes.items():
        rows = Disbursement.objects.filter(pk__any_of=[line.pk for line in changed])
        if now == LineStatus.PAID:
            change = {"status": now, "paid_on": paid_on}
        else:
            change = {"status": now, "failure_reason": reason}
        # each line's change recorded as written (the date as its ISO text)
        record_lines(actor, rows, {"status": was}, change)
        rows.update(**change)
        for line in changed if was == LineStatus.PAID and now == LineStatus.FAILED else ():
            owner = batches[line.batch_id]
            if owner.status == BatchStatus.PAID:
                line.status, line.failure_reason = now, reason
                refund_to_fund(actor=actor, batch=owner, line=line, reason=reason)
    return outcome


# --- the bank's return file ------------------------------------------------------------------

REFERENCE = "reference"
RESULT = "result"
REASON = "reason"
PAID_ON = "paid_on"

RETURN_COLUMNS = [
    ColumnSpec(
        REFERENCE,
        "业务参考号",
        ("参考号", "客户流水号", "流水号", "交易流水号", "业务编号", "备注号"),
        required=True,
        text=True,
    ),
    ColumnSpec(
        RESULT, "状态", ("处理结果", "交易状态", "处理状态", "结果", "发放结果"), required=True
    ),
    ColumnSpec(REASON, "失败原因", ("原因", "错误信息", "失败说明", "备注", "说明")),
    ColumnSpec(PAID_ON, "交易日期", ("发放日期", "入账日期", "处理日期", "日期")),
]


def read_return_file(name: str, data: bytes) -> list[LineResult]:
    """The results in an uploaded .xlsx or .csv; FileRefused for the file as a whole,
    ResultsRefused listing every row that cannot be read."""
    file_type = check_upload(name, len(data))
    table, _ = read_table(data, file_type, RETURN_COLUMNS, id_key=REFERENCE)
    results: list[LineResult] = []
    problems: list[Problem] = []
    for record in table.records:
        at = f"第 {record.row_number} 行"
        values = record.values
        reference = as_text(values.get(REFERENCE))
        if not reference:
            problems.append(Problem(at, "", REFERENCE_EMPTY, "没有填写业务参考号。"))
            continue
        if record.numeric_id:
            problems.append(
                Problem(
                    at,
                    reference,
                    REFERENCE_EMPTY,
                    "业务参考号被 Excel 存成了数字,可能已丢失数位;请把该列设为文本后重新导出。",
                )
            )
            continue
        result = parse_result(as_text(values.get(RESULT)))
        if result is None:
            problems.append(Problem(at, reference, STATUS_INVALID, "状态应为“成功”或“失败”。"))
            continue
        try:
            day = parse_date(values.get(PAID_ON))
        except ValueError:
            problems.append(Problem(at, reference, DATE_INVALID, "交易日期无法识别。"))
            continue
        results.append(
            LineResult(
                reference=reference,
                result=result,
                reason=as_text(values.get(REASON)),
                paid_on=day[0] if day else None,
                at=at,
            )
        )
    if problems:
        raise ResultsRefused(problems)
    return results


def apply_return_file(*, actor, batch: DisbursementBatch, name: str, data: bytes) -> Outcome:
    """Read and apply a batch's return file (raises FileRefused or ResultsRefused)."""
    require(can_pay(actor), NOT_ALLOWED)
    return results_apply(actor=actor, results=read_return_file(name, data), batch=batch)
