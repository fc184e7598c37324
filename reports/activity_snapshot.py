"""The period's activity statistics kept in a run's snapshot (SnapshotNode.activity_figures),
so that sheet 3 (活动统计表) prints them as they were when the run was built, never
recomputed. Set-based: the whole county in a fixed handful of queries whatever the number of
villages (the activities grouped by township, village, kind, theme and themed day in one
query, activities.statistics' materials once for the county, and the three catalogues),
split by village here.

What a row holds (the same counting rules as activities.statistics: an activity counts in the
period its start date falls in, once; one held above the village sits on its township's or
the county's 本级):

    village   {"kinds": {kind: n}, "activities", "participants", "consultations", "trainees",
               "materials": {material id: quantity}, "themes": {theme id | "none": n},
               "themed_days": {themed day id: n}}
    township  {"own": <figures of 乡镇本级>, "total": <its villages and 本级 summed>}
    county    {"own": <figures of 县本级>, "total": <everything>, "catalogue": {"kinds":
               [[key, label]], "themes": [[id, name]], "themed_days": [[id, label]],
               "materials": [[id, name, unit]]}}

The catalogue lists the active entries and the retired ones that have figures in the period,
with their names of the day: the sheet's columns are these, whatever the catalogues become."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Sum

from activities.models import Activity, Material, Theme, ThemedDay
from activities.statistics import KINDS, material_figures
from associations.models import Association, Level
from associations.periods import Period

NO_THEME = "none"
NO_THEME_LABEL = "未设主题"


def empty() -> dict:
    return {
        "kinds": {str(kind): 0 for kind in KINDS},
        "activities": 0,
        "participants": 0,
        "consultations": 0,
        "trainees": 0,
        "materials": {},
        "themes": {},
        "themed_days": {},
    }


def add(into: dict, other: dict) -> dict:
    """Add `other`'s figures into `into` (both in the row format above); returns `into`."""
    for kind, n in other["kinds"].items():
        into["kinds"][kind] = into["kinds"].get(kind, 0) + n
    for name in ("activities", "participants", "consultations", "trainees"):
        into[name] += other[name]
    for part in ("materials", "themes", "themed_days"):
        for key, n in other[part].items():
            into[part][key] = into[part].get(key, 0) + n
    return into


ACTIVITY_ROW = (
    "township_id", "village_id", "kind", "theme_id", "themed_day_id", "n",
    "participants_sum", "consultations_sum", "trainees_sum",
)  # fmt: skip


def _activity_rows(county: Association, period: Period):
    """(township id, village id, kind, theme id, themed day id, activities, participants,
    consultations, trainees) of the period, in one query: the kinds, themes and themed days
    of every row at once (activities.statistics counts them the same way, a query each)."""
    return (
        Activity.objects.filter(county_id=county.pk, date__range=(period.start, period.end))
        .values("township_id", "village_id", "kind", "theme_id", "themed_day_id")
        .annotate(
            n=Count("id"),
            participants_sum=Sum("participants"),
            consultations_sum=Sum("consultations"),
            trainees_sum=Sum("trainees"),
        )
        .order_by()
        .values_list(*ACTIVITY_ROW)
    )


def _catalogue(county: Association, used: dict) -> dict:
    def keep(rows, part):
        return [row for row in rows if row.is_active or row.pk in used[part]]

    themes = keep(Theme.objects.filter(county_id=county.pk).order_by("id"), "themes")
    days = keep(
        ThemedDay.objects.filter(county_id=county.pk).order_by("month", "day", "id"),
        "themed_days",
    )
    materials = keep(Material.objects.filter(county_id=county.pk).order_by("id"), "materials")
    return {
        "kinds": [[str(kind), kind.label] for kind in KINDS],
        "themes": [[t.pk, t.name] for t in themes],
        "themed_days": [[d.pk, f"{d.month}.{d.day} {d.name}"] for d in days],
        "materials": [[m.pk, m.name, m.unit] for m in materials],
    }


def county_activity_figures(county: Association, period: Period) -> dict:
    """{"villages": {village id: figures}, "townships": {township id: own figures},
    "county": own figures, "catalogue": {...}}: keys as in the module's docstring."""
    by_key: dict[tuple, dict] = defaultdict(empty)
    used: dict[str, set] = {"themes": set(), "themed_days": set(), "materials": set()}
    kinds = {str(kind) for kind in KINDS}
    for township_id, village_id, kind, theme, day, n, people, consulted, trained in _activity_rows(
        county, period
    ):
        row = by_key[(township_id, village_id)]
        if kind in kinds:
            row["kinds"][kind] += n
            row["activities"] += n
        row["participants"] += people or 0
        row["consultations"] += consulted or 0
        row["trainees"] += trained or 0
        theme_key = NO_THEME if theme is None else str(theme)
        row["themes"][theme_key] = row["themes"].get(theme_key, 0) + n
        if theme is not None:
            used["themes"].add(theme)
        if day:
            row["themed_days"][str(day)] = row["themed_days"].get(str(day), 0) + n
        if day is not None:
            used["themed_days"].add(day)
    for key, quantities in material_figures(node=county, period=period).items():
        by_key[key]["materials"] = {str(m): q for m, q in quantities.items()}
        used["materials"] |= {m for m, q in quantities.items() if q}
    villages, townships = {}, {}
    for (township_id, village_id), figures in by_key.items():
        if village_id is not None:
            villages[village_id] = figures
        elif township_id is not None:
            townships[township_id] = figures
    return {
        "villages": villages,
        "townships": townships,
        "county": by_key.get((None, None), empty()),
        "catalogue": _catalogue(county, used),
    }


def attach(rows: list, county: Association, period: Period) -> None:
    """Fill `activity_figures` of the snapshot rows (associations.bulk Rows, not saved) of a
    county's run: villages', townships' (own and total) and the county's (own, total and
    catalogue). Groups' rows are left empty (their activities are on their village's)."""
    found = county_activity_figures(county, period)
    township_totals: dict[int, dict] = {}
    for row in rows:
        if row.level == Level.VILLAGE:
            row.activity_figures = found["villages"].get(row.node_id_at) or empty()
            total = township_totals.setdefault(row.township_node_id, empty())
            add(total, row.activity_figures)
    county_total = empty()
    for row in rows:
        if row.level == Level.TOWNSHIP:
            own = found["townships"].get(row.node_id_at) or empty()
            total = add(township_totals.get(row.node_id_at) or empty(), own)
            row.activity_figures = {"own": own, "total": total}
            add(county_total, total)
    # villages whose township the snapshot has no row of (none in a well-formed county)
    known = {row.node_id_at for row in rows if row.level == Level.TOWNSHIP}
    for township_id, total in township_totals.items():
        if township_id not in known:
            add(county_total, total)
    for row in rows:
        if row.level == Level.COUNTY:
            own = found["county"]
            row.activity_figures = {
                "own": own,
                "total": add(county_total, own),
                "catalogue": found["catalogue"],
            }
