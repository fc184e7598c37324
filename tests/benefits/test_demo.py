"""The demo county's care subsidies (benefits.demo), seeded on 2026-11-30 with the rest of the
demo county: programmes from the national templates, enrolments at every step of the
workflow, last year's batches paid (a failed line re-issued), this year's, funds and loans.

The loan figures are worked out by hand from benefits.demo_money.LOANS and 2026-11-30:

    loan  issued      principal  term  repaid                         outstanding  overdue
    A     2024-05-30  5,000      12    all (4 × quarterly)            0            —
    C     2025-06-30  5,000      24    16 due × 208.33 = 3,333.28     1,666.72     0
    D     2025-09-30  5,000      12    5 × 416.66 = 2,083.30          2,916.70     2,916.70
    E     2026-07-30  3,000      12    3 due × 250.00 = 750.00        2,250.00     0
    F     2026-11-10  5,000      12    none (first due 12-10)         5,000.00     0
    B     2024-05-30  5,000      12    all                            0            —

C's schedule is 23 × 208.33 and 208.41; 16 of its installments fall due before 11-30 (the
one due on 11-30 itself is not late yet). D's every installment was due by 2026-09-30. The
loan fund: capital 15,000 + 5,000 = 20,000; lent 28,000; repaid 5,000 + 5,000 + 3,333.28 +
2,083.30 + 750 = 16,166.58; balance 20,000 − 28,000 + 16,166.58 = 8,166.58."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from associations.demo import seed_county
from associations.models import ChangeRecord, Level, User
from associations.periods import Period
from associations.scope import Scope, activate
from benefits import demo as benefits_demo
from benefits.demo_money import FAILURE
from benefits.loan_selectors import loan_rows, overdue_list, relending_stats
from benefits.models import (
    BankAccount,
    Disbursement,
    DisbursementBatch,
    Enrollment,
    EnrollmentEvent,
    Fund,
    FundEntry,
    Loan,
    Objection,
    Program,
    PublicNotice,
    Reconfirmation,
    Repayment,
)
from households.models import AssistanceRecord
from households.selectors import resident_population
from reports.indicators import hardship_assisted_share
from reports.models import ReportRun, SnapshotNode
from tests.conftest import login

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)
ADMIN = "county_admin_131128"  # not the default demo county: its accounts are suffixed
D = Decimal


@pytest.fixture
def demo_county(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    county, created = seed_county(code="131128", name="阜城县", scale="demo")
    assert created
    return county


def _programs():
    return {p.template: p for p in Program.objects.prefetch_related("rates")}


def _events(enrollment) -> list[tuple[str, datetime.date]]:
    return [
        (e.action, timezone.localtime(e.at).date())
        for e in EnrollmentEvent.objects.filter(enrollment=enrollment).order_by("at", "id")
    ]


def _check_workflow(programs) -> None:
    reward = programs["reward_assistance"]
    statuses = Counter(Enrollment.objects.values_list("status", flat=True))
    assert set(statuses) == {"applied", "in_notice", "reviewed", "enrolled", "rejected"}
    # last year's roll and this year's new ones of both programmes, the rest one or two each
    assert statuses["enrolled"] >= 40
    for enrollment in Enrollment.objects.select_related("notice", "program"):
        assert enrollment.rule == enrollment.program.rule  # judged by the programme's rule
        assert enrollment.reasons
        events = _events(enrollment)
        assert events[0] == ("apply", enrollment.applied_on)
        assert [day for _, day in events] == sorted(day for _, day in events)
        assert all(day <= TODAY for _, day in events)
        actions = [action for action, _ in events]
        notice = enrollment.notice
        if enrollment.status == "applied":
            assert actions == ["apply"] and notice is None
            continue
        # posted two days after applying, for the programme's 7 days
        assert notice.starts_on == enrollment.applied_on + datetime.timedelta(days=2)
        assert (notice.ends_on - notice.starts_on).days == 6
        if enrollment.status == "in_notice":
            assert notice.starts_on <= TODAY <= notice.ends_on
            assert actions in (["apply", "notice"], ["apply", "notice", "objection"])
            continue
        # every later step waited for the notice to end
        assert all(day > notice.ends_on for action, day in events[2:])
        if enrollment.status == "rejected":
            assert actions == ["apply", "notice", "return"]
            assert enrollment.return_reason == benefits_demo.RETURN_REASON
        elif enrollment.status == "reviewed":
            assert actions == ["apply", "notice", "review"]
        else:
            assert actions == ["apply", "notice", "review", "approve"]
            assert enrollment.enrolled_on == events[3][1] > notice.ends_on
    # last year's roll: applied on 2025-03-02, enrolled on 03-18 (notice 03-04 to 03-10,
    # reviewed 03-13, approved five days later)
    roll = Enrollment.objects.filter(program=reward, enrolled_on__year=2025)
    assert set(roll.values_list("applied_on", "enrolled_on")) == {
        (datetime.date(2025, 3, 2), datetime.date(2025, 3, 18))
    }
    # one objection, raised yesterday, waiting for the township
    objection = Objection.objects.select_related("enrollment__notice").get()
    assert objection.raised_on == TODAY - datetime.timedelta(days=1)
    assert objection.resolved_at is None and objection.enrollment.status == "in_notice"
    # the village secretary applied for her village; the township staff reviewed there
    secretary = User.objects.get(username="village_secretary_131128")
    mine = EnrollmentEvent.objects.filter(village_id=secretary.node_id)
    if mine.exists():
        assert set(mine.filter(action="apply").values_list("actor", flat=True)) == {secretary.pk}


def _paid(program, period: str):
    return Disbursement.objects.filter(program=program, period=period, status="paid")


def _check_batches(programs) -> None:
    reward, special = programs["reward_assistance"], programs["special_assistance"]
    # 2025, 奖励扶助: every person on last year's roll paid once, 720 each …
    roll = Enrollment.objects.filter(program=reward, status="enrolled", enrolled_on__year=2025)
    paid = _paid(reward, "2025")
    assert sorted(paid.values_list("enrollment_id", flat=True)) == sorted(
        roll.values_list("id", flat=True)
    )
    assert paid.aggregate(total=Sum("amount"))["total"] == D(720) * roll.count()
    # … one of them in January, re-issuing the line the bank returned in December
    failed = Disbursement.objects.get(program=reward, status="failed")
    assert failed.failure_reason == FAILURE
    reissue = Disbursement.objects.get(reissue_of=failed)
    assert reissue.status == "paid" and reissue.paid_on == datetime.date(2026, 1, 15)
    assert reissue.enrollment_id == failed.enrollment_id
    assert reissue.bank_account_id != failed.bank_account_id
    assert not BankAccount.objects.get(pk=failed.bank_account_id).is_active
    first = DisbursementBatch.objects.get(pk=failed.batch_id)
    assert first.status == "paid" and first.paid_on == datetime.date(2025, 12, 10)
    assert timezone.localtime(first.confirmed_at).date() == datetime.date(2025, 12, 3)
    assert paid.exclude(batch=first).count() == 1
    # 2025, 特别扶助: 960 a disabled-child parent, 1,200 a bereaved one
    special_roll = Enrollment.objects.filter(
        program=special, status="enrolled", enrolled_on__year=2025
    )
    categories = Counter(special_roll.values_list("category", flat=True))
    assert set(categories) <= {"disabled_child", "bereaved"}
    expected = D(960) * categories["disabled_child"] + D(1200) * categories["bereaved"]
    assert _paid(special, "2025").aggregate(total=Sum("amount"))["total"] == expected
    # 2026: 特别扶助 paid on 18 September; 奖励扶助 confirmed for everyone enrolled, not paid
    special_2026 = DisbursementBatch.objects.get(program=special, period="2026")
    assert special_2026.status == "paid" and special_2026.paid_on == datetime.date(2026, 9, 18)
    batch = DisbursementBatch.objects.get(program=reward, period="2026")
    assert batch.status == "confirmed" and batch.paid_on is None
    enrolled = Enrollment.objects.filter(program=reward, status="enrolled")
    lines = Disbursement.objects.filter(batch=batch)
    assert set(lines.values_list("status", flat=True)) == {"confirmed"}
    assert lines.count() == enrolled.count() > roll.count()  # this year's new ones too
    assert lines.aggregate(total=Sum("amount"))["total"] == D(720) * enrolled.count()
    # most beneficiaries are paid to an account, its number encrypted at rest
    live = Enrollment.objects.filter(status__in=["applied", "in_notice", "reviewed", "enrolled"])
    assert live.filter(bank_account__isnull=False).count() >= 0.6 * live.count()
    account = BankAccount.objects.filter(is_active=True).first()
    assert account.account_number.isdigit() and len(account.account_number) == 19
    # read as plain text (no field to decrypt it): the stored ciphertext
    stored = BankAccount.objects.filter(pk=account.pk).values_list(
        Cast("account_number", TextField()), flat=True
    )
    assert account.account_number not in stored.get()


def _check_funds_and_loans(county, programs) -> None:
    funds = {fund.kind: fund for fund in Fund.objects.all()}
    assert set(funds) == {"care", "named", "loan"}
    assert funds["named"].donor == "阜城县企业家协会"
    assert programs["happiness_project"].fund == funds["loan"]
    for fund in funds.values():
        entries = FundEntry.objects.filter(fund=fund)
        income = entries.filter(direction="income").aggregate(t=Sum("amount"))["t"]
        expense = entries.filter(direction="expense").aggregate(t=Sum("amount"))["t"]
        assert fund.balance == income - expense > 0
    # the care fund: 2 yuan a resident in 2025 and 2026, a donation of 30,000, less the county
    # association's spring visits that gave money
    population = sum(
        resident_population(node=county, on=datetime.date(year, 3, 15)) for year in (2025, 2026)
    )
    visits = AssistanceRecord.objects.filter(
        kind="visit", given_by="县计生协", amount__gt=0, given_on__year=2026
    )
    assert visits.exists()
    care = FundEntry.objects.filter(fund=funds["care"], direction="expense")
    assert set(care.values_list("assistance_id", flat=True)) == set(
        visits.values_list("id", flat=True)
    )
    spent = visits.aggregate(t=Sum("amount"))["t"]
    assert funds["care"].balance == D(2) * population + D(30000) - spent
    aid = AssistanceRecord.objects.filter(kind="school_aid", amount__gt=0).count()
    assert funds["named"].balance == D(20000) - D(1000) * aid
    # loans (the module's docstring)
    assert funds["loan"].balance == D("8166.58")
    admin = User.objects.get(username=ADMIN)
    loans = {
        row.issued_on: row
        for row in loan_rows(actor=admin, on=TODAY).filter(principal=D(5000), term_months=12)
    }
    rows = [
        (r.issued_on, r.term_months, r.status, r.outstanding, r.overdue_amount)
        for r in loan_rows(actor=admin, on=TODAY).order_by("issued_on", "id")
    ]
    assert rows == [
        (datetime.date(2024, 5, 30), 12, "repaid", D("0.00"), D("0.00")),
        (datetime.date(2024, 5, 30), 12, "repaid", D("0.00"), D("0.00")),
        (datetime.date(2025, 6, 30), 24, "active", D("1666.72"), D("0.00")),
        (datetime.date(2025, 9, 30), 12, "active", D("2916.70"), D("2916.70")),
        (datetime.date(2026, 7, 30), 12, "active", D("2250.00"), D("0.00")),
        (datetime.date(2026, 11, 10), 12, "active", D("5000.00"), D("0.00")),
    ]
    late = overdue_list(actor=admin, on=TODAY)
    assert [(row.loan.pk, row.amount_overdue) for row in late] == [
        (loans[datetime.date(2025, 9, 30)].pk, D("2916.70"))
    ]
    (stats,) = relending_stats(actor=admin)
    assert (stats.capital, stats.lent, stats.rounds, stats.households) == (
        D("20000.00"), D("28000.00"), D("1.4"), 6,
    )  # fmt: skip
    assert Repayment.objects.filter(loan__status="repaid").count() == 8  # 4 + 4 quarterly


def _check_data(demo_county) -> None:
    made = demo_county.demo_benefits
    assert made["programs"] == 3 and made["loans"] == 6 and made["batches"] == 5
    with activate(Scope.for_node(demo_county)):
        programs = _programs()
        assert set(programs) == {"reward_assistance", "special_assistance", "happiness_project"}
        assert programs["reward_assistance"].standard_amount == D(720)
        assert {r.category: r.amount for r in programs["special_assistance"].rates.all()} == {
            "disabled_child": D(960),
            "bereaved": D(1200),
        }
        _check_workflow(programs)
        _check_batches(programs)
        _check_funds_and_loans(demo_county, programs)
        # this year's re-confirmation of 奖励扶助 started: one pending row per enrolled person
        reconfirmations = Reconfirmation.objects.filter(year=2026)
        assert set(reconfirmations.values_list("decision", flat=True)) == {"pending"}
        enrolled = Enrollment.objects.filter(
            program=programs["reward_assistance"], status="enrolled"
        )
        assert reconfirmations.count() == enrolled.count()


TABLES = [
    Program, Fund, FundEntry, Enrollment, EnrollmentEvent, PublicNotice, Objection, BankAccount,
    DisbursementBatch, Disbursement, Loan, Repayment, Reconfirmation, ChangeRecord,
]  # fmt: skip


def _counts():
    return {model.__name__: model.objects.count() for model in TABLES}


def test_the_demo_county_runs_its_care_subsidies_through_every_step(client, demo_county):
    """One test: seeding the demo county takes most of a minute under the application's
    role."""
    _check_data(demo_county)
    with activate(Scope.for_node(demo_county)):
        admin = User.objects.get(username=ADMIN)
        enrolled = Enrollment.objects.filter(
            program__template="reward_assistance", status="enrolled"
        ).count()
        batch = DisbursementBatch.objects.get(program__template="reward_assistance", period="2026")
        # seeded before the assessment: its published third quarter counts the 特别扶助 paid
        # in September to hardship families as help, as a report built today does
        q3 = Period.quarter(2026, 3)
        assert Disbursement.objects.filter(
            status="paid",
            paid_on__range=(q3.start, q3.end),
            household__hardship__year=2026,
            household__hardship__status="in_roster",
        ).exists()
        run = ReportRun.objects.get(period_key="2026-Q3", published_at__isnull=False)
        published = {
            row.node_id_at: D(row.indicators["hardship_assisted_share"]["value"])
            for row in SnapshotNode.objects.filter(run=run, level=Level.VILLAGE)
        }
        live = hardship_assisted_share(demo_county, q3)
        assert published == live
        before = _counts()
    login(client, admin)
    home = client.get("/benefits/")
    assert home.status_code == 200
    page = home.content.decode()
    row = page.split("农村部分计划生育家庭奖励扶助")[1].split("</tr>")[0]
    assert f'<td class="num">{enrolled}</td>' in row
    assert "计划生育家庭特别扶助" in page and "幸福工程" in page
    listing = client.get("/benefits/batches/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert page.count("已发放") >= 4 and "已确认" in page
    assert f"第 {batch.pk} 号" in page and f"{D(720) * enrolled}" in page
    for url in ("/benefits/loans/", "/benefits/funds/", f"/benefits/batches/{batch.pk}/"):
        assert client.get(url).status_code == 200, url

    county, created = seed_county(code="131128", name="阜城县", scale="demo")
    assert (county.pk, created) == (demo_county.pk, False)
    with activate(Scope.for_node(demo_county)):
        assert benefits_demo.seed_benefits(county=county, admin=admin, rng=None) is None
        assert _counts() == before
