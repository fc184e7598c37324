"""The care subsidies paid in the period, kept in a run's snapshot (``figures["benefits"]`` of
every village, township and county row), so the summary's money sentences (seed 001: "奖励扶助
对象114人,共计82080元。特扶对象14人,共计14880元。") are read from the snapshot like every other
figure, never recomputed.

One grouped query for the county: payment lines paid with a payment date in the period, by
village and programme; the beneficiaries are counted once per programme however many lines
they had in the period (a monthly programme pays twelve times a year). What a row holds:

    [{"program": name, "template": ProgramTemplate value, "people": n, "amount": "82080.00"}]

in the programmes' order, only those with a payment; township and county rows sum their
villages'. A programme renamed later keeps the name it had when the run was built."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from associations.models import Association, Level
from associations.periods import Period
from benefits.models import Disbursement, LineStatus, Program

KEY = "benefits"


def _paid_by_village(county: Association, period: Period) -> dict[int, dict[int, tuple]]:
    """{village id: {program id: (people, amount)}} of the lines paid in the period."""
    rows = (
        Disbursement.objects.filter(
            county_id=county.pk,
            status=LineStatus.PAID,
            paid_on__range=(period.start, period.end),
        )
        .values("village_id", "program_id")
        .annotate(
            people=Count("person_id", distinct=True),
            households=Count("household_id", distinct=True),
            amount=Sum("amount"),
        )
        .order_by()
    )
    paid: dict[int, dict[int, tuple]] = defaultdict(dict)
    for row in rows:
        # a household programme's lines name no person: its beneficiaries are households
        people = row["people"] or row["households"]
        paid[row["village_id"]][row["program_id"]] = (people, row["amount"])
    return paid


def _entries(programs: list[Program], paid: dict[int, tuple]) -> list[dict]:
    return [
        {
            "program": program.name,
            "template": program.template,
            "people": paid[program.pk][0],
            "amount": str(paid[program.pk][1]),
        }
        for program in programs
        if program.pk in paid
    ]


def attach(rows: list, county: Association, period: Period) -> None:
    """Put ``figures["benefits"]`` on every village, township and county row."""
    paid = _paid_by_village(county, period)
    programs = list(Program.objects.filter(county_id=county.pk).order_by("id"))
    totals: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for row in rows:
        if row.level != Level.VILLAGE:
            continue
        own = paid.get(row.node_id_at, {})
        for program_id, (people, amount) in own.items():
            for node_id in (county.pk, row.township_node_id):
                if node_id is not None:
                    totals[node_id][program_id][0] += people
                    totals[node_id][program_id][1] += amount
        row.figures = {**row.figures, KEY: _entries(programs, own)}
    for row in rows:
        if row.level in (Level.COUNTY, Level.TOWNSHIP):
            summed = {pk: tuple(value) for pk, value in totals.get(row.node_id_at, {}).items()}
            row.figures = {**row.figures, KEY: _entries(programs, summed)}
