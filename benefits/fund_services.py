"""Writes to funds (生育关怀基金, 冠名基金, loan funds) and their ledgers.

Every entry goes through benefits.ledger.post_entry, which locks the fund row and lets the
database keep the balance (trigger) and refuse a negative one (CHECK). These services add
what a user means by an entry: government money per head of the county's resident population,
a named donation, other income, an expense that pays an assistance record, and the reversing
entry that corrects a mistake (an entry is never edited or deleted). Each checks the actor's
permission, validates in Chinese, records the change (associations.history) and, for a form,
claims its one-time token so that a form sent twice posts once.

Loans and repayments post through benefits.loan_services, transfers between two funds
through benefits.fund_transfers."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require
from associations.scope import activate
from households.models import AssistanceRecord
from households.selectors import resident_population

from . import permissions
from .ledger import post_entry
from .models import MONEY, Fund, FundEntry
from .selectors import county_scope

CENT = Decimal("0.01")
# The largest amount (and balance) a money column holds: 12 digits, 2 after the point.
MAX_MONEY = Decimal(10 ** (MONEY["max_digits"] - MONEY["decimal_places"])) - CENT
MAX_RATE = Decimal("10000.00")  # yuan per head: anything above is a typing mistake

FUND_FIELDS = ["name", "kind", "donor"]
ENTRY_FIELDS = [
    "fund",
    "direction",
    "source",
    "amount",
    "entry_date",
    "description",
    "donor",
    "loan",
    "repayment",
    "assistance",
    "reverses",
    "counterpart",
    "balance_after",
]

INCOME_SOURCES = (
    FundEntry.Source.GOVERNMENT,
    FundEntry.Source.DONATION,
    FundEntry.Source.OTHER,
)

NOT_ALLOWED_ENTRIES = "只有县级管理员可以登记基金收支。"
NOT_ALLOWED_FUNDS = "只有县级管理员可以设立和修改基金。"


def today() -> datetime.date:
    return timezone.localdate()


def county_node(county_id: int) -> Association:
    with activate(county_scope(county_id)):
        return Association.objects.get(pk=county_id)


def money(value, *, field: str = "amount", label: str = "金额") -> Decimal:
    """A positive amount of yuan with at most two decimals that a money column holds."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(
            {field: ValidationError(f"{label}应为数字。", code="invalid")}
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(
            {field: ValidationError(f"{label}应大于 0 元。", code="not_positive")}
        )
    if amount != amount.quantize(CENT):
        raise ValidationError(
            {field: ValidationError(f"{label}最多保留两位小数(分)。", code="cents")}
        )
    if amount > MAX_MONEY:
        raise ValidationError(
            {field: ValidationError(f"{label}超出可登记的范围。", code="too_large")}
        )
    return amount.quantize(CENT)


def check_entry_date(day: datetime.date, *, field: str = "entry_date") -> None:
    if day > today():
        raise ValidationError({field: ValidationError("日期晚于今天。", code="future_date")})
    if day.year < 1980:
        raise ValidationError({field: ValidationError("日期有误。", code="too_early")})


def record_entry(*, actor, entry: FundEntry) -> None:
    record_change(
        actor=actor,
        node=county_node(entry.county_id),
        obj=entry,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(entry, ENTRY_FIELDS),
    )


def _locked_fund(fund: Fund) -> Fund:
    with activate(county_scope(fund.county_id)):
        return Fund.objects.select_for_update().get(pk=fund.pk)


def refuse_overflow(fund: Fund, amount: Decimal) -> None:
    locked = _locked_fund(fund)
    if locked.balance + amount > MAX_MONEY:
        raise ValidationError(
            {"amount": ValidationError("登记后基金余额将超出可记录的范围。", code="too_large")}
        )


# --- funds -----------------------------------------------------------------------------------


def _check_fund(fund: Fund) -> None:
    fund.name = (fund.name or "").strip()
    fund.donor = (fund.donor or "").strip()
    if fund.kind == Fund.Kind.NAMED and not fund.donor:
        raise ValidationError(
            {"donor": ValidationError("冠名基金须填写冠名单位。", code="donor_required")}
        )
    with activate(county_scope(fund.county_id)):
        taken = Fund.objects.filter(name=fund.name).exclude(pk=fund.pk).exists()
    if taken:
        raise ValidationError(
            {"name": ValidationError(f"本县已有名为“{fund.name}”的基金。", code="taken")}
        )
    fund.full_clean(exclude=["county", "township", "village", "group"], validate_unique=False)


@transaction.atomic
def fund_create(*, actor, name: str, kind: str, donor: str = "", form_token=None) -> Fund:
    """A fund of the actor's county (it sits at the county node)."""
    require(permissions.can_configure(actor), NOT_ALLOWED_FUNDS)
    county = county_node(actor.county_id)
    with activate(county_scope(county.pk)):
        earlier = submissions.claim(actor=actor, token=form_token, node=county, model=Fund)
        if earlier is not None:
            earlier.replayed = True
            return earlier
        fund = Fund(name=name, kind=kind, donor=donor)
        fund.place_under(county)
        _check_fund(fund)
        fund.save()
        record_change(
            actor=actor,
            node=county,
            obj=fund,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(fund, FUND_FIELDS),
        )
        submissions.complete(token=form_token, obj=fund)
    return fund


@transaction.atomic
def fund_update(*, actor, fund: Fund, name: str, donor: str = "") -> Fund:
    """Rename a fund or change its donor; its kind and its money do not change here."""
    require(permissions.can_configure(actor), NOT_ALLOWED_FUNDS)
    before = snapshot(fund, FUND_FIELDS)
    fund.name, fund.donor = name, donor
    _check_fund(fund)
    with activate(county_scope(fund.county_id)):
        Fund.objects.filter(pk=fund.pk).update(name=fund.name, donor=fund.donor)
        after = snapshot(fund, FUND_FIELDS)
        if after != before:
            record_change(
                actor=actor,
                node=county_node(fund.county_id),
                obj=fund,
                action=ChangeRecord.Action.UPDATE,
                before=before,
                after=after,
            )
    return fund


# --- income ----------------------------------------------------------------------------------


def _claim_entry(*, actor, fund: Fund, form_token):
    earlier = submissions.claim(
        actor=actor, token=form_token, node=county_node(fund.county_id), model=FundEntry
    )
    if earlier is not None:
        earlier.replayed = True
    return earlier


@transaction.atomic
def fund_income_record(
    *,
    actor,
    fund: Fund,
    source: str,
    amount,
    entry_date: datetime.date,
    description: str,
    donor: str = "",
    form_token=None,
) -> FundEntry:
    """Income other than loan repayments: a named donation (捐赠, with the donor's name),
    government money (财政拨款) or other income."""
    require(permissions.can_pay(actor), NOT_ALLOWED_ENTRIES)
    with activate(county_scope(fund.county_id)):
        earlier = _claim_entry(actor=actor, fund=fund, form_token=form_token)
        if earlier is not None:
            return earlier
        if source not in INCOME_SOURCES:
            raise ValidationError(
                {"source": ValidationError("收入类别有误。", code="invalid_source")}
            )
        amount = money(amount)
        check_entry_date(entry_date)
        donor = (donor or "").strip()
        description = (description or "").strip()
        if source == FundEntry.Source.DONATION and not donor:
            raise ValidationError(
                {"donor": ValidationError("请填写捐赠单位或个人。", code="donor_required")}
            )
        if not description:
            if source == FundEntry.Source.DONATION:
                description = f"{donor}捐赠"
            else:
                raise ValidationError(
                    {"description": ValidationError("请填写摘要。", code="required")}
                )
        refuse_overflow(fund, amount)
        entry = post_entry(
            actor=actor,
            fund=fund,
            direction=FundEntry.Direction.INCOME,
            source=source,
            amount=amount,
            entry_date=entry_date,
            description=description[:200],
            donor=donor if source == FundEntry.Source.DONATION else "",
        )
        record_entry(actor=actor, entry=entry)
        submissions.complete(token=form_token, obj=entry)
    return entry


def per_head_amount(population: int, rate: Decimal) -> Decimal:
    return (Decimal(population) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def fund_government_income(
    *,
    actor,
    fund: Fund,
    rate,
    entry_date: datetime.date,
    description: str = "",
    form_token=None,
) -> FundEntry:
    """Government money per head of population (政府按人均投入, e.g. 2 元/人): the amount is
    the county's resident population (常住人口: 户籍常住 and 流入, alive on the date),
    counted from the registry in one query, times the rate."""
    require(permissions.can_pay(actor), NOT_ALLOWED_ENTRIES)
    rate = money(rate, field="rate", label="每人金额")
    if rate > MAX_RATE:
        raise ValidationError(
            {"rate": ValidationError(f"每人金额不应超过 {MAX_RATE} 元。", code="too_large")}
        )
    check_entry_date(entry_date)
    county = county_node(fund.county_id)
    with activate(county_scope(fund.county_id)):
        population = resident_population(node=county, on=entry_date)
    if population == 0:
        raise ValidationError(
            {
                "entry_date": ValidationError(
                    "该日本县登记系统中没有常住人口,无法按人口计算。", code="no_population"
                )
            }
        )
    amount = per_head_amount(population, rate)
    basis = f"按{entry_date:%Y-%m-%d}常住人口 {population} 人 × 每人 {rate} 元"
    note = (description or "").strip()
    return fund_income_record(
        actor=actor,
        fund=fund,
        source=FundEntry.Source.GOVERNMENT,
        amount=amount,
        entry_date=entry_date,
        description=f"财政按人口拨入:{basis}" + (f";{note}" if note else ""),
        form_token=form_token,
    )


# --- expenses --------------------------------------------------------------------------------


def live_expense_of(record: AssistanceRecord) -> FundEntry | None:
    """The expense that paid the assistance record and was not reversed, if any."""
    with activate(county_scope(record.county_id)):
        return (
            FundEntry.objects.filter(
                assistance=record, direction=FundEntry.Direction.EXPENSE, reversed_by__isnull=True
            )
            .select_related("fund")
            .first()
        )


@transaction.atomic
def fund_assistance_expense(
    *,
    actor,
    fund: Fund,
    assistance: AssistanceRecord,
    entry_date: datetime.date,
    description: str = "",
    form_token=None,
) -> FundEntry:
    """Pay an assistance record (帮扶档案) with an amount from the fund: the expense names the
    record, is its amount, and pays it once (a reversed expense frees it again)."""
    require(permissions.can_pay(actor), NOT_ALLOWED_ENTRIES)
    with activate(county_scope(fund.county_id)):
        earlier = _claim_entry(actor=actor, fund=fund, form_token=form_token)
        if earlier is not None:
            return earlier
        if fund.kind == Fund.Kind.LOAN:
            raise ValidationError("贷款周转金只用于发放贷款,不能支付帮扶救助。", code="loan_fund")
        # Locked so that two funds cannot pay the same record at the same moment.
        record = AssistanceRecord.objects.select_for_update().get(pk=assistance.pk)
        if record.amount is None or record.amount <= 0:
            raise ValidationError(
                {
                    "assistance": ValidationError(
                        "该帮扶记录没有金额,不能从基金支出。", code="no_amount"
                    )
                }
            )
        paid = live_expense_of(record)
        if paid is not None:
            raise ValidationError(
                {
                    "assistance": ValidationError(
                        f"该帮扶记录已于 {paid.entry_date:%Y-%m-%d} 从“{paid.fund.name}”支出,"
                        "不能重复支出。",
                        code="paid",
                    )
                }
            )
        check_entry_date(entry_date)
        description = (description or "").strip() or (
            f"帮扶救助:{record.get_kind_display()} {record.given_on:%Y-%m-%d}"
        )
        entry = post_entry(
            actor=actor,
            fund=fund,
            direction=FundEntry.Direction.EXPENSE,
            source=FundEntry.Source.ASSISTANCE,
            amount=record.amount,
            entry_date=entry_date,
            description=description[:200],
            assistance=record,
        )
        record_entry(actor=actor, entry=entry)
        submissions.complete(token=form_token, obj=entry)
    return entry


# --- reversal --------------------------------------------------------------------------------


@transaction.atomic
def fund_entry_reverse(
    *, actor, entry: FundEntry, reason: str, entry_date: datetime.date | None = None
) -> FundEntry:
    """Correct a mistaken entry with its reversing entry: the opposite direction, the same
    amount, naming the entry it reverses (once: a one-to-one key). Reversing an income takes
    the money out again, so it is refused when the fund no longer holds it. A repayment's
    reversal puts the amount back on the loan (a repaid loan is active again). Either entry
    of a transfer between funds reverses the whole transfer (benefits.fund_transfers). A
    loan's issue is not reversed here but by voiding the loan (benefits.loan_services
    .loan_void), which takes the loan out of every figure with it."""
    require(permissions.can_pay(actor), NOT_ALLOWED_ENTRIES)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("请填写冲正原因。", code="required")})
    entry_date = entry_date or today()
    check_entry_date(entry_date)
    with activate(county_scope(entry.county_id)):
        if FundEntry.objects.filter(
            pk=entry.pk, source=FundEntry.Source.TRANSFER
        ).exists():  # its own locks, both entries in id order
            from .fund_transfers import fund_transfer_reverse

            return fund_transfer_reverse(
                actor=actor, entry=entry, reason=reason, entry_date=entry_date
            )
        # The original row locked: two reversals of it queue here, and the second sees the
        # first's reversing entry.
        original = FundEntry.objects.select_for_update().select_related("fund").get(pk=entry.pk)
        if original.reverses_id is not None or original.source == FundEntry.Source.REVERSAL:
            raise ValidationError("冲正记录不能再冲正。", code="reversal_of_reversal")
        if FundEntry.objects.filter(reverses=original).exists():
            raise ValidationError("这笔收支已经冲正过,不能重复冲正。", code="reversed")
        if original.source == FundEntry.Source.LOAN:
            raise ValidationError(
                f"贷款放款不在这里冲正:请打开贷款(编号 {original.loan_id})页面,"
                "用“冲正贷款”更正,贷款随之不再计入各项统计。",
                code="loan_issue",
            )
        if entry_date < original.entry_date:
            raise ValidationError(
                {"entry_date": ValidationError("冲正日期不能早于原记录日期。", code="too_early")}
            )
        opposite = (
            FundEntry.Direction.EXPENSE
            if original.direction == FundEntry.Direction.INCOME
            else FundEntry.Direction.INCOME
        )
        if opposite == FundEntry.Direction.INCOME:
            refuse_overflow(original.fund, original.amount)
        reversal = post_entry(
            actor=actor,
            fund=original.fund,
            direction=opposite,
            source=FundEntry.Source.REVERSAL,
            amount=original.amount,
            entry_date=entry_date,
            description=f"冲正:{original.description}({reason})"[:200],
            reverses=original,
        )
        record_entry(actor=actor, entry=reversal)
        if original.repayment_id is not None:
            from .loan_services import loan_status_refresh

            loan = original.repayment.loan
            loan_status_refresh(actor=actor, loan=loan)
    return reversal
