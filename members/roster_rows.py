"""The rows of the printable rosters (花名册), in print order, as `(owner, section, values)`
for `associations.sheets.write_sections`: the owner is whose sheet a row goes on (a village
in a township's or the county's roster, else the roster's node), the section its member
group with the group's heading.

Queries: one per roster body, streamed with `.iterator(chunk_size=2000)` and joined with
select_related (member rows as plain tuples: a 50,000-row roster makes no model objects),
plus a fixed handful of lookups; never one per row.

Personal data: ID numbers and phones are masked (households.identity) unless the context
carries `full_identity`, which the export request only sets for a role that
`sees_full_identity` and asked."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef
from django.db.models.functions import Coalesce

from associations.models import Association, Council, CouncilSeat, Level
from associations.selectors import current_council
from associations.sheets import Section, SheetBook
from households import masking
from households.categories import age_shown
from households.models import ETHNICITIES, Sex

from .models import (
    ContactHousehold,
    ElderKind,
    GroupRole,
    Member,
    MemberCategory,
    SeatHolder,
    VolunteerMembership,
)

CHUNK = 2000
SEX_LABELS = dict(Sex.choices)
ETHNICITY_LABELS = dict(ETHNICITIES)
CATEGORY_LABELS = dict(MemberCategory.choices)
ELDER_KIND_LABELS = dict(ElderKind.choices)
NO_GROUP = "未编入小组"

RosterRow = tuple[Association, Section | None, list]


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def age_text(birth: datetime.date | None, today: datetime.date) -> int | str:
    age = age_shown(birth, today)
    return "" if age is None else age


def by_village_sheets(node: Association) -> bool:
    """A township's or the county's roster is a stack of village rosters, a sheet each."""
    return node.level in (Level.COUNTY, Level.TOWNSHIP)


@dataclass
class RosterContext:
    node: Association
    full_identity: bool
    today: datetime.date
    book: SheetBook
    made_by: str = ""
    roster: object = None  # the Roster being written (members.rosters)
    looked_up: dict = field(default_factory=dict)  # lookups the rows and the texts share
    shown_in_full: set = field(default_factory=set)  # ID numbers written in full (the read log)

    def id_number(self, value: str | None) -> str:
        """Through the one masking policy: full only when asked by a role that may (the
        export request sets `full_identity` only then), and then recorded."""
        if not value:
            return ""
        if self.full_identity:
            self.shown_in_full.add(value)
        return masking.id_number_for(None, value) if not self.full_identity else value

    def phone(self, value: str | None) -> str:
        if not value:
            return ""
        return masking.phone_for(None, value) if not self.full_identity else value

    @property
    def under(self) -> dict:
        return {f"{self.node.level}_id": self.node.pk}


def _under(node: Association) -> dict:
    return {f"{node.level}_id": node.pk}


# --- 理事会成员花名册 -----------------------------------------------------------------------


def council_count(node: Association) -> int:
    council = Council.objects.filter(association=node).order_by("-term_number").first()
    return CouncilSeat.objects.filter(council=council).count() if council else 0


def _council(context: RosterContext) -> Council | None:
    if "council" not in context.looked_up:
        context.looked_up["council"] = current_council(association=context.node)
    return context.looked_up["council"]


def council_rows(context: RosterContext) -> Iterator[RosterRow]:
    """The association's current council, seats in order of office; a seat held by a member
    (members.SeatHolder) shows that member's sex, age and phone."""
    node = context.node
    council = _council(context)
    if council is None:
        return
    holders = {
        h.seat_id: h.member.person
        for h in SeatHolder.objects.filter(seat__council=council).select_related("member__person")
    }
    section = Section(
        council.pk,
        f"第 {council.term_number} 届理事会,任期 {chinese_date(council.starts_on)} 至 "
        f"{chinese_date(council.ends_on)}",
    )
    for seat in council.seats.all():
        person = holders.get(seat.pk)
        yield (
            node,
            section,
            [
                0,  # 序号, numbered per sheet by the writer
                seat.get_position_display(),
                seat.person_name,
                SEX_LABELS.get(person.sex, "") if person else "",
                age_text(person.birth_date, context.today) if person else "",
                seat.get_background_display(),
                context.phone(person.phone) if person else "",
                seat.note,
            ],
        )


def council_empty(context: RosterContext) -> str:
    if _council(context) is None:
        return "尚未登记理事会。"
    return "本届理事会尚未登记成员。"


# --- 会员花名册 -------------------------------------------------------------------------------


def _active_members(context: RosterContext):
    return Member.objects.filter(status=Member.Status.ACTIVE, **context.under)


def member_count(node: Association) -> int:
    return Member.objects.filter(status=Member.Status.ACTIVE, **_under(node)).count()


def _categories_text(categories: list[str], elder_kind: str) -> str:
    labels = []
    for category in categories:
        label = CATEGORY_LABELS.get(category, category)
        if category == MemberCategory.ELDER and elder_kind:
            label = f"{label}({ELDER_KIND_LABELS.get(elder_kind, elder_kind)})"
        labels.append(label)
    return "、".join(labels)


def _group_facts(context: RosterContext, queryset) -> tuple[dict, dict]:
    """Members per group and each group's current leader: two queries for the whole roster."""
    sizes = {
        (row["village_id"], row["group_id"]): row["n"]
        for row in queryset.order_by().values("village_id", "group_id").annotate(n=Count("id"))
    }
    leaders = {
        group_id: name
        for group_id, name in GroupRole.objects.filter(
            role=GroupRole.Role.LEADER, ends_on__isnull=True, **context.under
        ).values_list("group_id", "member__person__name")
    }
    return sizes, leaders


def _roster_villages(context: RosterContext) -> dict[int, Association]:
    """The villages a roster's rows can belong to, by id: the sheets' owners and titles."""
    node = context.node
    if node.level == Level.GROUP:
        # The village is above a group leader's scope, where the scoped manager finds
        # nothing; the group's own ancestor key names it, as its breadcrumbs do.
        return {node.village_id: node.village}
    villages = Association.objects.filter(level=Level.VILLAGE, **context.under)
    return {v.pk: v for v in villages.only("name", "level", "parent_id")}


class _Owners:
    """Whose sheet a row of a village goes on, and the group section it opens."""

    def __init__(self, context: RosterContext, *, look_up_villages: bool):
        self.node = context.node
        self.per_village = by_village_sheets(context.node)
        wanted = self.per_village and look_up_villages
        self.villages = _roster_villages(context) if wanted else {}
        self.section: Section | None = None

    def owner(self, village_id: int) -> Association:
        return self.villages[village_id] if self.per_village else self.node

    def section_of(self, village_id, group_id, heading, *facts) -> Section:
        """The current section, or a new one where the group changes (its heading made once,
        `heading(*facts)`)."""
        key = (village_id, group_id)
        if self.section is None or self.section.key != key:
            self.section = Section(key, heading(*facts))
        return self.section


MEMBER_ROW_FIELDS = [
    "village_id",
    "group_id",
    "group__name",
    "member_number",
    "person__name",
    "person__sex",
    "person__birth_date",
    "person__ethnicity",
    "person__id_number",
    "person__phone",
    "categories",
    "elder_kind",
    "is_backbone",
    "joined_on",
]


def member_rows(context: RosterContext) -> Iterator[RosterRow]:
    """Active members by village, group and member number; each group under a heading with
    its leader and size."""
    queryset = _active_members(context)
    sizes, leaders = _group_facts(context, queryset)
    owners = _Owners(context, look_up_villages=True)

    def heading(village_id, group_id, group_name):
        leader = leaders.get(group_id) if group_id else None
        parts = [group_name]
        if leader:
            parts.append(f"组长:{leader}")
        parts.append(f"共 {sizes.get((village_id, group_id), 0)} 人")
        return "    ".join(parts)

    rows = queryset.order_by(
        "village__division_code",
        F("group__division_code").asc(nulls_last=True),
        "member_number",
        "id",
    ).values_list(*MEMBER_ROW_FIELDS)
    for (
        village_id,
        group_id,
        group_name,
        number,
        name,
        sex,
        birth_date,
        ethnicity,
        id_number,
        phone,
        categories,
        elder_kind,
        is_backbone,
        joined_on,
    ) in rows.iterator(chunk_size=CHUNK):
        group_name = group_name if group_id else NO_GROUP
        section = owners.section_of(village_id, group_id, heading, village_id, group_id, group_name)
        yield (
            owners.owner(village_id),
            section,
            [
                0,
                number,
                name,
                SEX_LABELS.get(sex, ""),
                birth_date,
                ETHNICITY_LABELS.get(ethnicity, ""),
                context.id_number(id_number),
                context.phone(phone),
                _categories_text(categories, elder_kind),
                "是" if is_backbone else "",
                joined_on,
                group_name,
            ],
        )


# --- 会员联系户花名册 -------------------------------------------------------------------------


def _contacts(node: Association):
    return ContactHousehold.objects.filter(member__status=Member.Status.ACTIVE, **_under(node))


def contact_count(node: Association) -> int:
    return _contacts(node).count()


def contact_rows(context: RosterContext) -> Iterator[RosterRow]:
    """Per member group: each contact-household head (联系户长) first, then the other members,
    and the households each of them liaises with."""
    is_head = GroupRole.objects.filter(
        member=OuterRef("member_id"), role=GroupRole.Role.CONTACT_HEAD, ends_on__isnull=True
    )
    links = (
        _contacts(context.node)
        .annotate(is_head=Exists(is_head))
        .select_related("member__person", "member__group", "member__village", "household__head")
        .only(
            "member__member_number",
            "member__person__name",
            "member__group__name",
            "member__village__name",
            "member__village__level",
            "member__village__parent_id",
            "household__number",
            "household__address",
            "household__phone",
            "household__head__name",
            "household__head__phone",
        )
        .order_by(
            "member__village__division_code",
            F("member__group__division_code").asc(nulls_last=True),
            F("is_head").desc(),
            "member__member_number",
            "household__number",
            "id",
        )
    )
    owners = _Owners(context, look_up_villages=False)  # each link brings its village
    for link in links.iterator(chunk_size=CHUNK):
        member, household = link.member, link.household
        head = household.head
        group_name = member.group.name if member.group_id else NO_GROUP
        section = owners.section_of(member.village_id, member.group_id, str, group_name)
        yield (
            member.village if owners.per_village else context.node,
            section,
            [
                0,
                member.person.name,
                "联系户长" if link.is_head else "会员",
                household.number,
                head.name if head else "",
                household.address,
                context.phone(household.phone or (head.phone if head else "")),
            ],
        )


# --- 志愿者花名册 -----------------------------------------------------------------------------


def _volunteers(node: Association):
    return VolunteerMembership.objects.filter(member__status=Member.Status.ACTIVE, **_under(node))


def volunteer_count(node: Association) -> int:
    return _volunteers(node).count()


def volunteer_rows(context: RosterContext) -> Iterator[RosterRow]:
    """Members of the volunteer teams (服务队) and their sub-teams (分队), team by team."""
    rows = (
        _volunteers(context.node)
        .select_related("team__parent", "member__person")
        .only(
            "team__name",
            "team__service",
            "team__parent__name",
            "member__person__name",
            "member__person__sex",
            "member__person__birth_date",
            "member__person__phone",
        )
        .order_by(
            Coalesce("team__parent__name", "team__name"),
            F("team__parent_id").asc(nulls_first=True),
            "team__name",
            "member__member_number",
            "id",
        )
    )
    for link in rows.iterator(chunk_size=CHUNK):
        team, person = link.team, link.member.person
        parent = team.parent
        yield (
            context.node,
            None,
            [
                0,
                parent.name if parent else team.name,
                team.name if parent else "",
                person.name,
                SEX_LABELS.get(person.sex, ""),
                age_text(person.birth_date, context.today),
                context.phone(person.phone),
                team.get_service_display(),
            ],
        )
