"""Scoped reads of the households app."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from associations.models import Association

from .figures import FiguresTable, Period, figures, resident_on, under
from .filters import HouseholdFilter, PersonFilter, search_q
from .models import (
    AssistanceRecord,
    HardshipAssessment,
    Household,
    HouseholdAttachment,
    Person,
    Relocation,
)


def person_list(*, actor, filters: dict | None = None) -> QuerySet[Person]:
    # Ordered by keys of the person row itself, so that index person_list_order serves the
    # first page without sorting the county (village ids follow division codes in practice).
    queryset = Person.objects.select_related("household", "village", "group").order_by(
        "village_id", "household_id", "birth_date", "id"
    )
    if filters is not None:
        queryset = PersonFilter(filters, queryset=queryset).qs
    return queryset


def person_search(*, actor, queryset: QuerySet[Person], text: str) -> QuerySet[Person]:
    """A picker's search among `queryset` (already narrowed to a place): the persons list's
    search (name or pinyin initials by prefix, household number, full ID number, phone).
    ID numbers are encrypted at rest: matched whole, through their blind index, never by
    their last digits."""
    text = text.strip()
    if not text:
        return queryset.none()
    query = search_q(text, household_prefix="household__")
    return queryset.filter(query).order_by("name_initials", "name", "id")


def person_rows(*, actor) -> QuerySet[Person]:
    """The person list as the API's rows read it (households.api.serializers.PersonSerializer):
    the household's number and the village's and group's names annotated, not three joined
    model instances per person."""
    return (
        person_list(actor=actor)
        .select_related(None)
        .annotate(
            household_number=F("household__number"),
            village_name=F("village__name"),
            group_name=F("group__name"),
        )
    )


def person_get(*, actor, pk) -> Person:
    return get_object_or_404(
        Person.objects.select_related("household", "village", "group", "mother"), pk=pk
    )


def household_list(*, actor, filters: dict | None = None) -> QuerySet[Household]:
    queryset = Household.objects.select_related("head", "village", "group").order_by(
        "village_id", "number"
    )
    if filters is not None:
        queryset = HouseholdFilter(filters, queryset=queryset).qs
    return queryset


def household_rows(*, actor) -> QuerySet[Household]:
    """The household list as the API's rows read it (HouseholdSerializer): the head's,
    village's and group's names annotated, not three joined model instances per household."""
    return (
        household_list(actor=actor)
        .select_related(None)
        .annotate(
            head_name=F("head__name"), village_name=F("village__name"), group_name=F("group__name")
        )
    )


def household_get(*, actor, pk) -> Household:
    members = Person.objects.order_by("birth_date", "id")
    return get_object_or_404(
        Household.objects.select_related("head", "village", "group").prefetch_related(
            Prefetch("members", queryset=members),
            Prefetch("hardship", queryset=HardshipAssessment.objects.order_by("-year")),
            Prefetch("assistance", queryset=AssistanceRecord.objects.order_by("-given_on", "-id")),
            Prefetch("relocations", queryset=Relocation.objects.select_related("from_village")),
        ),
        pk=pk,
    )


def node_figures(*, node: Association, period: Period) -> FiguresTable:
    return figures(node=node, period=period)


def resident_population(*, node: Association, on: datetime.date) -> int:
    """常住人口 (户籍常住 + 流入, alive on the day) under the node: the figures table's column
    of that name, and the denominator of the membership ratio."""
    return Person.objects.filter(under(node), resident_on(on)).count()


def resident_population_by_village(*, node: Association, on: datetime.date) -> dict[int, int]:
    """{village id: 常住人口 on the day} for every village under the node with anyone living
    there, in one query: `resident_population` for a whole county at once (the assessment's
    membership ratio)."""
    rows = (
        Person.objects.filter(under(node), resident_on(on))
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("village_id", "n")
    )
    return dict(rows)


@dataclass
class HardshipRoster:
    year: int
    entries: QuerySet[HardshipAssessment]  # by village, then household number: page it
    new_this_year: int
    exited_this_year: int
    total: int


def hardship_roster(*, node: Association, year: int) -> HardshipRoster:
    """This year's roster under the node, with "new this year / exited this year / total"
    (seed 004: 新增 8 户、退出 6 户、现有 180 户) counted by the database. The entries are a
    queryset for the page to paginate: a county's roster runs to thousands of households."""
    under = {f"{node.level}_id": node.pk}
    this_year = HardshipAssessment.objects.filter(year=year, **under)
    in_roster = Q(status=HardshipAssessment.Status.IN_ROSTER)
    in_roster_last_year = HardshipAssessment.objects.filter(
        in_roster, year=year - 1, **under
    ).values("household_id")
    counts = this_year.aggregate(
        total=Count("pk", filter=in_roster),
        exited=Count("pk", filter=Q(status=HardshipAssessment.Status.EXITED)),
        new=Count("pk", filter=in_roster & ~Q(household_id__in=in_roster_last_year)),
    )
    entries = this_year.select_related("household__head", "household__village").order_by(
        "village_id", "household__number", "id"
    )
    return HardshipRoster(
        year=year,
        entries=entries,
        new_this_year=counts["new"],
        exited_this_year=counts["exited"],
        total=counts["total"],
    )


def mothers_for(*, household: Household) -> QuerySet[Person]:
    """Candidates for a child's mother: women of the household."""
    return Person.objects.filter(household=household, sex="female").order_by("birth_date")


def household_attachment_get(*, actor, pk) -> HouseholdAttachment:
    """One attachment of a household the actor sees (404 otherwise), with its household."""
    return get_object_or_404(
        HouseholdAttachment.objects.select_related("household__village", "household__group"),
        pk=pk,
    )
