"""A believable year of activities, attendance, materials and home visits for a seeded demo
county (`seed_activities`, called by associations.demo.seed_county once the members exist).
What is planned is described in activities.demo_plan.

Writing: the same path at both scales. Ids of the activities and visits are taken from the
sequences first, then every table is filled by COPY (associations.demo_copy, through a
staging table when row-level security applies to the role), the deferred foreign-key checks
run at once and the tables are analyzed. The large county (5,000 groups) gets about 60,000
activities, 300,000 attendance rows and 200,000 visits in seconds. History: at the demo scale
one change record per activity and per visit, as the services write; at the large scale one
summary record per village ("批量生成演示数据" with the counts)."""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from associations.demo_copy import allocate_ids, analyze, check_deferred_foreign_keys, copy_rows
from associations.history import build_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, CouncilPosition, CouncilSeat, Level
from associations.scope import current_scope
from households.models import Household
from members.models import GroupRole, Member, Pairing, SeatHolder

from . import catalogues
from .demo_plan import Place, PlannedMember, World, YearPlan
from .models import Activity, Attendance, HomeVisit, MaterialHandout
from .services import ACTIVITY_FIELDS, VISIT_FIELDS

PLACE = ["county_id", "township_id", "village_id", "group_id"]
ACTIVITY_COLUMNS = [
    "id",
    *PLACE,
    "association_id",
    "kind",
    "meeting_type",
    "service_type",
    "title",
    "date",
    "end_date",
    "place",
    "theme_id",
    "themed_day_id",
    "participants",
    "consultations",
    "trainees",
    "organiser",
    "summary",
    "external_ref",
    "created_at",
    "updated_at",
]
ATTENDANCE_COLUMNS = [*PLACE, "activity_id", "member_id"]
HANDOUT_COLUMNS = [*PLACE, "activity_id", "material_id", "quantity"]
VISIT_COLUMNS = [
    "id",
    *PLACE,
    "visitor_id",
    "household_id",
    "visited_on",
    "purpose",
    "notes",
    "follow_up_needed",
    "follow_up_done_on",
    "pairing_id",
    "external_ref",
    "created_at",
    "updated_at",
]
# Above this many groups, history is one summary record per village.
HISTORY_PER_ROW_GROUPS = 500


def _key(row) -> tuple:
    return (row["county_id"], row["township_id"], row["village_id"], row["group_id"])


def load_world(county: Association) -> World:
    """The tree, members, leaders, presidents, households and catalogues of the county, in
    a handful of queries."""
    nodes = list(
        Association.objects.filter(
            county_id=county.pk, level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GROUP]
        )
        .order_by("division_code")
        .values("id", "level", "name", "parent_id", *PLACE)
    )
    townships = [
        Place(n["id"], n["level"], n["name"], _key(n))
        for n in nodes
        if n["level"] == Level.TOWNSHIP
    ]
    villages = [
        Place(n["id"], n["level"], n["name"], _key(n)) for n in nodes if n["level"] == Level.VILLAGE
    ]
    groups: dict[int, list[Place]] = defaultdict(list)
    for n in nodes:
        if n["level"] == Level.GROUP:
            groups[n["parent_id"]].append(Place(n["id"], n["level"], n["name"], _key(n)))

    members: dict[int, PlannedMember] = {}
    by_group: dict[int, list[PlannedMember]] = defaultdict(list)
    by_village: dict[int, list[PlannedMember]] = defaultdict(list)
    rows = (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .order_by("id")
        .values_list("id", *PLACE, "joined_on", "person__name")
    )
    for member_id, c, t, v, g, joined_on, name in rows.iterator(chunk_size=10_000):
        member = PlannedMember(member_id, (c, t, v, g), joined_on, name)
        members[member_id] = member
        by_village[v].append(member)
        if g is not None:
            by_group[g].append(member)

    leaders = {
        group_id: members[member_id]
        for group_id, member_id in GroupRole.objects.filter(
            role=GroupRole.Role.LEADER, ends_on__isnull=True
        ).values_list("group_id", "member_id")
        if member_id in members
    }
    presidents = {
        village_id: members[member_id]
        for village_id, member_id in SeatHolder.objects.filter(
            seat__position=CouncilPosition.PRESIDENT,
            seat__council__association__level=Level.VILLAGE,
        )
        .order_by("seat__council__starts_on")
        .values_list("seat__council__association_id", "member_id")
        if member_id in members
    }
    council_size = dict(
        CouncilSeat.objects.filter(council__association__level=Level.VILLAGE)
        .values("council__association_id")
        .annotate(n=Count("id"))
        .values_list("council__association_id", "n")
    )
    households: dict[int, list[int]] = defaultdict(list)
    for household_id, group_id in (
        Household.objects.filter(group__isnull=False).order_by("id").values_list("id", "group_id")
    ):
        households[group_id].append(household_id)
    pairings: dict[tuple[int, int], list] = defaultdict(list)
    for pairing_id, member_id, household_id, starts_on, ends_on in Pairing.objects.values_list(
        "id", "member_id", "household_id", "starts_on", "ends_on"
    ):
        pairings[(member_id, household_id)].append((starts_on, ends_on, pairing_id))
    return World(
        townships=townships,
        villages=villages,
        groups=groups,
        members=by_group,
        village_members=by_village,
        leaders=leaders,
        presidents=presidents,
        council_size=council_size,
        households=households,
        themes={t.name: t.pk for t in catalogues.themes(county_id=county.pk)},
        themed_days=[
            (d.pk, d.month, d.day, d.name) for d in catalogues.themed_days(county_id=county.pk)
        ],
        materials={(m.name, m.unit): m.pk for m in catalogues.materials(county_id=county.pk)},
        pairings=pairings,
    )


def seed_activities(
    *,
    county: Association,
    rng: random.Random,
    today: datetime.date | None = None,
    history_per_row: bool | None = None,
) -> dict | None:
    """A year of the county's activities and visits up to `today`; returns the counts and
    the seconds each phase took. A county that already has activities is left alone (None).
    Runs inside the county's scope, after the members exist."""
    active = current_scope()
    if active is None or active.county_id != county.pk:
        raise RuntimeError("seed_activities runs inside the county's scope.")
    if Activity.objects.filter(county_id=county.pk).exists():
        return None
    today = today or timezone.localdate()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = round(now - clock, 2)
        clock = now

    with transaction.atomic():
        world = load_world(county)
        lap("load")
        plan = YearPlan(world, rng, today).build()
        lap("plan")
        for activity, pk in zip(
            plan.activities,
            allocate_ids(Activity._meta.db_table, len(plan.activities)),
            strict=True,
        ):
            activity.id = pk
        for visit, pk in zip(
            plan.visits, allocate_ids(HomeVisit._meta.db_table, len(plan.visits)), strict=True
        ):
            visit.id = pk
        lap("allocate_ids")
        now = timezone.now()
        counts = {
            "activities": copy_rows(Activity, ACTIVITY_COLUMNS, _activity_rows(plan, now)),
            "attendance": copy_rows(Attendance, ATTENDANCE_COLUMNS, _attendance_rows(plan)),
            "handouts": copy_rows(MaterialHandout, HANDOUT_COLUMNS, _handout_rows(plan)),
            "visits": copy_rows(HomeVisit, VISIT_COLUMNS, _visit_rows(plan, now)),
        }
        lap("copy")
        check_deferred_foreign_keys(Activity, Attendance, MaterialHandout, HomeVisit)
        lap("foreign_key_checks")
        if history_per_row is None:
            history_per_row = sum(map(len, world.groups.values())) <= HISTORY_PER_ROW_GROUPS
        counts["change_records"] = _record_history(plan, world, history_per_row)
        lap("change_records")
        analyze(Activity, Attendance, MaterialHandout, HomeVisit)
        lap("analyze")
    counts["timings"] = timings
    counts["seconds"] = round(sum(timings.values()), 2)
    return counts


def _activity_rows(plan: YearPlan, now):
    for a in plan.activities:
        yield (
            a.id,
            *a.place.key,
            a.place.id,
            a.kind,
            a.meeting_type,
            a.service_type,
            a.title,
            a.date,
            a.end_date,
            a.venue,
            a.theme_id,
            a.themed_day_id,
            a.participants,
            a.consultations,
            a.trainees,
            a.organiser,
            a.summary,
            "",
            now,
            now,
        )


def _attendance_rows(plan: YearPlan):
    for a in plan.activities:
        key = a.place.key
        for member_id in a.attendees:
            yield (*key, a.id, member_id)


def _handout_rows(plan: YearPlan):
    for a in plan.activities:
        key = a.place.key
        for material_id, quantity in a.handouts:
            yield (*key, a.id, material_id, quantity)


def _visit_rows(plan: YearPlan, now):
    for v in plan.visits:
        yield (
            v.id,
            *v.visitor.key,
            v.visitor.id,
            v.household_id,
            v.visited_on,
            v.purpose,
            v.notes,
            v.follow_up_needed,
            v.follow_up_done_on,
            v.pairing_id,
            "",
            now,
            now,
        )


def _record_history(plan: YearPlan, world: World, per_row: bool) -> int:
    nodes = {p.id: p for p in world.townships + world.villages}
    nodes.update({g.id: g for gs in world.groups.values() for g in gs})
    if per_row:
        numbers = dict(Household.objects.values_list("id", "number"))
        records = []
        for a in plan.activities:
            activity = Activity(
                id=a.id,
                association_id=a.place.id,
                kind=a.kind,
                meeting_type=a.meeting_type,
                service_type=a.service_type,
                title=a.title,
                date=a.date,
                end_date=a.end_date,
                place=a.venue,
                theme_id=a.theme_id,
                themed_day_id=a.themed_day_id,
                participants=a.participants,
                consultations=a.consultations,
                trainees=a.trainees,
                organiser=a.organiser,
                summary=a.summary,
            )
            records.append(_created(_node(a.place), activity, ACTIVITY_FIELDS))
        for v in plan.visits:
            visit = HomeVisit(
                id=v.id,
                visitor_id=v.visitor.id,
                household=Household(pk=v.household_id, number=numbers[v.household_id]),
                visited_on=v.visited_on,
                purpose=v.purpose,
                notes=v.notes,
                follow_up_needed=v.follow_up_needed,
                follow_up_done_on=v.follow_up_done_on,
                pairing_id=v.pairing_id,
            )
            place = nodes[v.visitor.key[3] or v.visitor.key[2]]
            records.append(_created(_node(place), visit, VISIT_FIELDS))
        record_changes(records)
        return len(records)
    activities: Counter[int] = Counter()
    attendance: Counter[int] = Counter()
    visits: Counter[int] = Counter()
    for a in plan.activities:
        village_id = a.place.key[2] or a.place.key[1]  # township activities: the township
        activities[village_id] += 1
        attendance[village_id] += len(a.attendees)
    for v in plan.visits:
        visits[v.visitor.key[2]] += 1
    records = []
    for node_id in sorted(set(activities) | set(visits)):
        record = build_change(
            actor=None,
            node=_node(nodes[node_id]),
            obj=_node(nodes[node_id]),
            action=ChangeRecord.Action.CREATE,
            before=None,
            after={
                "activities": activities[node_id],
                "attendance": attendance[node_id],
                "visits": visits[node_id],
            },
        )
        record.object_type, record.object_id = Activity._meta.label, 0
        record.object_label = "批量生成演示数据"
        records.append(record)
    record_changes(records)
    return len(records)


def _node(place: Place) -> Association:
    """An Association standing for the place, enough for a change record (no query)."""
    county_id, township_id, village_id, group_id = place.key
    return Association(
        id=place.id,
        level=place.level,
        name=place.name,
        county_id=county_id,
        township_id=township_id,
        village_id=village_id,
        group_id=group_id,
    )


def _created(node: Association, obj, fields) -> ChangeRecord:
    return build_change(
        actor=None,
        node=node,
        obj=obj,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(obj, fields),
    )
