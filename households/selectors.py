"""Scoped reads of the households app."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from associations.models import Association

from .figures import FiguresTable, Period, figures, resident_on, under
from .filters import HouseholdFilter, PersonFilter, search_q
from .models import AssistanceRecord, HardshipAssessment, Household, Person, Relocation


def person_list(*, actor, filters: dict | None = None) -> QuerySet[Person]:
    # Ordered by keys of the person row itself, so that index person_list_order serves the
    # first page without sorting the county (village ids follow division codes in practice).
    queryset = Person.objects.select_related("household", "village", "group").order_by(
        "village_id", "household_id", "birth_date", "id"
    )
    if filters is not None:
        queryset = PersonFilter(filters, queryset=queryset).qs
    return queryset


ID_TAIL = re.compile(r"^[0-9]{3,17}[0-9Xx]$")


def person_search(*, actor, queryset: QuerySet[Person], text: str) -> QuerySet[Person]:
    """A picker's search among `queryset` (already narrowed to a place): the persons list's
    search (name or pinyin initials by prefix, household number, full ID number, phone),
    plus the last digits of the ID number, which every masked number shows."""
    text = text.strip()
    if not text:
        return queryset.none()
    query = search_q(text, household_prefix="household__")
    if ID_TAIL.match(text):
        query |= Q(id_number__endswith=text.upper())
    return queryset.filter(query).order_by("name_initials", "name", "id")


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


@dataclass
class HardshipRoster:
    year: int
    entries: list[HardshipAssessment]
    new_this_year: int
    exited_this_year: int
    total: int


def hardship_roster(*, node: Association, year: int) -> HardshipRoster:
    """This year's roster under the node, with "new this year / exited this year / total"
    (seed 004: 新增 8 户、退出 6 户、现有 180 户)."""
    under = {f"{node.level}_id": node.pk}
    this_year = list(
        HardshipAssessment.objects.filter(year=year, **under)
        .select_related("household__head", "household__village")
        .order_by("household__village__division_code", "household__number")
    )
    last_year = set(
        HardshipAssessment.objects.filter(
            year=year - 1, status=HardshipAssessment.Status.IN_ROSTER, **under
        ).values_list("household_id", flat=True)
    )
    in_roster = [e for e in this_year if e.status == HardshipAssessment.Status.IN_ROSTER]
    return HardshipRoster(
        year=year,
        entries=this_year,
        new_this_year=sum(1 for e in in_roster if e.household_id not in last_year),
        exited_this_year=sum(1 for e in this_year if e.status == HardshipAssessment.Status.EXITED),
        total=len(in_roster),
    )


def mothers_for(*, household: Household) -> QuerySet[Person]:
    """Candidates for a child's mother: women of the household."""
    return Person.objects.filter(household=household, sex="female").order_by("birth_date")
