"""One FilterSet per model, shared by list pages, the API and exports (next part)."""

from __future__ import annotations

import django_filters
from django.db.models import OuterRef, Q, Subquery

from associations.filters import UnderNodeFilterMixin
from members.models import GroupRole

from .models import Activity, HomeVisit


class ActivityFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="活动名称/地点/组织者")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, label="活动类别")
    meeting_type = django_filters.ChoiceFilter(
        choices=Activity.MeetingType.choices, label="会议类型"
    )
    service_type = django_filters.ChoiceFilter(
        choices=Activity.ServiceType.choices, label="服务类型"
    )
    theme = django_filters.NumberFilter(field_name="theme_id", label="主题")
    themed_day = django_filters.NumberFilter(field_name="themed_day_id", label="主题日")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="起始日期")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="截止日期")

    class Meta:
        model = Activity
        fields = [
            "q",
            "under",
            "kind",
            "meeting_type",
            "service_type",
            "theme",
            "themed_day",
            "date_from",
            "date_to",
        ]

    def search(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(
            Q(title__contains=text) | Q(place__contains=text) | Q(organiser__contains=text)
        )


class HomeVisitFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    purpose = django_filters.ChoiceFilter(choices=HomeVisit.Purpose.choices, label="走访目的")
    visitor = django_filters.NumberFilter(field_name="visitor_id", label="走访人")
    household = django_filters.NumberFilter(field_name="household_id", label="走访户")
    date_from = django_filters.DateFilter(
        field_name="visited_on", lookup_expr="gte", label="起始日期"
    )
    date_to = django_filters.DateFilter(
        field_name="visited_on", lookup_expr="lte", label="截止日期"
    )
    follow_up_open = django_filters.BooleanFilter(method="filter_open", label="待跟进")
    led_group = django_filters.NumberFilter(method="filter_led_group", label="组长所在小组")

    class Meta:
        model = HomeVisit
        fields = [
            "under",
            "purpose",
            "visitor",
            "household",
            "date_from",
            "date_to",
            "follow_up_open",
            "led_group",
        ]

    def filter_led_group(self, queryset, name, value):
        """The visits the duties count for a group's leader: made by a member who led that
        group on the day (of two leader roles on one day, the one that started last)."""
        covering = (
            GroupRole.objects.filter(
                member_id=OuterRef("visitor_id"),
                role=GroupRole.Role.LEADER,
                starts_on__lte=OuterRef("visited_on"),
            )
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=OuterRef("visited_on")))
            .order_by("-starts_on")
        )
        return queryset.annotate(
            led_group_that_day=Subquery(covering.values("group_id")[:1])
        ).filter(led_group_that_day=value)

    def filter_open(self, queryset, name, value):
        open_ = Q(follow_up_needed=True, follow_up_done_on__isnull=True)
        return queryset.filter(open_ if value else ~open_)
