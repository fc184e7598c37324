"""Scoped reads of the activities app: lists, one activity or visit, material totals."""

from __future__ import annotations

from django.db.models import Count, F, QuerySet, Sum, Window
from django.shortcuts import get_object_or_404

from associations.models import Association

from .filters import ActivityFilter, HomeVisitFilter
from .models import Activity, ActivityAttachment, Attendance, HomeVisit, MaterialHandout
from .periods import Period


def under(node: Association) -> dict:
    """The lookup of every row at or below `node` (one indexed equality)."""
    return {f"{node.level}_id": node.pk}


def activity_list(
    *,
    actor,
    node: Association | None = None,
    period: Period | None = None,
    kind: str | None = None,
    filters: dict | None = None,
) -> QuerySet[Activity]:
    """Activities in the actor's scope (narrowed to a node, a period, a kind, or by the
    ActivityFilter's `filters`), newest first, with the number of members recorded as
    attending."""
    queryset = Activity.objects.select_related("association", "theme", "themed_day").annotate(
        attendee_count=Count("attendances")
    )
    if node is not None:
        queryset = queryset.filter(**under(node))
    if period is not None:
        queryset = queryset.filter(date__range=(period.start, period.end))
    if kind:
        queryset = queryset.filter(kind=kind)
    if filters is not None:
        queryset = ActivityFilter(filters, queryset=queryset).qs
    return queryset.order_by("-date", "-id")


def activity_get(*, actor, pk) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("association", "theme", "themed_day").prefetch_related(
            "handouts__material"
        ),
        pk=pk,
    )


def activity_attendees(*, activity: Activity) -> QuerySet[Attendance]:
    """The attendance rows of an activity with each member's person, by member number."""
    return (
        Attendance.objects.filter(activity=activity)
        .select_related("member__person")
        .order_by("member__village_id", "member__member_number")
    )


def visit_list(
    *,
    actor,
    node: Association | None = None,
    period: Period | None = None,
    household_id: int | None = None,
    visitor_id: int | None = None,
    filters: dict | None = None,
) -> QuerySet[HomeVisit]:
    """Home visits in the actor's scope: a household's visits (household page), a member's
    visits (member page), or everything under a node in a period."""
    queryset = HomeVisit.objects.select_related("visitor__person", "household__head", "pairing")
    if node is not None:
        queryset = queryset.filter(**under(node))
    if period is not None:
        queryset = queryset.filter(visited_on__range=(period.start, period.end))
    if household_id is not None:
        queryset = queryset.filter(household_id=household_id)
    if visitor_id is not None:
        queryset = queryset.filter(visitor_id=visitor_id)
    if filters is not None:
        queryset = HomeVisitFilter(filters, queryset=queryset).qs
    return queryset.order_by("-visited_on", "-id")


VISITS_SHOWN = 20


def recent_visits(
    *, actor, household_id: int | None = None, visitor_id: int | None = None, limit=VISITS_SHOWN
) -> tuple[list[HomeVisit], int]:
    """The newest `limit` visits of a household or by a member (household and member pages)
    and how many more there are, in one query: the total rides along as a window count."""
    queryset = visit_list(actor=actor, household_id=household_id, visitor_id=visitor_id)
    rows = list(queryset.annotate(total=Window(Count("id")))[:limit])
    rest = rows[0].total - len(rows) if rows else 0
    return rows, rest


def visit_get(*, actor, pk) -> HomeVisit:
    return get_object_or_404(
        HomeVisit.objects.select_related("visitor__person", "household__head", "pairing"), pk=pk
    )


def material_totals(*, node: Association, period: Period) -> list[dict]:
    """Materials handed out by activities under the node in the period, in one query:
    [{"material_id", "name", "unit", "total"}] in catalogue order."""
    return list(
        MaterialHandout.objects.filter(
            activity__date__range=(period.start, period.end), **under(node)
        )
        .values("material_id", name=F("material__name"), unit=F("material__unit"))
        .annotate(total=Sum("quantity"))
        .order_by("material_id")
    )


def pairing_visit_counts(*, pairing_ids) -> dict[int, int]:
    """{pairing id: home visits linked to it} in one query: visits to a paired household
    count toward the pairing (结对帮扶)."""
    rows = (
        HomeVisit.objects.filter(pairing_id__in=list(pairing_ids))
        .values("pairing_id")
        .annotate(n=Count("id"))
        .values_list("pairing_id", "n")
    )
    return dict(rows)


def activity_attachment_get(*, actor, pk) -> ActivityAttachment:
    """One attachment of an activity the actor sees (404 otherwise), with its activity."""
    return get_object_or_404(
        ActivityAttachment.objects.select_related("activity__association"), pk=pk
    )
