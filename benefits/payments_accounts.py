"""Payees' bank accounts (收款账户): adding and deactivating a person's accounts, and choosing the
account an enrolment is paid to.

Who: the village secretary who knows the family, township staff, the county's administrators
(benefits.permissions.can_keep_accounts), each in their own subtree. The number is encrypted at
rest (BankAccount.account_number) and what the change record keeps of it is its mask."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from associations import submissions
from associations.history import build_change, record_change, record_changes, snapshot
from associations.models import ChangeRecord
from associations.permissions import require

from .models import LIVE_ENROLLMENT, BankAccount, Enrollment
from .payments_rules import clean_account_number
from .permissions import can_keep_accounts

ACCOUNT_FIELDS = ["person", "bank_name", "account_number", "is_active"]
BANK_NAME_MAX = 100

ACCOUNT_TAKEN = "此人已登记过这个账号。"
NOT_ALLOWED = "您没有管理此人收款账户的权限。"


def _bank_name(raw) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError({"bank_name": ValidationError("请填写开户银行。", code="required")})
    if len(name) > BANK_NAME_MAX:
        raise ValidationError(
            {"bank_name": ValidationError(f"开户银行最多 {BANK_NAME_MAX} 个字。", code="too_long")}
        )
    return name


def _taken() -> ValidationError:
    return ValidationError({"account_number": ValidationError(ACCOUNT_TAKEN, code="account_taken")})


@transaction.atomic
def bank_account_add(
    *, actor, person, bank_name: str, account_number: str, form_token=None
) -> BankAccount:
    """A new account for `person` (the account holder, 户名). The same number added again
    to a person whose account with it was deactivated makes that account active again."""
    node = person.placed_at()
    require(can_keep_accounts(actor, node), NOT_ALLOWED)
    number = clean_account_number(account_number)
    bank = _bank_name(bank_name)
    if person.is_deceased:
        raise ValidationError("此人已去世,不能登记收款账户。", code="person_deceased")
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=BankAccount)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    existing = BankAccount.objects.filter(person=person, account_number=number).first()
    if existing is not None:
        if existing.is_active:
            raise _taken()
        before = snapshot(existing, ACCOUNT_FIELDS)
        existing.is_active, existing.bank_name = True, bank
        existing.save(update_fields=["is_active", "bank_name"])
        _record(actor, existing, ChangeRecord.Action.UPDATE, before)
        submissions.complete(token=form_token, obj=existing)
        return existing
    account = BankAccount(person=person, bank_name=bank, account_number=number)
    account.place_under(node)
    # The place and the person are the person's own, read through the scope: the database's
    # foreign keys stand behind them without a query each.
    account.full_clean(
        exclude=["county", "township", "village", "group", "person"], validate_constraints=False
    )
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as error:
        if "bank_account_once_per_person" not in str(error):
            raise
        raise _taken() from None  # the same form sent at the same moment elsewhere
    _record(actor, account, ChangeRecord.Action.CREATE, None)
    submissions.complete(token=form_token, obj=account)
    return account


def _record(actor, account: BankAccount, action: str, before: dict | None) -> None:
    record_change(
        actor=actor,
        node=account.placed_at(),
        obj=account,
        action=action,
        before=before,
        after=snapshot(account, ACCOUNT_FIELDS),
    )


@transaction.atomic
def bank_account_deactivate(*, actor, account: BankAccount) -> BankAccount:
    """No more payments to this account: it stays on record (lines paid to it name it), and
    the enrolments paid to it have no account until another is chosen."""
    require(can_keep_accounts(actor, account.placed_at()), NOT_ALLOWED)
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        raise ValidationError("该账户已停用。", code="account_inactive")
    before = snapshot(account, ACCOUNT_FIELDS)
    account.is_active = False
    account.save(update_fields=["is_active"])
    _record(actor, account, ChangeRecord.Action.UPDATE, before)
    enrollments = list(
        Enrollment.objects.select_related("village", "group").filter(bank_account=account)
    )
    if enrollments:
        Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(bank_account=None)
        record_changes(
            [
                build_change(
                    actor=actor,
                    node=e.placed_at(),
                    obj=e,
                    action=ChangeRecord.Action.UPDATE,
                    before={"bank_account": account.pk},
                    after={"bank_account": None},
                )
                for e in enrollments
            ]
        )
    return account


def payee_accounts(enrollment: Enrollment):
    """The accounts an enrolment may be paid to: active accounts of the beneficiary, or of a
    member of the beneficiary's household (an elderly parent's benefit paid to the card the
    family uses is common)."""
    mine = Q(person__household_id=enrollment.household_id)
    if enrollment.person_id:
        mine |= Q(person_id=enrollment.person_id)
    return (
        BankAccount.objects.select_related("person")
        .filter(mine, is_active=True)
        .order_by("person_id", "-id")
    )


@transaction.atomic
def enrollment_set_account(*, actor, enrollment: Enrollment, account: BankAccount | None):
    """The account `enrollment` is paid to (None: no account, paid in cash). Batches take the
    account of each enrolment when they are confirmed."""
    require(can_keep_accounts(actor, enrollment.placed_at()), NOT_ALLOWED)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("program", "person", "village", "group")  # the change record
        .get(pk=enrollment.pk)
    )
    if enrollment.status not in LIVE_ENROLLMENT:
        raise ValidationError(
            "该扶助对象已退出或被退回,不能再设置收款账户。", code="enrollment_not_live"
        )
    if account is not None and not payee_accounts(enrollment).filter(pk=account.pk).exists():
        raise ValidationError(
            {
                "account": ValidationError(
                    "收款账户须为扶助对象本人或其家庭户成员的有效账户。", code="account_not_payee"
                )
            }
        )
    before = snapshot(enrollment, ["bank_account"])
    enrollment.bank_account = account
    enrollment.save(update_fields=["bank_account", "updated_at"])
    record_change(
        actor=actor,
        node=enrollment.placed_at(),
        obj=enrollment,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(enrollment, ["bank_account"]),
    )
    return enrollment
