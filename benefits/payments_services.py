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

Lines are written and changed set-wise (a county batch has tens of thousands), each by one
statement the database computes (INSERT … SELECT, UPDATE), and each line's change is recorded
the same way (associations.history.record_changes_of_rows): no line travels to Python."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.permissions import in_user_subtree, require
from associations.scope import activate

from . import payments_lines as shared
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
from .selectors import county_scope

# What the pages and the API say, kept with the rest of the rules (payments_lines).
ALREADY_PAID = shared.ALREADY_PAID
NOT_ALLOWED = shared.NOT_ALLOWED


def _last_failed_line(program: Program, key: str) -> Case:
    """For an enrolment: its beneficiary's last failed line of the period (the line a new one
    re-issues), by person, or by household for a household enrolment."""
    failed = Disbursement.objects.filter(
        program=program, period=key, status=LineStatus.FAILED
    ).order_by("-id")
    by_person = failed.filter(person_id=OuterRef("person_id"))
    by_household = failed.filter(person__isnull=True, household_id=OuterRef("household_id"))
    return Case(
        When(person__isnull=False, then=Subquery(by_person.values("id")[:1])),
        default=Subquery(by_household.values("id")[:1]),
    )


def _insert_new_lines(batch: DisbursementBatch, node: Association, period: Period) -> int:
    """A line for each enrolment under `node` on the roll in `period` and not yet paid for it,
    at the enrolment's amount and to its active account."""
    program, key = batch.program, batch.period
    enrollments = (
        Enrollment.objects.filter(program=program, status=EnrollmentStatus.ENROLLED, amount__gt=0)
        .filter(**{f"{node.level}_id": node.pk})
        .filter(Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=period.end))
        .exclude(shared.already_paid(program, key))
        .order_by("village_id", "id")
    )
    return shared.insert_lines(
        batch,
        enrollments,
        enrollment_id="id",
        person_id="person_id",
        household_id="household_id",
        bank_account_id=Case(When(bank_account__is_active=True, then=F("bank_account_id"))),
        amount="amount",
        reissue_of_id=_last_failed_line(program, key),
    )


def _check_program(program: Program) -> None:
    if not program.is_active:
        raise shared.error("该项目已停用,不能新建发放批次。", "program_inactive", "program")
    if program.kind == ProgramKind.LOAN:
        raise shared.error(
            "贷款项目按笔放款、按期还款,不通过发放批次发放。", "program_is_loan", "program"
        )


@transaction.atomic
def batch_create(
    *, actor, program: Program, period: str, node: Association, note: str = "", form_token=None
) -> DisbursementBatch:
    """A draft batch of `program` for `period` covering `node`'s subtree."""
    shared.require_pay(actor)
    require(in_user_subtree(actor, node), shared.NOT_ALLOWED)
    require(program.county_id == actor.county_id == node.county_id, shared.NOT_ALLOWED)
    if node.level == Level.GROUP:
        raise shared.error("发放批次按县、乡镇或村(社区)编制。", "node_level", "node")
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
    batch.line_count = _insert_new_lines(batch, node, parsed)
    if not batch.line_count:
        raise ValidationError(
            f"{node.name}没有需要发放的{program.name}在册对象:{parsed.label}在册的对象"
            "都已在其他批次发放,或还没有在册对象。",
            code="nothing_to_pay",
        )
    shared.record_batch(actor, batch, ChangeRecord.Action.CREATE, None)
    shared.record_new_lines(actor, Disbursement.objects.filter(batch=batch))
    submissions.complete(token=form_token, obj=batch)
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


@transaction.atomic
def batch_confirm(*, actor, batch: DisbursementBatch, form_token=None) -> DisbursementBatch:
    """Confirm a draft batch: its lines whose beneficiary was paid for the period in another
    batch meanwhile are cancelled with the reason, the rest confirmed (each given its
    reference for the bank, and the enrolment's current account). A batch left with nothing
    to pay is cancelled. `batch.confirmed_count` and `batch.cancelled_count` say what
    happened."""
    shared.require_pay(actor)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=shared.batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    # The programme first, then the batch: every path that makes lines live takes them in
    # this order, so confirmations of one programme run one at a time.
    shared.lock_program(batch.program_id, batch.county_id)
    batch = shared.lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise shared.error(f"该批次{batch.get_status_display()},不能再确认。", "batch_not_draft")
    before = snapshot(batch, ["program", "period", *shared.BATCH_FIELDS])
    drafts = Disbursement.objects.filter(batch=batch, status=LineStatus.DRAFT)
    taken = drafts.filter(shared.already_paid(batch.program, batch.period))
    draft = {"status": LineStatus.DRAFT}
    # Each line's change is recorded before the update it records: the update takes the lines
    # out of the queryset that names them.
    cancelled = shared.record_lines(
        actor, taken, draft, {"status": LineStatus.CANCELLED, "failure_reason": shared.ALREADY_PAID}
    )
    if cancelled:
        taken.update(status=LineStatus.CANCELLED, failure_reason=shared.ALREADY_PAID)
    confirmed = shared.record_lines(actor, drafts, draft, {"status": LineStatus.CONFIRMED})
    try:
        with transaction.atomic():
            drafts.update(
                status=LineStatus.CONFIRMED,
                bank_account=shared.active_account_of_enrollment(),
                reference=Concat(
                    Value(shared.REFERENCE_PREFIX),
                    LPad(Cast("id", CharField()), 10, Value("0")),
                    output_field=CharField(),
                ),
            )
    except IntegrityError as error:
        if not _double_payment(error):
            raise
        raise shared.error(shared.DOUBLE_PAYMENT, "already_paid") from error
    now = timezone.now()
    batch.confirmed_by, batch.confirmed_at = actor, now
    if confirmed:
        batch.status = BatchStatus.CONFIRMED
    else:
        batch.status = BatchStatus.CANCELLED
        batch.note = f"{batch.note} 本批次对象{shared.ALREADY_PAID},批次作废。".strip()[:200]
    batch.save(update_fields=["status", "confirmed_by", "confirmed_at", "note"])
    shared.record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    submissions.complete(token=form_token, obj=batch)
    batch.confirmed_count, batch.cancelled_count = confirmed, cancelled
    return batch


# --- pay, fail, cancel, re-issue ------------------------------------------------------------------


def _check_paid_on(paid_on: datetime.date | None) -> datetime.date:
    if paid_on is None:
        raise shared.error("请填写发放日期。", "required", "paid_on")
    if paid_on > shared.today():
        raise shared.error("发放日期晚于今天。", "future_date", "paid_on")
    return paid_on


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
    shared.require_pay(actor)
    paid_on = _check_paid_on(paid_on)
    if method not in PaymentMethod.values:
        raise shared.error("请选择发放方式。", "invalid_choice", "method")
    reference = (reference or "").strip()
    if len(reference) > 60:
        raise shared.error("凭证号最多 60 个字符。", "too_long", "reference")
    earlier = submissions.claim(
        actor=actor, token=form_token, node=shared.batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    batch = shared.lock_batch(batch)
    if batch.status != BatchStatus.CONFIRMED:
        raise shared.error(
            f"该批次{batch.get_status_display()},只有已确认的批次才能登记发放。",
            "batch_not_confirmed",
        )
    before = snapshot(batch, ["program", "period", *shared.BATCH_FIELDS])
    pending = Disbursement.objects.filter(batch=batch, status=LineStatus.CONFIRMED)
    shared.record_lines(
        actor,
        pending,
        {"status": LineStatus.CONFIRMED},
        {"status": LineStatus.PAID, "paid_on": paid_on.isoformat()},
    )
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
    shared.record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    submissions.complete(token=form_token, obj=batch)
    batch.paid_total = total["amount"] or 0
    return batch


def refund_to_fund(*, actor, batch: DisbursementBatch, line: Disbursement, reason: str) -> None:
    """A line of a paid batch that the bank did not pay: its money is back in the fund the
    batch's expense came from (an income entry naming the line; the expense itself is never
    edited)."""
    expense = shared.batch_expense(batch)
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
        entry_date=shared.today(),
        description=f"代发失败退回:{batch.program.name} {batch.period} {line.reference} {reason}"[
            :200
        ],
        disbursement=line,
    )


def _clean_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise shared.error("请填写失败原因。", "required", "reason")
    if len(reason) > 200:
        raise shared.error("失败原因最多 200 个字。", "too_long", "reason")
    return reason


@transaction.atomic
def line_fail(*, actor, line: Disbursement, reason: str) -> Disbursement:
    """The bank did not pay `line` (wrong account, account closed, …). A failed line no longer
    counts as paying its beneficiary, so it can be re-issued; a line the batch had paid returns
    its money to the fund."""
    shared.require_pay(actor)
    reason = _clean_reason(reason)
    batch = shared.lock_batch(line.batch)
    line = Disbursement.objects.select_for_update().get(pk=line.pk)
    if line.status not in LIVE_LINE:
        raise shared.error(
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
    shared.require_pay(actor)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=shared.batch_node(batch), model=DisbursementBatch
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    batch = shared.lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise shared.error(
            f"该批次{batch.get_status_display()},只有草稿批次可以作废;"
            "已确认批次中未发出的明细请逐条标记为发放失败。",
            "batch_not_draft",
        )
    before = snapshot(batch, ["program", "period", *shared.BATCH_FIELDS])
    drafts = Disbursement.objects.filter(batch=batch, status=LineStatus.DRAFT)
    shared.record_lines(
        actor,
        drafts,
        {"status": LineStatus.DRAFT},
        {"status": LineStatus.CANCELLED, "failure_reason": "批次作废"},
    )
    drafts.update(status=LineStatus.CANCELLED, failure_reason="批次作废")
    batch.status = BatchStatus.CANCELLED
    batch.save(update_fields=["status"])
    shared.record_batch(actor, batch, ChangeRecord.Action.UPDATE, before)
    submissions.complete(token=form_token, obj=batch)
    return batch


@transaction.atomic
def batch_reissue(*, actor, batch: DisbursementBatch, form_token=None) -> DisbursementBatch:
    """A new draft batch (same programme, period and node) re-issuing each failed line of
    `batch` whose beneficiary is still on the roll, has not been paid for the period since, and
    has no other re-issue under way. Each new line names the line it re-issues and is paid to
    the enrolment's current account (corrected, usually, since the failure)."""
    shared.require_pay(actor)
    node = shared.batch_node(batch)
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=DisbursementBatch)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    program = batch.program
    reissued = Disbursement.objects.filter(
        reissue_of=OuterRef("pk"), status__in=(LineStatus.DRAFT, *LIVE_LINE)
    )
    failed = (
        Disbursement.objects.filter(
            batch=batch,
            status=LineStatus.FAILED,
            enrollment__status=EnrollmentStatus.ENROLLED,
        )
        .exclude(shared.already_paid(program, batch.period))
        .exclude(Exists(reissued))
        .order_by("village_id", "id")
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
    new.line_count = shared.insert_lines(
        new,
        failed,
        enrollment_id="enrollment_id",
        person_id="person_id",
        household_id="household_id",
        bank_account_id=shared.active_account_of_enrollment(),
        amount="amount",
        reissue_of_id="id",
    )
    if not new.line_count:
        raise shared.error(
            "该批次没有可以重发的失败明细(已重发、已在其他批次发放或已退出的不再重发)。",
            "nothing_to_reissue",
        )
    shared.record_batch(actor, new, ChangeRecord.Action.CREATE, None)
    shared.record_new_lines(actor, Disbursement.objects.filter(batch=new))
    submissions.complete(token=form_token, obj=new)
    return new
