"""The FilterSets of the enrolment workflow, shared by the pages and the API: enrolments (by
programme, status, stage of the workflow, node, name) and public notices."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from associations.filters import UnderNodeFilterMixin

from . import workflow_selectors, workflow_services
from .models import Enrollment, EnrollmentStatus, PublicNotice

STAGE_CHOICES = [(key, label) for key, (label, _filter) in workflow_selectors.STAGES.items()]


def name_q(text: str) -> Q:
    """The beneficiary's name (prefix) or pinyin initials; for a household programme, the
    head's. Never an ID number (households.filters.search_q)."""
    query = Q(person__name__prefix=text) | Q(
        person__isnull=True, household__head__name__prefix=text
    )
    if text.isascii() and text.isalpha():
        initials = text.lower()
        query |= Q(person__name_initials__prefix=initials) | Q(
            person__isnull=True, household__head__name_initials__prefix=initials
        )
    return query


class EnrollmentFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="姓名/拼音首字母")
    program = django_filters.NumberFilter(field_name="program_id", label="项目")
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices, label="状态")
    stage = django_filters.ChoiceFilter(choices=STAGE_CHOICES, method="filter_stage", label="待办")
    under = django_filters.NumberFilter(method="filter_under", label="组织")

    class Meta:
        model = Enrollment
        fields = ["q", "program", "status", "stage", "under"]

    def search(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(name_q(text)) if text else queryset

    def filter_stage(self, queryset, name, value):
        _label, stage = workflow_selectors.STAGES[value]
        return stage(queryset)


class NoticeFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    program = django_filters.NumberFilter(field_name="program_id", label="项目")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    running = django_filters.BooleanFilter(method="filter_running", label="公示中")

    class Meta:
        model = PublicNotice
        fields = ["program", "under", "running"]

    def filter_running(self, queryset, name, value):
        today = workflow_services.today()
        running = Q(starts_on__lte=today, ends_on__gte=today)
        return queryset.filter(running if value else ~running)
