"""The demographic figures the half-year and annual summaries report, for any node and period:
households, population (户籍常住 / 流入 / 流出), women 15-49 and married ones, births by sex,
order and residency, deaths by sex, and the sex ratio at birth.

One query per table, grouped by the node's children (the villages of a township, …), never a
query per village. Population figures are taken at the end of the period."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from associations.models import Association, child_level

from .models import Household, Person

CHILD_RELATIONS = ("son", "daughter")


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    label: str
    key: str

    @classmethod
    def parse(cls, key: str) -> Period:
        """ "2026" (year), "2026-H1" (half-year), "2026-Q3" (quarter)."""
        match = re.fullmatch(r"(\d{4})(?:-(H[12]|Q[1-4]))?", (key or "").strip().upper())
        if not match:
            raise ValidationError("统计期格式应为 2026、2026-H1 或 2026-Q3。", code="bad_period")
        year, part = int(match.group(1)), match.group(2)
        if part is None:
            return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31), f"{year}年", key)
        if part.startswith("H"):
            first = part == "H1"
            start = datetime.date(year, 1 if first else 7, 1)
            end = datetime.date(year, 6, 30) if first else datetime.date(year, 12, 31)
            return cls(start, end, f"{year}年{'上' if first else '下'}半年", key.upper())
        quarter = int(part[1])
        start = datetime.date(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter
        end = (
            datetime.date(year, 12, 31)
            if end_month == 12
            else datetime.date(year, end_month + 1, 1) - datetime.timedelta(days=1)
        )
        return cls(start, end, f"{year}年第{'一二三四'[quarter - 1]}季度", key.upper())

    @classmethod
    def choices_around(cls, day: datetime.date) -> list[Period]:
        year = day.year
        keys = [f"{year}-Q{q}" for q in range(1, 5)] + [f"{year}-H1", f"{year}-H2", str(year)]
        keys += [f"{year - 1}-H1", f"{year - 1}-H2", str(year - 1)]
        return [cls.parse(k) for k in keys]


COLUMNS = [
    ("households", "户数"),
    ("population", "总人口"),
    ("registered", "户籍常住"),
    ("inflow", "流入"),
    ("outflow", "流出"),
    ("women_15_49", "育龄妇女"),
    ("married_women_15_49", "已婚育龄妇女"),
    ("births", "出生"),
    ("births_male", "出生男"),
    ("births_female", "出生女"),
    ("births_order_1", "一孩"),
    ("births_order_2", "二孩"),
    ("births_order_3", "三孩及以上"),
    ("births_registered", "常住出生"),
    ("births_floating", "流动出生"),
    ("deaths", "死亡"),
    ("deaths_male", "死亡男"),
    ("deaths_female", "死亡女"),
]


@dataclass
class FigureRow:
    unit: Association | None
    values: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in COLUMNS})

    @property
    def sex_ratio(self) -> str:
        return sex_ratio(self.values["births_male"], self.values["births_female"])

    def add(self, other: FigureRow) -> None:
        for key in self.values:
            self.values[key] += other.values[key]


@dataclass
class FiguresTable:
    node: Association
    period: Period
    rows: list[FigureRow]
    total: FigureRow


def sex_ratio(boys: int, girls: int) -> str:
    """Boys per girl, as the summaries write it: 95 boys and 86 girls are "1.10:1"."""
    if not girls:
        return "—"
    return f"{boys / girls:.2f}:1"


def _age_cut(end: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone who is `years` old on `end`."""
    try:
        return end.replace(year=end.year - years)
    except ValueError:  # 29 February
        return end.replace(year=end.year - years, day=28)


def _unit_key(node: Association) -> str:
    level = child_level(node.level)
    return f"{level}_id" if level else f"{node.level}_id"


def _under(node: Association) -> Q:
    return Q(**{f"{node.level}_id": node.pk})


def figures(*, node: Association, period: Period) -> FiguresTable:
    unit = _unit_key(node)
    end, start = period.end, period.start
    alive_at_end = Q(birth_date__lte=end) & (Q(is_deceased=False) | Q(died_on__gt=end))
    fertile = alive_at_end & Q(
        sex="female", birth_date__lte=_age_cut(end, 15), birth_date__gt=_age_cut(end, 50)
    )
    people = (
        Person.objects.filter(_under(node))
        .values(unit)
        .annotate(
            population=Count("id", filter=alive_at_end),
            registered=Count("id", filter=alive_at_end & Q(residency="registered")),
            inflow=Count("id", filter=alive_at_end & Q(residency="inflow")),
            outflow=Count("id", filter=alive_at_end & Q(residency="outflow")),
            women_15_49=Count("id", filter=fertile),
            married_women_15_49=Count("id", filter=fertile & Q(marital_status="married")),
            deaths=Count("id", filter=Q(died_on__range=(start, end))),
            deaths_male=Count("id", filter=Q(died_on__range=(start, end), sex="male")),
            deaths_female=Count("id", filter=Q(died_on__range=(start, end), sex="female")),
        )
    )
    households = (
        Household.objects.filter(_under(node)).values(unit).annotate(households=Count("id"))
    )
    rows: dict[int | None, FigureRow] = {}

    def row(key) -> FigureRow:
        return rows.setdefault(key, FigureRow(unit=None))

    for values in people:
        target = row(values.pop(unit))
        target.values.update({k: v for k, v in values.items()})
    for values in households:
        row(values[unit]).values["households"] = values["households"]
    for birth in births_in(node=node, start=start, end=end, unit=unit):
        target = row(birth[unit]).values
        target["births"] += 1
        target[f"births_{birth['sex']}"] += 1
        target[f"births_order_{min(birth['order'], 3)}"] += 1
        target[
            "births_registered" if birth["residency"] == "registered" else "births_floating"
        ] += 1
    units = Association.objects.in_bulk([k for k in rows if k is not None])
    ordered = []
    for key, figure_row in rows.items():
        figure_row.unit = units.get(key)
        ordered.append(figure_row)
    ordered.sort(key=lambda r: r.unit.division_code if r.unit else "")
    total = FigureRow(unit=node)
    for figure_row in ordered:
        total.add(figure_row)
    return FiguresTable(node=node, period=period, rows=ordered, total=total)


def births_in(*, node: Association, start, end, unit: str):
    """Births in the period with their birth order: the count of the mother's children born
    before (ties by id), or, where the mother is not recorded, of the household's children."""
    earlier_of_mother = (
        Person.objects.filter(mother=OuterRef("mother"))
        .filter(
            Q(birth_date__lt=OuterRef("birth_date"))
            | Q(birth_date=OuterRef("birth_date"), id__lt=OuterRef("id"))
        )
        .values("mother")
        .annotate(n=Count("id"))
        .values("n")
    )
    earlier_in_household = (
        Person.objects.filter(household=OuterRef("household"), relation_to_head__in=CHILD_RELATIONS)
        .filter(
            Q(birth_date__lt=OuterRef("birth_date"))
            | Q(birth_date=OuterRef("birth_date"), id__lt=OuterRef("id"))
        )
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    births = (
        Person.objects.filter(_under(node), birth_date__range=(start, end))
        .order_by()
        .annotate(
            by_mother=Coalesce(Subquery(earlier_of_mother, output_field=IntegerField()), Value(0)),
            by_household=Coalesce(
                Subquery(earlier_in_household, output_field=IntegerField()), Value(0)
            ),
        )
    )
    for birth in births.values(unit, "sex", "residency", "mother_id", "by_mother", "by_household"):
        earlier = birth["by_mother"] if birth["mother_id"] else birth["by_household"]
        birth["order"] = earlier + 1
        yield birth
