"""What the payments services share: the lines' plain rows and places for bulk writes and
their change records, the locks (programme, then batch: every path that makes lines live takes
them in this order), and the condition "already paid for this programme and period"."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from associations.bulk import row_class
from associations.history import ChangeRows, record_change, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require
from associations.scope import activate

from .models import LIVE_LINE, Disbursement, DisbursementBatch, Enrollment, FundEntry, Program
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


class LineRow(row_class(Disbursement)):
    """A line as a plain row (associations.bulk.Row): for inserting and recording thousands."""

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"  # as Disbursement's


@dataclass(frozen=True)
class Place:
    """Where a row sits, for its change record (what ChangeRows needs of a node)."""

    pk: int
    county_id: int
    township_id: int | None
    village_id: int | None
    group_id: int | None

    @classmethod
    def of(cls, values: dict) -> Place:
        node = values["group_id"] or values["village_id"] or values["township_id"]
        return cls(node or values["county_id"], *(values[k] for k in LINE_PLACE))


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


def record_lines(actor, rows: list[dict], before: dict, after: dict) -> None:
    """One change record per line, in bulk; `rows`: the lines' values (id, period, amount
    and where they sit)."""
    if not rows:
        return
    changes = ChangeRows(actor)
    for values in rows:
        line = LineRow(id=values["id"], period=values["period"], amount=values["amount"])
        changes.add(
            node=Place.of(values),
            obj=line,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=after,
        )
    changes.insert()


ROW_VALUES = ("id", "period", "amount", *LINE_PLACE)


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


def record_new_lines(actor, rows: list[LineRow]) -> None:
    """The creation of each new line, recorded in bulk."""
    changes = ChangeRows(actor)
    for line in rows:
        changes.add(
            node=Place.of(line.__dict__),
            obj=line,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(line, ["enrollment", "amount", "status", "reissue_of"]),
        )
    changes.insert()
