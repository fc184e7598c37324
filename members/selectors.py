"""Scoped reads of the members app."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from associations.models import Association
from households import selectors as household_selectors

from .filters import MemberFilter
from .models import ContactHousehold, GroupRole, Member, VolunteerTeam

# Village and group by id (ids follow the division codes they were created with; members of no
# group come after the groups), then 会员证号; id breaks ties, so pages never overlap.
MEMBER_LIST_ORDER = ("village_id", "group_id", "member_number", "id")
# What the list page and API show of the person (the member's own columns all); the names of
# the member's association and group come as `association_name` and `group_name`. Loading the
# person's and both associations' whole rows as model instances was a fifth of a list request.
MEMBER_LIST_COLUMNS = (
    *(field.name for field in Member._meta.concrete_fields if field.name != "created_at"),
    "person__name",
    "person__id_number",
    "person__sex",
    "person__birth_date",
)


def member_list(*, actor, filters: dict | None = None) -> QuerySet[Member]:
    # Ordered by keys of the member row itself (village, then group, then 会员证号), like the
    # person list: the member_*_order indexes serve a page without sorting the scope, where
    # ordering by the joined division codes sorted every member of the county.
    queryset = (
        Member.objects.select_related("person")
        .only(*MEMBER_LIST_COLUMNS)
        .annotate(association_name=F("association__name"), group_name=F("group__name"))
        .order_by(*MEMBER_LIST_ORDER)
    )
    if filters is not None:
        queryset = MemberFilter(filters, queryset=queryset).qs
    return queryset


def member_get(*, actor, pk) -> Member:
    return get_object_or_404(
        Member.objects.select_related("person__household", "association", "group").prefetch_related(
            Prefetch("group_roles", queryset=GroupRole.objects.order_by("-starts_on")),
            Prefetch(
                "contacts",
                queryset=ContactHousehold.objects.select_related("household__head"),
            ),
            "pairings__household",
            "commendations",
        ),
        pk=pk,
    )


@dataclass
class GroupSheet:
    """What a member group's page shows: its members, leader, contact heads and the
    households its members liaise with."""

    group: Association
    members: list[Member]
    leader: GroupRole | None
    contact_heads: list[GroupRole]
    contacts: list[ContactHousehold]


def group_sheet(*, group: Association) -> GroupSheet:
    members = list(
        Member.objects.filter(group=group, status=Member.Status.ACTIVE)
        .select_related("person")
        .order_by("member_number")
    )
    roles = list(
        GroupRole.objects.filter(group=group, ends_on__isnull=True)
        .select_related("member__person")
        .order_by("starts_on")
    )
    contacts = list(
        ContactHousehold.objects.filter(member__group=group, member__status=Member.Status.ACTIVE)
        .select_related("member__person", "household__head")
        .order_by("member__member_number", "household__number")
    )
    return GroupSheet(
        group=group,
        members=members,
        leader=next((r for r in roles if r.role == GroupRole.Role.LEADER), None),
        contact_heads=[r for r in roles if r.role == GroupRole.Role.CONTACT_HEAD],
        contacts=contacts,
    )


@dataclass
class MembershipRatio:
    """Active members ÷ 常住人口 under a node, today.

    The denominator is 常住人口 (户籍常住 + 流入), not 户籍人口 (户籍常住 + 流出): the target
    "会员总数达到总人口的10%以上" (seed 001) measures how far the association reaches the
    people it works among, and those are the people who live here: 流入 residents join the
    local association, while 流出 persons live elsewhere and are served there. A region's
    总人口 in the statistics bureau's figures is likewise given on the 常住人口 basis. The
    numerator is every active member, wherever they live now (the association's own roll)."""

    members: int
    population: int  # 常住人口
    counted_at: datetime.datetime | None = None  # set when the ratio is kept for a while

    @property
    def ratio(self) -> float | None:
        return self.members / self.population if self.population else None

    def text(self) -> str:
        """ "会员占常住人口 10.4%" (seed 001 asks for 10% or more)."""
        if self.ratio is None:
            return "会员占常住人口 —"
        return f"会员占常住人口 {self.ratio * 100:.1f}%"


def membership_ratio(*, node: Association) -> MembershipRatio:
    """One query each: the active members and the 常住人口 under the node."""
    under = {f"{node.level}_id": node.pk}
    today = timezone.localdate()
    members = Member.objects.filter(status=Member.Status.ACTIVE, **under).count()
    population = household_selectors.resident_population(node=node, on=today)
    return MembershipRatio(members=members, population=population)


def members_by_village(*, node: Association, on: datetime.date) -> dict[int, int]:
    """{village id: members on the roll on the day} under the node, in one query: joined on or
    before the day and not left by it (a member who left on the day no longer counts). The
    numerator of the assessment's membership ratio for a past period."""
    on_roll = Q(joined_on__lte=on) & (
        Q(left_on__gt=on) | Q(left_on__isnull=True, status=Member.Status.ACTIVE)
    )
    rows = (
        Member.objects.filter(on_roll, **{f"{node.level}_id": node.pk})
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("village_id", "n")
    )
    return dict(rows)


def members_joined_by_village(
    *, node: Association, start: datetime.date, end: datetime.date
) -> dict[int, int]:
    """{village id: members who joined between the two days, both included} under the node, in
    one query: the 新发展会员 of a period (whether or not they have left since)."""
    rows = (
        Member.objects.filter(joined_on__range=(start, end), **{f"{node.level}_id": node.pk})
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("village_id", "n")
    )
    return dict(rows)


RECENT_RATIO_SECONDS = 300


def membership_ratio_recent(*, node: Association) -> MembershipRatio:
    """The node's membership ratio as counted at most RECENT_RATIO_SECONDS ago, with the time
    it was counted, for the member list: counting the population reads every person under the
    node (a third of a second for a county of 500,000), and a list is opened many times a
    minute. The node page and the figures count afresh."""
    key = f"membership-ratio:{node.pk}"
    ratio = cache.get(key)
    if ratio is None:
        ratio = membership_ratio(node=node)
        ratio.counted_at = timezone.now()
        cache.set(key, ratio, RECENT_RATIO_SECONDS)
    return ratio


def volunteer_teams(*, node: Association) -> QuerySet[VolunteerTeam]:
    return (
        VolunteerTeam.objects.filter(**{f"{node.level}_id": node.pk})
        .annotate(size=Count("memberships"))
        .order_by("parent_id", "name")
    )
