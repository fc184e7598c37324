"""The care-subsidy indicators on hand-worked values, 2026 Q1 in county A.

Programme P (yearly, public notice required) and Q (no notice). Persons: the heads and spouses
of the world's households, one household per village (v0 … v3).

payments   batch B1 confirmed 10 Feb: v0 head paid 5 Mar, v0 spouse failed, v1 head paid
           2 Apr (after the quarter), v3 head paid 1 Mar
           batch B2 confirmed 1 Apr (Q2): v2 head, confirmed, not yet paid
           → benefit_paid_on_time Q1: v0 1 of 2 = 50, v1 0 of 1 = 0, v2 nothing in Q1 = 100,
             v3 1 of 1 = 100; Q2: v2 0 of 1 = 0, the others 100
notices    P: v0 head enrolled 1 Feb after a notice that ended 20 Jan; v0 spouse enrolled
           1 Feb without one; v1 head enrolled 15 Jan on the day its notice ended (not before)
           Q: v2 head enrolled 1 Feb, no notice needed
           → benefit_notice_share Q1: 50 / 0 / 100 / 100
hardship   v3's household in the 2026 roster: helped only by the subsidy paid 1 Mar
           → hardship_assisted_share of v3 is 100, and 0 before that line is paid"""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from associations.periods import Period
from benefits.models import Disbursement, DisbursementBatch, Enrollment, Program, PublicNotice
from households.models import HardshipAssessment
from reports.indicators import compute

pytestmark = pytest.mark.django_db
Q1, Q2 = Period.quarter(2026, 1), Period.quarter(2026, 2)


def day(month: int, d: int) -> datetime.date:
    return datetime.date(2026, month, d)


def moment(month: int, d: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, month, d, 10))


class Benefits:
    def __init__(self, world):
        self.a = world.a
        self.admin = self.a.users["county_admin"]
        self.p = self._program("奖励扶助", needs_notice=True)
        self.q = self._program("金秋助学", needs_notice=False)
        self.b1 = self._batch(self.p, moment(2, 10))
        self.b2 = self._batch(self.q, moment(4, 1))

    def _program(self, name, *, needs_notice):
        return Program.objects.create(
            county=self.a.county,
            name=name,
            kind="allowance",
            frequency="yearly",
            standard_amount=D("720"),
            needs_notice=needs_notice,
        )

    def _batch(self, program, confirmed_at):
        batch = DisbursementBatch(
            program=program,
            period="2026",
            status="confirmed",
            created_by=self.admin,
            confirmed_by=self.admin,
            confirmed_at=confirmed_at,
        )
        batch.place_under(self.a.county)
        batch.save()
        return batch

    def notice(self, village, ends_on):
        notice = PublicNotice(
            program=self.p,
            title="公示",
            starts_on=ends_on - datetime.timedelta(days=6),
            ends_on=ends_on,
            objection_contact="村委会",
            created_by=self.admin,
        )
        notice.place_under(village)
        notice.save()
        return notice

    def enroll(self, person_index, program, enrolled_on, notice=None):
        person = self.a.persons[person_index]
        enrollment = Enrollment(
            program=program,
            person=person,
            household=person.household,
            amount=D("720"),
            status="enrolled",
            enrolled_on=enrolled_on,
            notice=notice,
        )
        enrollment.place_under(person.group or person.village)
        enrollment.save()
        return enrollment

    def line(self, enrollment, batch, status, paid_on=None):
        line = Disbursement(
            batch=batch,
            program=batch.program,
            period=batch.period,
            enrollment=enrollment,
            person=enrollment.person,
            household=enrollment.household,
            amount=D("720"),
            status=status,
            paid_on=paid_on,
        )
        line.place_under(enrollment.group or enrollment.village)
        line.save()
        return line


@pytest.fixture
def benefits(world):
    with world.a.scope():
        b = Benefits(world)
        v = world.a.villages
        head0 = b.enroll(0, b.p, day(2, 1), notice=b.notice(v[0], day(1, 20)))
        spouse0 = b.enroll(1, b.p, day(2, 1))
        head1 = b.enroll(2, b.p, day(1, 15), notice=b.notice(v[1], day(1, 15)))
        head2 = b.enroll(4, b.q, day(2, 1))
        head3 = b.enroll(6, b.p, day(1, 2), notice=b.notice(v[3], day(1, 1)))
        b.line(head0, b.b1, "paid", day(3, 5))
        b.line(spouse0, b.b1, "failed")
        b.line(head1, b.b1, "paid", day(4, 2))
        b.line(head2, b.b2, "confirmed")
        b.head3_line = b.line(head3, b.b1, "confirmed")
        yield b


def values(world, key, period):
    result = compute(key, county=world.a.county, period=period)
    return [result[v.pk] for v in world.a.villages]


def test_payments_on_time(world, benefits):
    with world.a.scope():
        benefits.head3_line.status, benefits.head3_line.paid_on = "paid", day(3, 1)
        benefits.head3_line.save()
        assert values(world, "benefit_paid_on_time", Q1) == [
            D("50.00"),
            D("0.00"),
            D("100.00"),
            D("100.00"),
        ]
        assert values(world, "benefit_paid_on_time", Q2) == [
            D("100.00"),
            D("100.00"),
            D("0.00"),
            D("100.00"),
        ]


def test_notices(world, benefits):
    with world.a.scope():
        # v3's head was enrolled on 2 January after a notice that ended 1 January
        assert values(world, "benefit_notice_share", Q1) == [
            D("50.00"),
            D("0.00"),
            D("100.00"),
            D("100.00"),
        ]


def test_a_subsidy_paid_to_a_hardship_household_counts_as_help(world, benefits):
    with world.a.scope():
        household = world.a.households[3]
        # the shared world already puts it in the 2026 roster
        assert HardshipAssessment.objects.filter(
            household=household, year=2026, status="in_roster"
        ).exists()
        before = compute("hardship_assisted_share", county=world.a.county, period=Q1)
        benefits.head3_line.status, benefits.head3_line.paid_on = "paid", day(3, 1)
        benefits.head3_line.save()
        after = compute("hardship_assisted_share", county=world.a.county, period=Q1)
        v3 = world.a.villages[3].pk
        assert (before[v3], after[v3]) == (D("0.00"), D("100.00"))
