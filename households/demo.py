"""Believable demo persons and households for a seeded county.

`seed_people` runs inside the county's scope once the tree exists (associations.demo calls it).
Households are drawn from a few life situations — young families, families with school-age
or grown children, three generations under one roof, elderly couples whose children left,
bereaved (失独) and disabled-child (伤残) families, migrant households — so that every family
category, every happy-family type and the figures page (births by order, deaths, women 15-49)
have something to show. Names are common Chinese names of each generation; ID numbers are
valid GB 11643 numbers of the county (of the home county for inflow households), unique, with
the sex parity and birth date of the person.

Speed: the large county (150,000 households, 500,000 persons) is generated in memory, with ids
taken from the sequences first (heads and mothers reference persons of the same batch), then
written with COPY. PostgreSQL refuses `COPY FROM` into a table whose row-level security
applies to the current role (the app role, CI), so for such a role the rows are copied into a
temporary table and moved with one INSERT … SELECT, which the policy checks like any insert.
The deferred foreign-key checks are run at the end, so that their cost shows in the timings
and an error surfaces here rather than at commit.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from associations.demo_copy import allocate_ids, analyze, check_deferred_foreign_keys, copy_rows
from associations.history import build_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.scope import current_scope

from .demo_people import _Household, _PeopleGenerator, years_before
from .demo_rows import (
    ASSISTANCE_COLUMNS,
    HARDSHIP_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    _hardship_and_assistance,
    _household_rows,
    _person_rows,
)
from .models import AssistanceRecord, HardshipAssessment, Household, Person
from .services import HOUSEHOLD_FIELDS

# years_before is also used by members.demo.
__all__ = ["PEOPLE_SCALES", "PeopleScale", "seed_people", "years_before"]


@dataclass(frozen=True)
class PeopleScale:
    """How many households a seeded county gets. Either a range per village, or a county
    total spread over the villages by their size. With `persons`, households are topped up
    with elderly parents (三代同堂) until the county has exactly that many persons."""

    households_per_village: tuple[int, int] | None = None
    households: int | None = None
    persons: int | None = None
    # One change record per household; otherwise one summary record per village.
    history_per_household: bool = True


PEOPLE_SCALES = {
    "demo": PeopleScale(households_per_village=(60, 100)),
    "large": PeopleScale(households=150_000, persons=500_000, history_per_household=False),
}

# Household situations and their weights; the rare ones are also forced into small counties.
KIND_WEIGHTS = {
    "family": 330,
    "young_family": 100,
    "three_generation": 100,
    "empty_nest": 180,
    "elderly_single": 60,
    "single": 50,
    "newlywed": 25,
    "inflow": 40,
    "outflow": 50,
    "bereaved": 5,
    "disabled_child": 5,
}
# Each small county gets at least these, so that every category and figure has an example.
REQUIRED_KINDS = [
    "bereaved",
    "disabled_child",
    "two_daughters",
    "certified_one_child",
    "newborn",
    "newborn",
    "newborn",
    "death_this_year",
    "death_this_year",
    "newlywed",
    "three_generation",
    "inflow",
    "outflow",
    "empty_nest",
]
# Households the head's elderly parents never join (they are the elderly ones, or alone).
NO_PARENTS_KINDS = {"empty_nest", "elderly_single", "death_this_year", "bereaved", "single"}


def _spread(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to the weights, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _places(county: Association):
    nodes = list(
        Association.objects.filter(
            level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GROUP], county_id=county.pk
        ).order_by("division_code")
    )
    townships = {n.pk: n for n in nodes if n.level == Level.TOWNSHIP}
    villages = [n for n in nodes if n.level == Level.VILLAGE]
    groups: dict[int, list[Association]] = defaultdict(list)
    for node in nodes:
        if node.level == Level.GROUP:
            groups[node.parent_id].append(node)
    return townships, villages, groups


def _next_numbers(county: Association) -> dict[int, int]:
    """Per village, the highest numeric household number already taken (new ones follow)."""
    taken: dict[int, int] = defaultdict(int)
    for village_id, number in Household.objects.filter(county_id=county.pk).values_list(
        "village_id", "number"
    ):
        if number.isdigit():
            taken[village_id] = max(taken[village_id], int(number))
    return taken


def _resolve_scale(scale: str | PeopleScale) -> PeopleScale:
    return scale if isinstance(scale, PeopleScale) else PEOPLE_SCALES[scale]


def seed_people(
    *,
    county: Association,
    scale: str | PeopleScale,
    rng: random.Random,
    today: datetime.date | None = None,
) -> dict:
    """Persons, households, hardship survey entries and assistance records for every village
    of the county; returns the counts and the seconds each phase took."""
    active = current_scope()
    if active is None or active.county_id != county.pk:
        raise RuntimeError("seed_people runs inside the county's scope.")
    shape = _resolve_scale(scale)
    today = today or timezone.localdate()
    timings: dict[str, float] = {}
    clock, cpu = time.perf_counter(), time.process_time()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = round(now - clock, 2)
        clock = now

    with transaction.atomic():
        townships, villages, groups = _places(county)
        generator = _PeopleGenerator(county=county, rng=rng, today=today)
        generator.used_numbers.update(
            n[:17]
            for n in Person.objects.filter(
                county_id=county.pk, id_number__isnull=False
            ).values_list("id_number", flat=True)
        )
        homes = _plan_households(shape, villages, groups, _next_numbers(county), rng)
        for home in homes:
            generator.household(home.kind, home)
        persons = sum(len(h.persons) for h in homes)
        if shape.persons is not None:
            persons += _top_up(generator, homes, shape.persons - persons)
        else:
            for home in homes:
                if home.kind in ("family", "young_family") and rng.random() < 0.2:
                    persons += generator.add_parents(home, rng.choice([1, 1, 2]))
        lap("generate")

        person_ids = iter(allocate_ids(Person._meta.db_table, persons))
        household_ids = iter(allocate_ids(Household._meta.db_table, len(homes)))
        for home in homes:
            home.id = next(household_ids)
            for person in home.persons:
                person.id = next(person_ids)
        lap("allocate_ids")

        now = timezone.now()
        # Persons first: their rows are produced while the server inserts (the categories of
        # each household are derived on the way); foreign keys are checked at the end.
        rows = _person_rows(homes, townships, today, now)
        counts = {"persons": copy_rows(Person, PERSON_COLUMNS, rows)}
        lap("copy_persons")  # with the categories, derived on the way
        rows = _household_rows(homes, today, now)
        counts["households"] = copy_rows(Household, HOUSEHOLD_COLUMNS, rows)
        lap("copy_households")
        hardship, assistance = _hardship_and_assistance(homes, rng, today, townships, now)
        counts["hardship"] = copy_rows(HardshipAssessment, HARDSHIP_COLUMNS, hardship)
        counts["assistance"] = copy_rows(AssistanceRecord, ASSISTANCE_COLUMNS, assistance)
        lap("copy_hardship_assistance")
        check_deferred_foreign_keys(Household, Person, HardshipAssessment, AssistanceRecord)
        lap("foreign_key_checks")
        counts["change_records"] = _record_history(shape, homes, villages, groups)
        lap("change_records")
        analyze(Household, Person, HardshipAssessment, AssistanceRecord)
        lap("analyze")
    counts["timings"] = timings
    counts["seconds"] = round(sum(timings.values()), 2)
    # This process's CPU time: on a busy machine far below the wall time above.
    counts["python_cpu_seconds"] = round(time.process_time() - cpu, 2)
    return counts


def _plan_households(shape, villages, groups, next_numbers, rng) -> list[_Household]:
    if shape.households_per_village is not None:
        low, high = shape.households_per_village
        per_village = [rng.randint(low, high) for _ in villages]
    else:
        weights = [max(len(groups[v.pk]), 1) * rng.uniform(0.7, 1.3) for v in villages]
        per_village = _spread(shape.households or 0, weights)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    homes = []
    for village, count in zip(villages, per_village, strict=True):
        village_groups = groups[village.pk]
        first = next_numbers.get(village.pk, 0) + 1
        drawn = rng.choices(kinds, weights=weights, k=count)
        for offset, kind in enumerate(drawn):
            group = (
                village_groups[offset * len(village_groups) // count] if village_groups else None
            )
            homes.append(_Household(village, group, f"{first + offset:04d}", kind))
    # Small counties still get an example of every rare situation.
    examples = rng.sample(homes, min(len(homes), len(REQUIRED_KINDS)))
    for home, kind in zip(examples, REQUIRED_KINDS, strict=False):
        home.kind = kind
    return homes


def _top_up(generator: _PeopleGenerator, homes: list[_Household], missing: int) -> int:
    """Elderly parents move in with families until the county has the target population."""
    added = 0
    candidates = [h for h in homes if h.kind not in NO_PARENTS_KINDS]
    generator.rng.shuffle(candidates)
    for index, home in enumerate(candidates):
        needed = missing - added
        if needed <= 0:
            break
        both = needed > 1 and (generator.rng.random() < 0.3 or needed > len(candidates) - index)
        added += generator.add_parents(home, 2 if both else 1)
    return added


def _record_history(shape: PeopleScale, homes, villages, groups) -> int:
    """One change record per household; for the large scale one summary per village
    ("批量生成演示数据" with the counts), so history stays complete without 150,000 rows."""
    if shape.history_per_household:
        nodes = {g.pk: g for members in groups.values() for g in members}
        nodes.update({v.pk: v for v in villages})
        records = []
        for home in homes:
            household = Household(
                id=home.id,
                number=home.number,
                head_id=home.head.id,
                address=home.address,
                residency=home.residency,
                phone=home.head.phone,
            )
            household.place_under(home.group or home.village)
            records.append(
                build_change(
                    actor=None,
                    node=nodes[household.group_id or household.village_id],
                    obj=household,
                    action=ChangeRecord.Action.CREATE,
                    before=None,
                    after=snapshot(household, HOUSEHOLD_FIELDS),
                )
            )
        record_changes(records)
        return len(records)
    households: Counter[int] = Counter()
    persons: Counter[int] = Counter()
    for home in homes:
        households[home.village.pk] += 1
        persons[home.village.pk] += len(home.persons)
    records = []
    for village in villages:
        if not households[village.pk]:
            continue
        record = build_change(
            actor=None,
            node=village,
            obj=village,
            action=ChangeRecord.Action.CREATE,
            before=None,
            after={"households": households[village.pk], "persons": persons[village.pk]},
        )
        record.object_type, record.object_id = Household._meta.label, 0
        record.object_label = "批量生成演示数据"
        records.append(record)
    record_changes(records)
    return len(records)
