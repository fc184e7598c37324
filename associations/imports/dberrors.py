"""When the database refuses an import's write: a Chinese message that names the row and
says the cause in words, never PostgreSQL's English text or a constraint's name (those go to
the log only, without the values: a unique violation's detail holds the key, e.g. a full ID
number, which never goes into a log).

Causes come from the constraint's name (each kind declares its own, e.g.
person_id_unique_in_county), else from the SQLSTATE class. The row of a bulk statement is
found by the caller from the error's diagnostics (`conflict_key`, `copy_line`)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger("associations.imports")

# SQLSTATE -> the cause in words, when the constraint is not one a kind names.
STATE_CAUSES = {
    "23505": "与系统中已有的记录重复(可能有人同时录入了相同的数据)",
    "23503": "引用的记录已不存在(可能刚被他人删除或移走)",
    "23514": "不符合系统对数据的规则",
    "23502": "缺少必需的数据",
    "23P01": "与系统中已有的记录冲突",
    "22001": "内容超过了允许的长度",
    "22003": "数值超出了允许的范围",
    "22007": "日期或时间的格式不对",
    "22008": "日期或时间超出了允许的范围",
    "42501": "超出了当前账号的管理范围",
    "40001": "与他人同时进行的操作冲突",
    "40P01": "与他人同时进行的操作冲突",
}
GENERIC_CAUSE = "数据库拒绝了写入"
RETRY_HINT = "全部数据均未导入。请重新校验后再导入;如仍出现,请联系管理员。"


@dataclass(frozen=True)
class Refusal:
    """What the database refused, read from the error: for messages and for finding the row."""

    state: str = ""
    constraint: str = ""
    table: str = ""
    detail: str = ""  # never logged: it may hold the values
    context: str = ""
    primary: str = ""


def refusal_of(error: BaseException) -> Refusal:
    """The diagnostics psycopg attaches to the error Django wraps (error.__cause__)."""
    cause = error
    seen = 0
    while cause is not None and getattr(cause, "diag", None) is None and seen < 5:
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    diag = getattr(cause, "diag", None)
    if diag is None:
        return Refusal(primary=_first_line(error))
    return Refusal(
        state=diag.sqlstate or "",
        constraint=diag.constraint_name or "",
        table=diag.table_name or "",
        detail=diag.message_detail or "",
        context=diag.context or "",
        primary=diag.message_primary or _first_line(error),
    )


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0][:300] if text else type(error).__name__


def cause_of(refusal: Refusal, causes: dict[str, str]) -> str:
    return causes.get(refusal.constraint) or STATE_CAUSES.get(refusal.state) or GENERIC_CAUSE


def log_refusal(refusal: Refusal, *, kind: str, row: int | None) -> None:
    logger.warning(
        "import %s: the database refused the write at row %s (SQLSTATE %s, constraint %s, "
        "table %s): %s",
        kind,
        row,
        refusal.state or "?",
        refusal.constraint or "-",
        refusal.table or "-",
        refusal.primary,
    )


def refusal_message(cause: str, row: int | None) -> str:
    where = f"第 {row} 行:" if row else ""
    return f"{where}{cause}。{RETRY_HINT}"


_KEY = re.compile(r"^Key \((?P<columns>.+?)\)=\((?P<values>.*)\) (?:already exists|conflicts)")
_COPY_LINE = re.compile(r"^COPY \S+, line (\d+)(?:, column (\w+))?")


def conflict_key(refusal: Refusal) -> dict[str, str]:
    """{column: value} of the key a unique violation names ("Key (county_id, id_number)=(3,
    1305…) already exists."); empty when the detail says otherwise."""
    match = _KEY.match(refusal.detail)
    if match is None:
        return {}
    columns = [c.strip() for c in match.group("columns").split(",")]
    values = [v.strip() for v in match.group("values").split(",")]
    if len(columns) != len(values):
        return {}
    return dict(zip(columns, values, strict=True))


def copy_line(refusal: Refusal) -> int | None:
    """The 1-based line of a COPY that failed (a value too long, a bad date …)."""
    match = _copy_context(refusal)
    return int(match.group(1)) if match else None


def copy_column(refusal: Refusal) -> str:
    """The column of a COPY that failed, when PostgreSQL names it."""
    match = _copy_context(refusal)
    return (match.group(2) or "") if match else ""


def _copy_context(refusal: Refusal):
    for line in refusal.context.splitlines():
        match = _COPY_LINE.match(line.strip())
        if match:
            return match
    return None
