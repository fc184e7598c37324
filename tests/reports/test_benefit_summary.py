"""The care subsidies paid in the period, kept in the run's snapshot (reports.benefit_snapshot)
and told in the summary in seed 001's words ("奖励扶助对象114人,共计82080元。特扶对象14人,共计
14880元。"). On conftest.population_world, 2026-H1, with these payment lines:

    奖励扶助 (yearly)    v0 head 720.00 paid 1 Mar; v2 head 720.00 paid 1 Apr;
                         v1 head 720.00 paid 1 Jul (after the half-year: not counted);
                         v3 head 720.00 failed (not counted)
    特别扶助 (yearly)    v2 spouse 1063.20 paid 5 May
    独生子女父母奖励金   v3 head 10.00 paid 10 Jan and 10.00 paid 10 Feb (monthly): one
                         beneficiary, 20.00

    county   奖励扶助对象2人,共计1440元;特扶对象1人,共计1063.20元;独生子女父母奖励金对象1人,共计20元
    t1       奖励扶助对象1人,720元;特扶对象1人,1063.20元;奖励金对象1人,20元
    v1       nothing paid in the half-year: no paragraph"""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from benefits.models import Disbursement, DisbursementBatch, Enrollment, Program
from reports import summary
from reports.models import SnapshotNode
from tests.reports.conftest import build_run

pytestmark = pytest.mark.django_db


def day(month: int, d: int) -> datetime.date:
    return datetime.date(2026, month, d)


def program(a, name, template, frequency="yearly"):
    return Program.objects.create(
        county=a.county,
        name=name,
        template=template,
        kind="allowance",
        frequency=frequency,
        standard_amount=D("720"),
    )


def pay(a, program, person, amount, status, paid_on=None, period="2026"):
    admin = a.users["county_admin"]
    batch = DisbursementBatch(program=program, period=period, status="confirmed", created_by=admin)
    batch.place_under(a.county)
    batch.save()
    enrollment = Enrollment.objects.filter(program=program, person=person).first()
    if enrollment is None:
        enrollment = Enrollment(
            program=program,
            person=person,
            household=person.household,
            amount=D(amount),
            status="enrolled",
        )
        enrollment.place_under(person.group or person.village)
        enrollment.save()
    line = Disbursement(
        batch=batch,
        program=program,
        period=period,
        enrollment=enrollment,
        person=person,
        household=person.household,
        amount=D(amount),
        status=status,
        paid_on=paid_on,
    )
    line.place_under(person.group or person.village)
    line.save()


@pytest.fixture
def paid_world(population_world):
    a, version = population_world
    heads = {p.household_id: p for p in a.persons if p.relation_to_head == "head"}
    head = [heads[h.pk] for h in a.households]
    spouse2 = next(p for p in a.persons if p.household_id == a.households[2].pk and p != head[2])
    with a.scope():
        reward = program(a, "农村部分计划生育家庭奖励扶助", "reward_assistance")
        special = program(a, "计划生育家庭特别扶助", "special_assistance")
        monthly = program(a, "独生子女父母奖励金", "only_child_reward", "monthly")
        pay(a, reward, head[0], "720", "paid", day(3, 1))
        pay(a, reward, head[2], "720", "paid", day(4, 1))
        pay(a, reward, head[1], "720", "paid", day(7, 1))
        pay(a, reward, head[3], "720", "failed")
        pay(a, special, spouse2, "1063.20", "paid", day(5, 5))
        pay(a, monthly, head[3], "10", "paid", day(1, 10), period="2026-01")
        pay(a, monthly, head[3], "10", "paid", day(2, 10), period="2026-02")
    return a, version, reward


def _paragraph(drafted) -> str:
    found = [p for p in drafted.paragraphs if "利益导向" in p]
    return found[0] if found else ""


def test_the_county_township_and_village_sentences(paid_world, django_capture_on_commit_callbacks):
    a, version, _reward = paid_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    with a.scope():
        rows = list(SnapshotNode.objects.filter(run=run))
        by_node = {r.node_id_at: r for r in rows}
        county = by_node[a.county.pk]
        assert _paragraph(summary.draft(run, county, rows)) == (
            "5、利益导向机制执行情况:上半年全县奖励扶助对象2人,共计1440元。特扶对象1人,"
            "共计1063.20元。独生子女父母奖励金对象1人,共计20元。"
        )
        t1 = by_node[a.townships[1].pk]
        assert _paragraph(summary.draft(run, t1, rows)).endswith(
            "上半年全镇奖励扶助对象1人,共计720元。特扶对象1人,共计1063.20元。"
            "独生子女父母奖励金对象1人,共计20元。"
        )
        v1 = by_node[a.villages[1].pk]
        assert _paragraph(summary.draft(run, v1, [v1])) == ""
        assert by_node[a.villages[0].pk].figures["benefits"] == [
            {
                "program": "农村部分计划生育家庭奖励扶助",
                "template": "reward_assistance",
                "people": 1,
                "amount": "720.00",
            }
        ]


def test_the_snapshot_keeps_the_names_and_sums_of_the_day(
    paid_world, django_capture_on_commit_callbacks
):
    a, version, reward = paid_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    with a.scope():
        Program.objects.filter(pk=reward.pk).update(name="奖扶(新名称)")
        Disbursement.objects.filter(program=reward, status="paid").update(amount=D("1"))
        county = SnapshotNode.objects.get(run=run, node_id_at=a.county.pk)
        assert county.figures["benefits"][0] == {
            "program": "农村部分计划生育家庭奖励扶助",
            "template": "reward_assistance",
            "people": 2,
            "amount": "1440.00",
        }
