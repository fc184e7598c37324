"""What the payments services share: the lines' bulk writes and their change records, the
locks (programme, then batch: every path that makes lines live takes them in this order), and
the condition "already paid for this programme and period"."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from associations.bulk import insert_select
from associations.history import record_change, record_changes_of_rows, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require
from associations.scope import activate

from .models import (
    LIVE_LINE,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    FundEntry,
    LineStatus,
    Program,
)
from .permissions import can_pay
from .selectors import county_scope

ALREADY_PAID = "本期已在其他批次发放"
DOUBLE_PAYMENT = (
    "有发放对象本期已在其他批次发放(数据库拒绝重复发放),本次确认没有保存。请刷新后重新确认。"
)
NOT_ALLOWED = "只有县级管理员可以办理发放。"
BATCH_FIELDS = ["status", "confirmed_at", "paid_on", "method", "reference", "note"]
LINE_PLACE = ("county_id", "township_id", "village_id", "group_id")
REFERENCE_PREFIX = "DF"


def today() -> datetime.date:
    return timezone.localdate()


def error(message: str, code: str, field: str | None = None) -> ValidationError:
    detail = ValidationError(message, code=code)
    return ValidationError({field: detail}) if field else detail


# What str() gives a line (Disbursement.__str__), for its change records written in SQL.
LINE_LABEL = Concat("period", Value(" "), Cast("amount", CharField()), output_field=CharField())
NEW_LINE_FIELDS = ["enrollment", "amount", "status", "reissue_of"]


def batch_node(batch: DisbursementBatch) -> Association:
    """The node a batch covers (its deepest ancestor key)."""
    node_id = batch.group_id or batch.village_id or batch.township_id or batch.county_id
    with activate(county_scope(batch.county_id)):
        return Association.objects.get(pk=node_id)


def require_pay(actor) -> None:
    require(can_pay(actor), NOT_ALLOWED)


def lock_program(program_id: int, county_id: int) -> Program:
    """The programme row, locked: every confirmation of the programme queues here."""
    with activate(county_scope(county_id)):
        return Program.objects.select_for_update().get(pk=program_id)


def lock_batch(batch: DisbursementBatch) -> DisbursementBatch:
    return (
        DisbursementBatch.objects.select_for_update(of=("self",))
        .select_related("program")
        .get(pk=batch.pk)
    )


def record_batch(actor, batch, action: str, before: dict | None) -> None:
    record_change(
        actor=actor,
        node=batch_node(batch),
        obj=batch,
        action=action,
        before=before,
        after=snapshot(batch, ["program", "period", *BATCH_FIELDS]),
    )


def record_lines(actor, lines, before: dict, after: dict) -> int:
    """One change record per line of `lines` (a queryset, read before the update it records),
    written by the database."""
    return record_changes_of_rows(
        actor,
        lines,
        action=ChangeRecord.Action.UPDATE,
        label=LINE_LABEL,
        before=before,
        after=after,
    )


def live_lines(program: Program, period: str):
    return Disbursement.objects.filter(program=program, period=period, status__in=LIVE_LINE)


def already_paid(program: Program, period: str, *, person="person_id", household="household_id"):
    """The condition "this beneficiary (person, or household for a household enrolment) has a
    live line for the programme and period", for a query of rows with those two columns."""
    live = live_lines(program, period)
    by_person = Exists(live.filter(person_id=OuterRef(person)))
    by_household = Exists(live.filter(person__isnull=True, household_id=OuterRef(household)))
    return by_person | (Q(**{f"{person}__isnull": True}) & by_household)


def active_account_of_enrollment():
    return Subquery(
        Enrollment.objects.filter(
            pk=OuterRef("enrollment_id"), bank_account__is_active=True
        ).values("bank_account_id")[:1]
    )


def batch_expense(batch: DisbursementBatch) -> FundEntry | None:
    """The fund expense posted for a paid batch, if its programme has a fund."""
    with activate(county_scope(batch.county_id)):
        return FundEntry.objects.filter(batch=batch, direction=FundEntry.Direction.EXPENSE).first()


def record_new_lines(actor, lines) -> int:
    """The creation of each line of `lines` (a queryset), recorded by the database."""
    return record_changes_of_rows(
        actor,
        lines,
        action=ChangeRecord.Action.CREATE,
        label=LINE_LABEL,
        before=None,
        after=NEW_LINE_FIELDS,
    )


def insert_lines(batch: DisbursementBatch, source, **columns) -> int:
    """New draft lines of `batch`, one per row of `source` (a scoped queryset of enrolments or
    of failed lines), computed and written by the database; `columns`: the line's columns
    that differ by source (enrollment_id, person_id, household_id, bank_account_id, amount,
    reissue_of_id) as expressions over `source`. Returns how many were written."""
    return insert_select(
        Disbursement,
        source,
        {
            **{column: column for column in LINE_PLACE},
            "batch_id": Value(batch.pk),
            "program_id": Value(batch.program_id),
            "period": Value(batch.period),
            "status": Value(LineStatus.DRAFT),
            "reference": Value(""),
            "failure_reason": Value(""),
            **columns,
        },
    )
