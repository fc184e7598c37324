"""Activity statistics (计生协活动统计) for a node and a period, in set-based SQL: the same
handful of queries for one village or a whole county (the nodes, one aggregate of the
activities, one of the materials handed out, one per theme and one per themed day, and the
county's three catalogues), never one per village.

What a row is, by the node asked for:

- county: a row per village, under its township (the township's 小计 after its villages),
  and the county's 合计 at the end;
- township: a row per village, and the 合计;
- village: a row per member group, and the 合计;
- group: the group's own figures (one row, which is the 合计).

Activities held by an association above the row level are still counted, on a row of their
own: "乡镇本级" (held by the township association itself) closes each township's villages,
"县本级" (held by the county) comes before the county's 合计, "村本级" (held by the village,
not by one of its groups) closes a village's groups. Such a row is shown only when it has
something in it. So every activity under the node is on exactly one row, a township's 小计
is the sum of its rows, and the 合计 is the sum of all the rows (the 小计 aside).

An activity counts in the period its start date (`date`) falls in, once, whatever its
`end_date`: a campaign from 5.25 to 6.5 is one May activity, with all its participants,
consultations and materials, and is not counted again in June (as the duties count it).

The figures of a row: the activities by kind (宣传, 会议, 培训, 服务, 志愿服务) and their
total; the participants (参加人数), consultations (咨询人次) and trainees (培训人数) entered on
the activities; and the quantity handed out of each catalogue material, in its unit.
Under the table: the activities and participants per campaign theme (with those that name
no theme, so the column adds up to the total), and per themed day (only the activities
marking one)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from associations.models import Association, Level

from . import catalogues
from .models import Activity, Material, MaterialHandout, Theme, ThemedDay
from .periods import Period
from .selectors import under

KINDS = list(Activity.Kind)  # the columns' order: 宣传, 会议, 培训, 服务, 志愿服务
OWN_LABEL = {Level.COUNTY: "县本级", Level.TOWNSHIP: "乡镇本级", Level.VILLAGE: "村本级"}
ROW_LEVEL = {
    Level.COUNTY: Level.VILLAGE,
    Level.TOWNSHIP: Level.VILLAGE,
    Level.VILLAGE: Level.GROUP,
    Level.GROUP: Level.GROUP,
}
NO_THEME = "未设主题"


@dataclass
class Figures:
    """The figures of one row (or subtotal, or total)."""

    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    participants: int = 0
    consultations: int = 0
    trainees: int = 0
    materials: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def activities(self) -> int:
        return sum(self.kinds.values())

    @property
    def is_empty(self) -> bool:
        return not (
            self.activities or self.participants or self.consultations or self.trainees
        ) and not any(self.materials.values())

    def add(self, other: Figures) -> None:
        for kind, n in other.kinds.items():
            self.kinds[kind] += n
        self.participants += other.participants
        self.consultations += other.consultations
        self.trainees += other.trainees
        for material_id, quantity in other.materials.items():
            self.materials[material_id] += quantity

    def values(self, materials: list[Material]) -> list[int]:
        """The row's numbers in the table's column order."""
        return [
            *(self.kinds[kind] for kind in KINDS),
            self.activities,
            self.participants,
            self.consultations,
            self.trainees,
            *(self.materials.get(material.pk, 0) for material in materials),
        ]


@dataclass
class StatRow:
    """A line of the table. `kind`: "row" (a village or group), "own" (本级: held at the
    level above the rows), "subtotal" (a township's 小计) or "total" (合计)."""

    kind: str
    label: str
    figures: Figures
    township: str = ""  # the township a row or subtotal belongs to (county tables)
    node_id: int | None = None  # the village or group of a "row" (links on the page)


@dataclass
class CatalogueCount:
    label: str
    activities: int
    participants: int


@dataclass
class ActivityStatistics:
    node: Association
    period: Period
    row_level: str  # Level.VILLAGE or Level.GROUP: what the rows are
    show_township: bool  # a county's table: rows carry their township, with 小计 lines
    materials: list[Material]  # the material columns, in catalogue order
    lines: list[StatRow]  # rows, 本级 rows and 小计 lines, in order (the 合计 apart)
    total: Figures
    themes: list[CatalogueCount]
    themed_days: list[CatalogueCount]

    @property
    def rows(self) -> list[StatRow]:
        """The lines that add up to the total (rows and 本级 rows, not the 小计)."""
        return [line for line in self.lines if line.kind in ("row", "own")]


# --- the queries -----------------------------------------------------------------------------


def _in_period(node: Association, period: Period) -> dict:
    return {"date__range": (period.start, period.end), **under(node)}


def _row_keys(node: Association) -> tuple[str, ...]:
    """The ancestor keys a row is found by: (township, village) under a county, the village
    under a township, the group under a village; nothing under a group."""
    return {
        Level.COUNTY: ("township_id", "village_id"),
        Level.TOWNSHIP: ("village_id",),
        Level.VILLAGE: ("group_id",),
        Level.GROUP: (),
    }[node.level]


def activity_figures(*, node: Association, period: Period) -> dict[tuple, Figures]:
    """{row key: Figures without materials} in one query (conditional aggregation); the key
    is the tuple of `_row_keys` values (None where the activity sits above the row level)."""
    keys = _row_keys(node)
    rows = (
        Activity.objects.filter(**_in_period(node, period))
        .values(*keys, "county_id")
        .annotate(
            **{f"n_{kind}": Count("id", filter=Q(kind=kind)) for kind in KINDS},
            participants_sum=Sum("participants"),
            consultations_sum=Sum("consultations"),
            trainees_sum=Sum("trainees"),
        )
        .order_by()
    )
    result: dict[tuple, Figures] = {}
    for row in rows:
        result[tuple(row[key] for key in keys)] = Figures(
            kinds={kind: row[f"n_{kind}"] for kind in KINDS},
            participants=row["participants_sum"] or 0,
            consultations=row["consultations_sum"] or 0,
            trainees=row["trainees_sum"] or 0,
        )
    return result


def material_figures(*, node: Association, period: Period) -> dict[tuple, dict[int, int]]:
    """{row key: {material id: quantity}} in one query. A handout sits where its activity
    sits, so it carries the same ancestor keys."""
    keys = _row_keys(node)
    rows = (
        MaterialHandout.objects.filter(
            activity__date__range=(period.start, period.end), **under(node)
        )
        .values(*keys, "material_id")
        .annotate(quantity_sum=Sum("quantity"))
        .order_by()
    )
    result: dict[tuple, dict[int, int]] = defaultdict(dict)
    for row in rows:
        result[tuple(row[key] for key in keys)][row["material_id"]] = row["quantity_sum"]
    return result


def _per_catalogue(field_name: str, *, node: Association, period: Period) -> dict:
    """{theme or themed day id (None: none): (activities, participants)} in one query."""
    rows = (
        Activity.objects.filter(**_in_period(node, period))
        .values(field_name)
        .annotate(n=Count("id"), people=Sum("participants"))
        .order_by()
        .values_list(field_name, "n", "people")
    )
    return {key: (n, people or 0) for key, n, people in rows}


def theme_counts(*, node: Association, period: Period, themes: list[Theme]) -> list:
    """Activities and participants per theme: each active theme (and each retired one that
    has activities), then those with no theme."""
    counts = _per_catalogue("theme_id", node=node, period=period)
    lines = [
        CatalogueCount(theme.name, *counts.get(theme.pk, (0, 0)))
        for theme in themes
        if theme.is_active or theme.pk in counts
    ]
    lines.append(CatalogueCount(NO_THEME, *counts.get(None, (0, 0))))
    return lines


def themed_day_counts(*, node: Association, period: Period, days: list[ThemedDay]) -> list:
    """Activities and participants per themed day of the calendar (retired days only where
    they have activities); activities marking no themed day are left out."""
    counts = _per_catalogue("themed_day_id", node=node, period=period)
    return [
        CatalogueCount(f"{day.month}.{day.day} {day.name}", *counts.get(day.pk, (0, 0)))
        for day in days
        if day.is_active or day.pk in counts
    ]


# --- the table -------------------------------------------------------------------------------


def activity_statistics(*, node: Association, period: Period) -> ActivityStatistics:
    """The statistics table of the node for the period (see the module's docstring)."""
    figures = activity_figures(node=node, period=period)
    for key, quantities in material_figures(node=node, period=period).items():
        figures.setdefault(key, Figures()).materials.update(quantities)
    county_id = node.county_id
    used = {m for row in figures.values() for m, q in row.materials.items() if q}
    materials = [
        material
        for material in catalogues.materials(county_id=county_id, active_only=False)
        if material.is_active or material.pk in used
    ]
    lines = _lines(node, figures)
    total = Figures()
    for line in lines:
        if line.kind in ("row", "own"):
            total.add(line.figures)
    return ActivityStatistics(
        node=node,
        period=period,
        row_level=ROW_LEVEL[node.level],
        show_township=node.level == Level.COUNTY,
        materials=materials,
        lines=lines,
        total=total,
        themes=theme_counts(
            node=node,
            period=period,
            themes=catalogues.themes(county_id=county_id, active_only=False),
        ),
        themed_days=themed_day_counts(
            node=node,
            period=period,
            days=catalogues.themed_days(county_id=county_id, active_only=False),
        ),
    )


def _lines(node: Association, figures: dict[tuple, Figures]) -> list[StatRow]:
    def get(*key) -> Figures:
        return figures.get(key) or Figures()

    if node.level == Level.GROUP:
        return [StatRow("row", node.name, get(), node_id=node.pk)]
    row_level = ROW_LEVEL[node.level]
    children = list(
        Association.objects.filter(level=row_level, **under(node))
        .order_by("division_code")
        .values_list("id", "township_id", "name")
    )
    if node.level != Level.COUNTY:
        lines = [StatRow("row", name, get(pk), node_id=pk) for pk, _, name in children]
        return _with_own(lines, OWN_LABEL[node.level], get(None))
    townships = list(
        Association.objects.filter(level=Level.TOWNSHIP, **under(node))
        .order_by("division_code")
        .values_list("id", "name")
    )
    villages = defaultdict(list)
    for pk, township_id, name in children:
        villages[township_id].append((pk, name))
    lines = []
    for township_id, township in townships:
        section = [
            StatRow("row", name, get(township_id, pk), township=township, node_id=pk)
            for pk, name in villages[township_id]
        ]
        section = _with_own(section, OWN_LABEL[Level.TOWNSHIP], get(township_id, None), township)
        subtotal = Figures()
        for line in section:
            subtotal.add(line.figures)
        lines += [*section, StatRow("subtotal", "小计", subtotal, township=township)]
    return _with_own(lines, OWN_LABEL[Level.COUNTY], get(None, None))


def _with_own(lines: list, label: str, own: Figures, township: str = "") -> list:
    if own.is_empty:
        return lines
    return [*lines, StatRow("own", label, own, township=township)]
