"""Disbursement batches (发放批次): draft → confirmed → paid, one line per enrolled beneficiary,
and never two live lines for one beneficiary, programme and period.

- `batch_create`: a draft batch of a programme and period at a node: one line per enrolment of
  the node's subtree that is on the roll (在册) by the period's end, for its amount, paid to its
  account. Beneficiaries already paid for the period (a live line elsewhere) are left out; one
  whose last line of the period failed gets a line that re-issues it (`reissue_of`).
- `batch_confirm`: locks the programme row first, so that two clerks confirming overlapping
  batches at the same moment queue on it; the second then sees the first's lines, and its
  lines whose beneficiary already has a live line are cancelled ("本期已在其他批次发放"). The
  partial unique indexes of Disbursement stay the last guard: their IntegrityError becomes a
  Chinese ValidationError and nothing of the confirmation is kept.
- `batch_mark_paid`: every confirmed line paid on the day; with the programme's fund, ONE
  expense for the batch's paid lines through the ledger (a fund short of money refuses the
  payment, and the batch stays confirmed).
- `line_fail`: a confirmed or paid line that the bank did not pay; a paid one returns its
  money to the fund. `batch_reissue`: a new draft batch of a batch's failed lines.
- `batch_cancel`: a draft batch thrown away.

Lines are written and changed set-wise (a county batch has tens of thousands), and each change
is recorded, in bulk (associations.history.ChangeRows)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from associations import submissions
from associations.bulk import insert_many, row_class
from associations.history import ChangeRows, record_change, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.permissions import in_user_subtree, require
from associations.scope import activate

from .ledger import post_entry
from .models import (
    LIVE_LINE,
    BatchStatus,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    EnrollmentStatus,
    FundEntry,
    LineStatus,
    Program,
    ProgramKind,
)
from .payments_rules import PaymentMethod, Period, parse_period
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


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error


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


def batch_period(batch: DisbursementBatch) -> Period:
    return parse_period(batch.program.frequency, batch.period)


def _require_pay(actor) -> None:
    require(can_pay(actor), NOT_ALLOWED)


def _lock_program(program_id: int, county_id: int) -> Program:
    """The programme row, locked: every confirmation of the programme queues here."""
    with activate(county_scope(county_id)):
        return Program.objects.select_for_update().get(pk=program_id)


def _lock_batch(batch: DisbursementBatch) -> DisbursementBatch:
    return (
        DisbursementBatch.objects.select_for_update(of=("self",))
        .select_related("program")
        .get(pk=batch.pk)
    )


def _record_batch(actor, batch, action: str, before: dict | None) -> None:
    record_change(
        actor=actor,
        node=batch_node(batch),
        obj=batch,
        action=action,
        before=before,
        after=snapshot(batch, ["program", "period", *BATCH_FIELDS]),
    )


def _record_lines(actor, rows: list[dict], before: dict, after: dict) -> None:
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


# --- create -------------------------------------------------------------------------------------


def _live_lines(program: Program, period: str):
    return Disbursement.objects.filter(program=program, period=period, status__in=LIVE_LINE)


def _already_paid(program: Program, period: str, *, person="person_id", household="household_id"):
    """The condition "this beneficiary (person, or household for a household enrolment) has a
    live line for the programme and period", for a query of rows with those two columns."""
    live = _live_lines(program, period)
    by_person = Exists(live.filter(person_id=OuterRef(person)))
    by_household = Exists(live.filter(person__isnull=True, household_id=OuterRef(household)))
    return by_person | (Q(**{f"{person}__isnull": True}) & by_household)


def _new_lines(batch: DisbursementBatch, node: Association, period: Period) -> list[LineRow]:
    program, key = batch.program, batch.period
    failed = Disbursement.objects.filter(program=program, period=key, status=LineStatus.FAILED)
    enrollments = (
        Enrollment.objects.filter(program=program, status=EnrollmentStatus.ENROLLED, amount__gt=0)
        .filter(**{f"{node.level}_id": node.pk})
        .filter(Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=period.end))
        .exclude(_already_paid(program, key))
        .annotate(
            failed_person=Subquery(
                failed.filter(person_id=OuterRef("person_id")).order_by("-id").values("id")[:1]
            ),
            failed_household=Subquery(
                failed.filter(person__isnull=True, household_id=OuterRef("household_id"))
                .order_by("-id")
                .values("id")[:1]
            ),
        )
        .order_by("village_id", "id")
        .values(
            "id",
            "person_id",
            "household_id",
            "amount",
            "bank_account_id",
            "bank_account__is_active",
            "failed_person",
            "failed_household",
            *LINE_PLACE,
        )
    )
    lines = []
    for row in enrollments:
        line = LineRow(
            batch_id=batch.pk,
            program_id=program.pk,
            period=key,
            enrollment_id=row["id"],
            person_id=row["person_id"],
            household_id=row["household_id"],
            bank_account_id=row["bank_account_id"] if row["bank_account__is_active"] else None,
            amount=row["amount"],
            status=LineStatus.DRAFT,
            reissue_of_id=row["failed_person"] if row["person_id"] else row["failed_household"],
        )
        line.__dict__.update({k: row[k] for k in LINE_PLACE})
        lines.append(line)
    return lines


def _check_program(program: Program) -> None:
    if not program.is_active:
        raise _error("该项目已停用,不能新建发放批次。", "program_inactive", "program")
    if program.kind == ProgramKind.LOAN:
        raise _error(
            "贷款项目按笔放款、按期还款,不通过发放批次发放。", "program_is_loan", "program"
        )


@transaction.atomic
def batch_create(
    *, actor, program: Program, period: str, node: Association, note: str = "", form_token=None
) -> DisbursementBatch:
    """A draft batch of `program` for `period` covering `node`'s subtree."""
    _require_pay(actor)
    require(in_user_subtree(actor, node), NOT_ALLOWED)
    if node.level == Level.GROUP:
        raise _error("发放批次按县、乡镇或村(社区)编制。", "node_level", "node")
    _check_program(program)
    parsed = parse_period(program.frequency, period)
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=DisbursementBatch)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    batch = DisbursementBatch(
        program=program, period=parsed.key, created_by=actor, note=(note or "").strip()[:200]
    )
    batch.place_under(node)
    batch.full_clean()
    batch.save()
    lines = _new_lines(batch, node, parsed)
    if not lines:
        raise ValidationError(
            f"{node.name}没有需要发放的{program.name}在册对象:{parsed.label}在册的对象"
            "都已在其他批次发放,或还没有在册对象。",
            code="nothing_to_pay",
        )
    insert_many(lines)
    _record_batch(actor, batch, ChangeRecord.Action.CREATE, None)
    changes = ChangeRows(actor)
    for line in lines:
        changes.add(
            node=Place.of(line.__dict__),
            obj=line,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(line, ["enrollment", "amount", "status", "reissue_of"]),
        )
    changes.insert()
    submissions.complete(token=form_token, obj=batch)
    batch.line_count = len(lines)
    return batch


# --- confirm ------------------------------------------------------------------------------------


def _double_payment(error: IntegrityError) -> bool:
    text = str(error)
    return any(
        name in text
        for name in (
            "disbursement_once_per_person_period",
            "disbursement_once_per_household_period",
        )
    )


def _active_account_of_enrollment():
    return Subquery(
        Enrollment.objects.filter(
            pk=OuterRef("enrollment_id"), bank_account__is_active=True
        ).values("bank_account_id")[:1]
    )


@transaction.atomic
def batch_confirm(*, actor, batch: DisbursementBatch, form_token=None) -> DisbursementBatch:
    """Confirm a draft batch: its lines whose beneficiary was paid for the period in another
    batch meanwhile are cancelled with the reason, the rest confirmed (each given its
    reference for the bank, and the enrolment's current account). A batch left with nothing
    to pay is cancelled. `batch.confirmed_count` and `batch.cancelled_count` say what
    happened."""
    _require_pay(actor)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    # The programme first, then the batch: every path that makes lines live takes them in
    # this order, so confirmations of one programme run one at a time.
    _lock_program(batch.program_id, batch.county_id)
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise _error(f"该批次{batch.get_status_display()},不能再确认。", "batch_not_draft")
    before = snapshot(batch, ["program", "period", *BATCH_FIELDS])
    drafts = Disbursement.objects.filter(batch=batch, status=LineStatus.DRAFT)
    drafts.update(bank_account=_active_account_of_enrollment())
    taken = drafts.filter(_already_paid(batch.program, batch.period))
    cancelled = list(taken.values(*ROW_VALUES))
    if cancelled:
        taken.update(status=LineStatus.CANCELLED, failure_reason=ALREADY_PAID)
    confirmed = list(drafts.values(*ROW_VALUES))
    try:
        with transaction.atomic():
            drafts.update(
                status=LineStatus.CONFIRMED,
                reference=Concat(
                    Value(REFERENCE_PREFIX),
                    LPad(Cast("id", CharField()), 10, Value("0")),
                    output_field=CharField(),
                ),
            )
    except IntegrityError as error:
        if not _double_payment(error):
            raise
        raise _error(DOUBLE_PAYMENT, "already_paid") from error
    now = timezone.now()
    batch.confirmed_by, batch.confirmed_at = actor, now
    if confirmed:
        batch.status = BatchStatus.CONFIRMED
    else:
        batch.status = BatchStatus.CANCELLED
        batch.note = f"{batch.note} 本批次对象{ALREADY_PAID},批次作废。".strip()[:200]
    batch.save(update_fields=["status", "confirmed_by", "confirmed_at", "note"])
    _record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    draft = {"status": LineStatus.DRAFT}
    _record_lines(
        actor, cancelled, draft, {"status": LineStatus.CANCELLED, "failure_reason": ALREADY_PAID}
    )
    _record_lines(actor, confirmed, draft, {"status": LineStatus.CONFIRMED})
    submissions.complete(token=form_token, obj=batch)
    batch.confirmed_count, batch.cancelled_count = len(confirmed), len(cancelled)
    return batch


# --- pay, fail, cancel, re-issue ------------------------------------------------------------------


def _check_paid_on(paid_on: datetime.date | None) -> datetime.date:
    if paid_on is None:
        raise _error("请填写发放日期。", "required", "paid_on")
    if paid_on > today():
        raise _error("发放日期晚于今天。", "future_date", "paid_on")
    return paid_on


def batch_expense(batch: DisbursementBatch) -> FundEntry | None:
    """The fund expense posted for a paid batch, if its programme has a fund."""
    with activate(county_scope(batch.county_id)):
        return FundEntry.objects.filter(batch=batch, direction=FundEntry.Direction.EXPENSE).first()


@transaction.atomic
def batch_mark_paid(
    *,
    actor,
    batch: DisbursementBatch,
    paid_on: datetime.date,
    method: str,
    reference: str = "",
    form_token=None,
) -> DisbursementBatch:
    """The batch went out on `paid_on` by `method` (PaymentMethod), under the bank's or the
    voucher's `reference`: its confirmed lines are paid that day (lines the bank's return
    already marked keep theirs). With a fund, one expense of the batch's paid total is
    posted; a fund short of money refuses and nothing is kept."""
    _require_pay(actor)
    paid_on = _check_paid_on(paid_on)
    if method not in PaymentMethod.values:
        raise _error("请选择发放方式。", "invalid_choice", "method")
    reference = (reference or "").strip()
    if len(reference) > 60:
        raise _error("凭证号最多 60 个字符。", "too_long", "reference")
    earlier = submissions.claim(
        actor=actor, token=form_token, node=batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.CONFIRMED:
        raise _error(
            f"该批次{batch.get_status_display()},只有已确认的批次才能登记发放。",
            "batch_not_confirmed",
        )
    before = snapshot(batch, ["program", "period", *BATCH_FIELDS])
    pending = Disbursement.objects.filter(batch=batch, status=LineStatus.CONFIRMED)
    paid_now = list(pending.values(*ROW_VALUES))
    pending.update(status=LineStatus.PAID, paid_on=paid_on)
    total = Disbursement.objects.filter(batch=batch, status=LineStatus.PAID).aggregate(
        amount=Sum("amount"), count=Count("id")
    )
    program = batch.program
    if program.fund_id and total["amount"]:
        with activate(county_scope(batch.county_id)):
            fund = program.fund
        post_entry(
            actor=actor,
            fund=fund,
            direction=FundEntry.Direction.EXPENSE,
            source=FundEntry.Source.DISBURSEMENT,
            amount=total["amount"],
            entry_date=paid_on,
            description=f"{program.name} {batch.period} 发放 {total['count']} 人"[:200],
            batch=batch,
        )
    batch.status, batch.paid_on, batch.method, batch.reference = (
        BatchStatus.PAID,
        paid_on,
        method,
        reference,
    )
    batch.save(update_fields=["status", "paid_on", "method", "reference"])
    _record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    _record_lines(
        actor,
        paid_now,
        {"status": LineStatus.CONFIRMED},
        {"status": LineStatus.PAID, "paid_on": paid_on.isoformat()},
    )
    submissions.complete(token=form_token, obj=batch)
    batch.paid_total = total["amount"] or 0
    return batch


def refund_to_fund(*, actor, batch: DisbursementBatch, line: Disbursement, reason: str) -> None:
    """A line of a paid batch that the bank did not pay: its money is back in the fund the
    batch's expense came from (an income entry naming the line; the expense itself is never
    edited)."""
    expense = batch_expense(batch)
    if expense is None:
        return
    with activate(county_scope(batch.county_id)):
        fund = expense.fund
    post_entry(
        actor=actor,
        fund=fund,
        direction=FundEntry.Direction.INCOME,
        source=FundEntry.Source.REVERSAL,
        amount=line.amount,
        entry_date=today(),
        description=f"代发失败退回:{batch.program.name} {batch.period} {line.reference} {reason}"[
            :200
        ],
        disbursement=line,
    )


def _clean_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise _error("请填写失败原因。", "required", "reason")
    if len(reason) > 200:
        raise _error("失败原因最多 200 个字。", "too_long", "reason")
    return reason


@transaction.atomic
def line_fail(*, actor, line: Disbursement, reason: str) -> Disbursement:
    """The bank did not pay `line` (wrong account, account closed, …). A failed line no longer
    counts as paying its beneficiary, so it can be re-issued; a line the batch had paid returns
    its money to the fund."""
    _require_pay(actor)
    reason = _clean_reason(reason)
    batch = _lock_batch(line.batch)
    line = Disbursement.objects.select_for_update().get(pk=line.pk)
    if line.status not in LIVE_LINE:
        raise _error(
            f"该明细{line.get_status_display()},只有已确认或已发放的明细才能标记为发放失败。",
            "line_not_live",
        )
    was = line.status
    line.status, line.failure_reason = LineStatus.FAILED, reason
    line.save(update_fields=["status", "failure_reason"])
    if was == LineStatus.PAID and batch.status == BatchStatus.PAID:
        refund_to_fund(actor=actor, batch=batch, line=line, reason=reason)
    record_change(
        actor=actor,
        node=line.placed_at(),
        obj=line,
        action=ChangeRecord.Action.UPDATE,
        before={"status": was},
        after={"status": LineStatus.FAILED, "failure_reason": reason},
    )
    return line


@transaction.atomic
def batch_cancel(*, actor, batch: DisbursementBatch, form_token=None) -> DisbursementBatch:
    """Throw a draft batch away (its lines are cancelled, kept on record)."""
    _require_pay(actor)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise _error(
            f"该批次{batch.get_status_display()},只有草稿批次可以作废;"
            "已确认批次中未发出的明细请逐条标记为发放失败。",
            "batch_not_draft",
        )
    before = snapshot(batch, ["program", "period", *BATCH_FIELDS])
    drafts = Disbursement.objects.filter(batch=batch, status=LineStatus.DRAFT)
    rows = list(drafts.values(*ROW_VALUES))
    drafts.update(status=LineStatus.CANCELLED, failure_reason="批次作废")
    batch.status = BatchStatus.CANCELLED
    batch.save(update_fields=["status"])
    _record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    _record_lines(
        actor,
        rows,
        {"status": LineStatus.DRAFT},
        {"status": LineStatus.CANCELLED, "failure_reason": "批次作废"},
    )
    submissions.complete(token=form_token, obj=batch)
    return batch


@transaction.atomic
def batch_reissue(*, actor, batch: DisbursementBatch, form_token=None) -> DisbursementBatch:
    """A new draft batch (same programme, period and node) re-issuing each failed line of
    `batch` whose beneficiary is still on the roll, has not been paid for the period since, and
    has no other re-issue under way. Each new line names the line it re-issues and is paid to
    the enrolment's current account (corrected, usually, since the failure)."""
    _require_pay(actor)
    node = batch_node(batch)
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=DisbursementBatch)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    program = batch.program
    reissued = Disbursement.objects.filter(
        reissue_of=OuterRef("pk"), status__in=(LineStatus.DRAFT, *LIVE_LINE)
    )
    failed = list(
        Disbursement.objects.filter(
            batch=batch,
            status=LineStatus.FAILED,
            enrollment__status=EnrollmentStatus.ENROLLED,
        )
        .exclude(_already_paid(program, batch.period))
        .exclude(Exists(reissued))
        .annotate(account=_active_account_of_enrollment())
        .order_by("village_id", "id")
        .values(
            "id", "enrollment_id", "person_id", "household_id", "amount", "account", *LINE_PLACE
        )
    )
    if not failed:
        raise _error(
            "该批次没有可以重发的失败明细(已重发、已在其他批次发放或已退出的不再重发)。",
            "nothing_to_reissue",
        )
    new = DisbursementBatch(
        program=program,
        period=batch.period,
        created_by=actor,
        note=f"重发第 {batch.pk} 号批次的失败明细",
    )
    new.place_under(node)
    new.full_clean()
    new.save()
    lines = []
    for row in failed:
        line = LineRow(
            batch_id=new.pk,
            program_id=program.pk,
            period=batch.period,
            enrollment_id=row["enrollment_id"],
            person_id=row["person_id"],
            household_id=row["household_id"],
            bank_account_id=row["account"],
            amount=row["amount"],
            status=LineStatus.DRAFT,
            reissue_of_id=row["id"],
        )
        line.__dict__.update({k: row[k] for k in LINE_PLACE})
        lines.append(line)
    insert_many(lines)
    _record_batch(actor, new, ChangeRecord.Action.CREATE, None)
    changes = ChangeRows(actor)
    for line in lines:
        changes.add(
            node=Place.of(line.__dict__),
            obj=line,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(line, ["enrollment", "amount", "status", "reissue_of"]),
        )
    changes.insert()
    submissions.complete(token=form_token, obj=new)
    new.line_count = len(lines)
    return new
