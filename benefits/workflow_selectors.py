"""Scoped reads of the enrolment workflow: enrolments, notices and objections through the
actor's own scope (another county's or a sibling subtree's row is a 404), the stages of the
workflow as set-based filters (what waits for whom), and the masked rows a public notice
shows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from associations.scope import activate
from households.identity import mask_id_number, mask_name

from . import workflow_services
from .models import (
    LIVE_ENROLLMENT,
    Enrollment,
    EnrollmentEvent,
    Objection,
    ProgramRate,
    PublicNotice,
)
from .models import EnrollmentStatus as Status
from .selectors import county_scope
from .workflow_services import beneficiary_name

ENROLLMENT_JOINS = (
    "program",
    "person",
    "household__head",
    "village",
    "township",
    "group",
    "notice",
)


def enrollment_list(*, actor) -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related(*ENROLLMENT_JOINS).order_by("-applied_on", "-id")


def enrollment_get(*, actor, pk) -> Enrollment:
    return get_object_or_404(
        Enrollment.objects.select_related(*ENROLLMENT_JOINS, "village__parent__parent"), pk=pk
    )


def enrollment_events(*, enrollment: Enrollment) -> QuerySet[EnrollmentEvent]:
    return EnrollmentEvent.objects.filter(enrollment=enrollment).order_by("at", "id")


def enrollment_objections(*, enrollment: Enrollment) -> QuerySet[Objection]:
    return Objection.objects.filter(enrollment=enrollment).select_related("resolved_by")


def notice_list(*, actor) -> QuerySet[PublicNotice]:
    return (
        PublicNotice.objects.select_related("program", "village", "township", "created_by")
        .annotate(enrollment_count=Count("enrollments"))
        .order_by("-starts_on", "-id")
    )


def notice_get(*, actor, pk) -> PublicNotice:
    return get_object_or_404(
        PublicNotice.objects.select_related(
            "program", "village__parent__parent", "township__parent", "county", "created_by"
        ),
        pk=pk,
    )


def objection_get(*, actor, pk) -> Objection:
    return get_object_or_404(Objection.objects.select_related("enrollment"), pk=pk)


def notice_node(notice: PublicNotice):
    """The village or township that posted the notice."""
    return notice.village if notice.village_id else notice.township


# --- the workflow's stages, set-based ---------------------------------------------------------


def _open_objection():
    return Exists(Objection.objects.filter(enrollment=OuterRef("pk"), resolved_at__isnull=True))


def to_notice(queryset: QuerySet) -> QuerySet:
    """Applied, waiting for their public notice."""
    return queryset.filter(status=Status.APPLIED, program__needs_notice=True)


def with_open_objections(queryset: QuerySet) -> QuerySet:
    return queryset.filter(status=Status.IN_NOTICE).filter(_open_objection())


def ready_for_review(queryset: QuerySet, *, on: datetime.date | None = None) -> QuerySet:
    """The township may review them now: the notice period is over (the day after it ends)
    with every objection resolved, or no notice is needed."""
    on = on or workflow_services.today()
    after_notice = Q(status=Status.IN_NOTICE, notice__ends_on__lt=on) & ~_open_objection()
    without_notice = Q(status=Status.APPLIED, program__needs_notice=False)
    return queryset.filter(after_notice | without_notice)


def ready_for_approval(queryset: QuerySet) -> QuerySet:
    return queryset.filter(status=Status.REVIEWED)


def returned_open(queryset: QuerySet) -> QuerySet:
    """Returned (rejected) and not applied for again: no live enrolment of the same
    beneficiary in the programme."""
    live = Enrollment.objects.filter(
        program=OuterRef("program"), status__in=LIVE_ENROLLMENT
    ).filter(Q(person=OuterRef("person")) | Q(person__isnull=True, household=OuterRef("household")))
    return queryset.filter(status=Status.REJECTED).exclude(Exists(live))


STAGES = {
    "to_notice": ("待公示", to_notice),
    "objection": ("有异议待处理", with_open_objections),
    "to_review": ("待审核", ready_for_review),
    "to_approve": ("待审批", ready_for_approval),
    "returned": ("已退回待重新申报", returned_open),
}


# --- a public notice's rows, masked for everyone ------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    number: int
    enrollment_id: int
    name: str  # masked (households.identity.mask_name)
    id_number: str  # masked (households.identity.mask_id_number)
    village: str
    category: str
    amount: Decimal
    reasons: str
    status: str
    status_label: str


def rate_labels(*, county_id: int, program_ids) -> dict[tuple[int, str], str]:
    """{(programme id, category): label} of the programmes' rates. Rates sit at the county
    node with their programme, so they are read under the county's scope (benefits.selectors)."""
    with activate(county_scope(county_id)):
        rates = ProgramRate.objects.filter(program_id__in=set(program_ids))
        return {(r.program_id, r.category): r.label for r in rates}


def category_label(enrollment: Enrollment, labels: dict[tuple[int, str], str]) -> str:
    if not enrollment.category:
        return ""
    return labels.get((enrollment.program_id, enrollment.category), enrollment.category)


def reasons_text(enrollment: Enrollment) -> str:
    reasons = enrollment.reasons
    if isinstance(reasons, list):
        return ";".join(str(reason) for reason in reasons if reason)
    return str(reasons or "")


def beneficiary_id_number(enrollment: Enrollment) -> str | None:
    if enrollment.person_id:
        return enrollment.person.id_number
    head = enrollment.household.head
    return head.id_number if head else None


def notice_rows(notice: PublicNotice) -> list[NoticeRow]:
    """Everyone the notice listed, in the order of their villages and applications, with
    names and ID numbers masked whoever looks (the notice is a public list)."""
    enrollments = (
        Enrollment.objects.filter(notice=notice)
        .select_related("person", "household__head", "village")
        .order_by("village__division_code", "applied_on", "id")
    )
    labels = rate_labels(county_id=notice.county_id, program_ids=[notice.program_id])
    return [
        NoticeRow(
            number=number,
            enrollment_id=enrollment.pk,
            name=mask_name(beneficiary_name(enrollment)),
            id_number=mask_id_number(beneficiary_id_number(enrollment)),
            village=enrollment.village.name if enrollment.village_id else "",
            category=category_label(enrollment, labels),
            amount=enrollment.amount,
            reasons=reasons_text(enrollment),
            status=enrollment.status,
            status_label=enrollment.get_status_display(),
        )
        for number, enrollment in enumerate(enrollments, start=1)
    ]
