"""Disbursement batches: lines from the enrolled, confirmation that never pays anyone twice,
payment from the programme's fund, failed lines re-issued, cancellation, and who may do it.

The figures are worked by hand. County A's programme pays 720.00 a year; enrolled:
- t0v0's head, 720.00, with an account;
- t0v1's head, 720.00, without an account;
- t1v0's head, 720.00, but only from 2027-01-01 (not on the roll in 2026);
- t1v1's spouse, 1,200.00 (another category's standard), with an account;
- t0v0's spouse applied only (not enrolled).
A 2026 batch of the county: 720 + 720 + 1,200 = 2,640.00 for three people."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from associations.history import build_change, snapshot
from associations.models import ChangeRecord
from associations.scope import Scope, activate
from benefits import payments_lines
from benefits import payments_services as services
from benefits.models import Disbursement, FundEntry
from benefits.selectors import county_scope

from . import factories_payments as f

pytestmark = pytest.mark.django_db

PAID_ON = datetime.date(2026, 3, 10)


@pytest.fixture
def setup(world):
    a = world.a
    program = f.program(a)
    heads = f.heads(a)
    spouse = a.persons[7]  # t1v1's spouse
    rows = {
        "v0": f.enroll(a, program, heads[0], account=f.account(a, heads[0], "6228480402564890018")),
        "v1": f.enroll(a, program, heads[1]),
        "late": f.enroll(a, program, heads[2], enrolled_on=datetime.date(2027, 1, 1)),
        "v3": f.enroll(
            a, program, spouse, amount="1200", account=f.account(a, spouse, "6217000010012345678")
        ),
        "applied": f.enroll(a, program, a.persons[1], status="applied"),
    }
    return a, program, rows


def _create(a, program, node=None, period="2026", **kwargs):
    with a.scope():
        return services.batch_create(
            actor=f.county_admin(a), program=program, period=period, node=node or a.county, **kwargs
        )


def _lines(a, batch):
    with a.scope():
        return list(Disbursement.objects.filter(batch=batch).order_by("village_id", "id"))


def _live_per_person(a, program, period="2026"):
    with a.scope():
        rows = Disbursement.objects.filter(
            program=program, period=period, status__in=("confirmed", "paid")
        ).values_list("person_id", flat=True)
        counts = {}
        for person_id in rows:
            counts[person_id] = counts.get(person_id, 0) + 1
        return counts


def test_a_batch_has_one_line_per_enrolled_beneficiary_for_their_amount(setup):
    a, program, rows = setup
    batch = _create(a, program)
    lines = _lines(a, batch)
    assert [(ln.enrollment_id, ln.amount, ln.status) for ln in lines] == [
        (rows["v0"].pk, Decimal("720.00"), "draft"),
        (rows["v1"].pk, Decimal("720.00"), "draft"),
        (rows["v3"].pk, Decimal("1200.00"), "draft"),
    ]
    assert sum(ln.amount for ln in lines) == Decimal("2640.00")
    assert [ln.bank_account_id is not None for ln in lines] == [True, False, True]
    # each line sits where its beneficiary does; the batch at the node it covers
    assert [ln.village_id for ln in lines] == [a.villages[0].pk, a.villages[1].pk, a.villages[3].pk]
    assert (batch.county_id, batch.township_id, batch.village_id) == (a.county.pk, None, None)
    assert batch.status == "draft" and batch.line_count == 3


def test_a_township_batch_covers_only_its_subtree(setup):
    a, program, rows = setup
    batch = _create(a, program, node=a.townships[0])
    assert [ln.enrollment_id for ln in _lines(a, batch)] == [rows["v0"].pk, rows["v1"].pk]
    assert batch.township_id == a.townships[0].pk


def test_the_period_must_fit_the_programme_frequency(setup):
    a, program, _ = setup
    with pytest.raises(ValidationError) as error:
        _create(a, program, period="2026-03")
    assert error.value.message_dict["period"] == ["按年发放的项目,发放期应为年份,如“2026”。"]
    monthly = f.program(a, name="独生子女父母奖励金(测试)", frequency="monthly", amount="10")
    with pytest.raises(ValidationError) as error:
        _create(a, monthly, period="2026")
    assert "如“2026-03”" in error.value.message_dict["period"][0]


def test_an_inactive_programme_or_a_loan_has_no_batches(setup):
    a, program, _ = setup
    loan = f.program(a, name="幸福工程(测试)", kind="loan")
    with pytest.raises(ValidationError, match="贷款项目"):
        _create(a, loan)
    with county_scope_of(a):
        program.is_active = False
        program.save()
    with pytest.raises(ValidationError, match="已停用"):
        _create(a, program)


def county_scope_of(a):
    return activate(county_scope(a.county.pk))


def test_confirming_gives_references_and_cancels_those_already_paid_elsewhere(setup):
    a, program, rows = setup
    county_batch = _create(a, program)
    township_batch = _create(a, program, node=a.townships[0])
    with a.scope():
        first = services.batch_confirm(actor=f.county_admin(a), batch=township_batch)
        second = services.batch_confirm(actor=f.county_admin(a), batch=county_batch)
    assert (first.confirmed_count, first.cancelled_count) == (2, 0)
    assert (second.confirmed_count, second.cancelled_count) == (1, 2)
    lines = _lines(a, county_batch)
    assert [(ln.enrollment_id, ln.status, ln.failure_reason) for ln in lines] == [
        (rows["v0"].pk, "cancelled", "本期已在其他批次发放"),
        (rows["v1"].pk, "cancelled", "本期已在其他批次发放"),
        (rows["v3"].pk, "confirmed", ""),
    ]
    assert lines[2].reference == f"DF{lines[2].pk:010d}"
    assert _live_per_person(a, program) == {
        rows["v0"].person_id: 1,
        rows["v1"].person_id: 1,
        rows["v3"].person_id: 1,
    }
    with a.scope():  # every line's change is recorded, as build_change would record it
        records = ChangeRecord.objects.filter(
            object_type="benefits.Disbursement", object_id__in=[ln.pk for ln in lines]
        )
        assert records.filter(action="create").count() == 3
        assert records.filter(action="update").count() == 3
        made = records.get(action="create", object_id=lines[2].pk)
        confirmed = records.get(action="update", object_id=lines[2].pk)
        cancelled = records.get(action="update", object_id=lines[0].pk)
        expected = build_change(
            actor=f.county_admin(a),
            node=lines[2].placed_at(),
            obj=lines[2],
            action="create",
            before=None,
            after=snapshot(lines[2], ["enrollment", "amount", "status", "reissue_of"]),
        )
    fields = ["object_label", "actor_id", "actor_label", "source", "before", "node_id"]
    fields += ["county_id", "township_id", "village_id", "group_id"]
    assert {k: getattr(made, k) for k in fields} == {k: getattr(expected, k) for k in fields}
    assert made.object_label == "2026 1200.00"
    assert made.after == {
        "enrollment": rows["v3"].pk,
        "amount": "1200.00",
        "status": "draft",
        "reissue_of": None,
    }
    assert (confirmed.before, confirmed.after) == ({"status": "draft"}, {"status": "confirmed"})
    assert cancelled.after == {"status": "cancelled", "failure_reason": "本期已在其他批次发放"}


def test_confirming_a_confirmed_batch_is_refused(setup):
    a, program, _ = setup
    batch = _create(a, program)
    with a.scope():
        services.batch_confirm(actor=f.county_admin(a), batch=batch)
        with pytest.raises(ValidationError, match="已确认,不能再确认"):
            services.batch_confirm(actor=f.county_admin(a), batch=batch)


def test_a_re_sent_batch_pays_nobody_twice(setup):
    """The same batch made twice (sent again by a clerk who thought it lost): the second,
    confirmed after the first was paid, pays nobody and is cancelled; a third made afterwards
    has nobody to pay. The fund pays once."""
    a, program, rows = setup
    fund = f.fund(a, balance="5000")
    with county_scope_of(a):
        program.fund = fund
        program.save()
    first = _create(a, program)
    again = _create(a, program)
    admin = f.county_admin(a)
    with a.scope():
        services.batch_confirm(actor=admin, batch=first)
        services.batch_mark_paid(actor=admin, batch=first, paid_on=PAID_ON, method="bank")
        again = services.batch_confirm(actor=admin, batch=again)
        assert (again.status, again.confirmed_count, again.cancelled_count) == ("cancelled", 0, 3)
        with pytest.raises(ValidationError, match="只有已确认的批次才能登记发放"):
            services.batch_mark_paid(actor=admin, batch=again, paid_on=PAID_ON, method="bank")
    with pytest.raises(ValidationError, match="没有需要发放的") as error:
        _create(a, program)
    assert error.value.code == "nothing_to_pay"
    with a.scope():
        paid = Disbursement.objects.filter(program=program, period="2026", status="paid")
        assert sorted(paid.values_list("person_id", flat=True)) == sorted(
            [rows["v0"].person_id, rows["v1"].person_id, rows["v3"].person_id]
        )
    with county_scope_of(a):
        fund.refresh_from_db()
        assert fund.balance == Decimal("2360.00")  # 5,000 - 2,640, once
        assert FundEntry.objects.filter(fund=fund, direction="expense").count() == 1


def test_the_unique_index_is_the_last_guard_and_its_refusal_reads_in_chinese(setup, monkeypatch):
    """Should the check before the update ever miss a beneficiary paid elsewhere, the
    database refuses the second live line; the confirmation then keeps nothing."""
    a, program, _ = setup
    first, second = _create(a, program), _create(a, program)
    admin = f.county_admin(a)
    with a.scope():
        services.batch_confirm(actor=admin, batch=first)
        monkeypatch.setattr(payments_lines, "already_paid", lambda *args, **kwargs: _never())
        with pytest.raises(ValidationError) as error:
            services.batch_confirm(actor=admin, batch=second)
    assert error.value.code == "already_paid"
    assert "数据库拒绝重复发放" in error.value.messages[0]
    assert {ln.status for ln in _lines(a, second)} == {"draft"}
    with a.scope():
        second.refresh_from_db()
        assert second.status == "draft"
        # and straight at the table: a second live line for the same person and period
        line = Disbursement.objects.filter(batch=second).first()
        refused = pytest.raises(IntegrityError, match="disbursement_once_per_person_period")
        with refused, transaction.atomic():
            Disbursement.objects.filter(pk=line.pk).update(status="paid")


def _never():
    from django.db.models import Q

    return Q(pk__in=[])


def test_paying_a_batch_posts_one_expense_linked_to_it(setup):
    a, program, _ = setup
    fund = f.fund(a, balance="3000")
    with county_scope_of(a):
        program.fund = fund
        program.save()
    batch = _create(a, program)
    admin = f.county_admin(a)
    with a.scope():
        services.batch_confirm(actor=admin, batch=batch)
        paid = services.batch_mark_paid(
            actor=admin, batch=batch, paid_on=PAID_ON, method="bank", reference="NY20260310-01"
        )
    assert (paid.status, paid.paid_on, paid.method, paid.reference) == (
        "paid",
        PAID_ON,
        "bank",
        "NY20260310-01",
    )
    assert {(ln.status, ln.paid_on) for ln in _lines(a, batch)} == {("paid", PAID_ON)}
    with county_scope_of(a):
        [entry] = FundEntry.objects.filter(fund=fund, direction="expense")
        fund.refresh_from_db()
    assert (entry.amount, entry.batch_id, entry.source) == (
        Decimal("2640.00"),
        batch.pk,
        "disbursement",
    )
    assert fund.balance == Decimal("360.00")


def test_a_fund_short_of_money_refuses_the_payment_and_leaves_the_batch_unpaid(setup):
    a, program, _ = setup
    fund = f.fund(a, balance="2000")
    with county_scope_of(a):
        program.fund = fund
        program.save()
    batch = _create(a, program)
    admin = f.county_admin(a)
    with a.scope():
        services.batch_confirm(actor=admin, batch=batch)
        with pytest.raises(ValidationError) as error:
            services.batch_mark_paid(actor=admin, batch=batch, paid_on=PAID_ON, method="bank")
        batch.refresh_from_db()
    assert "余额不足:现有 2000.00 元,本次支出 2640.00 元" in error.value.messages[0]
    assert batch.status == "confirmed" and batch.paid_on is None
    assert {ln.status for ln in _lines(a, batch)} == {"confirmed"}
    with county_scope_of(a):
        fund.refresh_from_db()
        assert fund.balance == Decimal("2000.00")
        assert not FundEntry.objects.filter(fund=fund, direction="expense").exists()


def test_a_payment_date_in_the_future_or_an_unknown_method_is_refused(setup):
    a, program, _ = setup
    batch = _create(a, program)
    admin = f.county_admin(a)
    with a.scope():
        services.batch_confirm(actor=admin, batch=batch)
        with pytest.raises(ValidationError) as error:
            services.batch_mark_paid(
                actor=admin,
                batch=batch,
                paid_on=datetime.date.today() + datetime.timedelta(days=2),
                method="bank",
            )
        assert error.value.message_dict == {"paid_on": ["发放日期晚于今天。"]}
        with pytest.raises(ValidationError) as error:
            services.batch_mark_paid(actor=admin, batch=batch, paid_on=PAID_ON, method="邮寄")
        assert error.value.message_dict == {"method": ["请选择发放方式。"]}


def test_a_failed_line_is_reissued_in_a_new_batch_and_paid_once(setup):
    """t1v1's spouse's 1,200.00 bounced (account closed): the money comes back to the fund,
    the account is corrected, a re-issue batch pays her; she is paid once for 2026."""
    a, program, rows = setup
    fund = f.fund(a, balance="4000")
    with county_scope_of(a):
        program.fund = fund
        program.save()
    admin = f.county_admin(a)
    batch = _create(a, program)
    with a.scope():
        services.batch_confirm(actor=admin, batch=batch)
        services.batch_mark_paid(actor=admin, batch=batch, paid_on=PAID_ON, method="bank")
        failed = Disbursement.objects.get(batch=batch, enrollment=rows["v3"])
        services.line_fail(actor=admin, line=failed, reason="账户已销户")
    with county_scope_of(a):
        fund.refresh_from_db()
        assert fund.balance == Decimal("2560.00")  # 4,000 - 2,640 + 1,200
        refund = FundEntry.objects.get(fund=fund, direction="income", disbursement=failed)
        assert (refund.amount, refund.source) == (Decimal("1200.00"), "reversal")
    spouse = a.persons[7]
    new_account = f.account(a, spouse, "6217000010099990000")
    with a.scope():
        rows["v3"].refresh_from_db()
        rows["v3"].bank_account = new_account
        rows["v3"].save()
        reissue = services.batch_reissue(actor=admin, batch=batch)
        [line] = Disbursement.objects.filter(batch=reissue)
        assert (line.reissue_of_id, line.amount, line.bank_account_id) == (
            failed.pk,
            Decimal("1200.00"),
            new_account.pk,
        )
        assert reissue.period == "2026" and reissue.note == f"重发第 {batch.pk} 号批次的失败明细"
        with pytest.raises(ValidationError, match="没有可以重发的失败明细"):
            services.batch_reissue(actor=admin, batch=batch)  # one re-issue under way already
        services.batch_confirm(actor=admin, batch=reissue)
        services.batch_mark_paid(actor=admin, batch=reissue, paid_on=PAID_ON, method="bank")
        statuses = list(
            Disbursement.objects.filter(enrollment=rows["v3"])
            .order_by("id")
            .values_list("status", flat=True)
        )
    assert statuses == ["failed", "paid"]
    assert _live_per_person(a, program)[spouse.pk] == 1
    with county_scope_of(a):
        fund.refresh_from_db()
        assert fund.balance == Decimal("1360.00")  # and 1,200 out again


def test_a_draft_batch_can_be_cancelled_a_confirmed_one_cannot(setup):
    a, program, _ = setup
    admin = f.county_admin(a)
    draft, confirmed = _create(a, program), _create(a, program, node=a.townships[1])
    with a.scope():
        services.batch_confirm(actor=admin, batch=confirmed)
        services.batch_cancel(actor=admin, batch=draft)
        with pytest.raises(ValidationError, match="只有草稿批次可以作废"):
            services.batch_cancel(actor=admin, batch=confirmed)
    cancelled = {(ln.status, ln.failure_reason) for ln in _lines(a, draft)}
    assert cancelled == {("cancelled", "批次作废")}


def test_failing_a_line_needs_a_reason_and_a_live_line(setup):
    a, program, _ = setup
    admin = f.county_admin(a)
    batch = _create(a, program)
    line = _lines(a, batch)[0]
    with a.scope():
        with pytest.raises(ValidationError, match="只有已确认或已发放的明细"):
            services.line_fail(actor=admin, line=line, reason="户名不符")
        services.batch_confirm(actor=admin, batch=batch)
        line.refresh_from_db()
        with pytest.raises(ValidationError) as error:
            services.line_fail(actor=admin, line=line, reason="  ")
        assert error.value.message_dict == {"reason": ["请填写失败原因。"]}


@pytest.mark.parametrize(
    "role", ["county_viewer", "township_staff", "village_secretary", "group_leader"]
)
def test_only_the_county_admin_pays(setup, role):
    a, program, _ = setup
    user = a.users[role]
    batch = _create(a, program)
    node = {
        "county_viewer": a.county,
        "township_staff": a.townships[0],
        "village_secretary": a.villages[0],
        "group_leader": a.groups[0],
    }[role]
    with activate(Scope.for_node(node)):
        with pytest.raises(PermissionDenied):
            services.batch_create(actor=user, program=program, period="2026", node=node)
        with pytest.raises(PermissionDenied):
            services.batch_confirm(actor=user, batch=batch)
        with pytest.raises(PermissionDenied):
            services.batch_cancel(actor=user, batch=batch)
    assert {ln.status for ln in _lines(a, batch)} == {"draft"}


def test_a_double_sent_confirmation_confirms_once(setup):
    import uuid

    a, program, _ = setup
    admin = f.county_admin(a)
    batch = _create(a, program)
    token = uuid.uuid4()
    with a.scope():
        services.batch_confirm(actor=admin, batch=batch, form_token=token)
        again = services.batch_confirm(actor=admin, batch=batch, form_token=token)
    assert again.replayed and again.pk == batch.pk and again.status == "confirmed"


def test_a_new_batch_of_the_period_reissues_the_last_failed_line(setup):
    """A line that failed twice: the period's next batch pays the beneficiary again, naming
    the LAST failed line it re-issues; the others' new lines re-issue nothing."""
    a, program, rows = setup
    admin = f.county_admin(a)
    failed_ids = []
    for _ in range(2):
        batch = _create(a, program)
        with a.scope():
            services.batch_confirm(actor=admin, batch=batch)
            line = Disbursement.objects.get(batch=batch, enrollment=rows["v3"])
            failed_ids.append(services.line_fail(actor=admin, line=line, reason="账户已销户").pk)
            # the others were paid: cancel their lines so the next batch lists them again
            Disbursement.objects.filter(batch=batch, status="confirmed").update(status="cancelled")
    batch = _create(a, program)
    with a.scope():
        reissued = dict(
            Disbursement.objects.filter(batch=batch).values_list("enrollment_id", "reissue_of_id")
        )
    assert reissued.pop(rows["v3"].pk) == failed_ids[1]
    assert reissued and set(reissued.values()) == {None}
