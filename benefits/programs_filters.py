"""The FilterSet of the annual re-confirmation, shared by its page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from associations.filters import UnderNodeFilterMixin

from .models import Reconfirmation


class ReconfirmationState:
    FLAGGED = "flagged"
    UNFLAGGED = "unflagged"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXITED = "exited"
    CHOICES = [
        (FLAGGED, "有疑点待确认"),
        (UNFLAGGED, "无疑点待确认"),
        (PENDING, "全部待确认"),
        (CONFIRMED, "继续享受"),
        (EXITED, "已退出"),
    ]


STATES = {
    ReconfirmationState.FLAGGED: Q(decision=Reconfirmation.Decision.PENDING) & ~Q(flags=[]),
    ReconfirmationState.UNFLAGGED: Q(decision=Reconfirmation.Decision.PENDING, flags=[]),
    ReconfirmationState.PENDING: Q(decision=Reconfirmation.Decision.PENDING),
    ReconfirmationState.CONFIRMED: Q(decision=Reconfirmation.Decision.CONFIRMED),
    ReconfirmationState.EXITED: Q(decision=Reconfirmation.Decision.EXITED),
}


class ReconfirmationFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    program = django_filters.NumberFilter(field_name="enrollment__program_id", label="项目")
    year = django_filters.NumberFilter(label="年度", min_value=2000, max_value=2100)
    state = django_filters.ChoiceFilter(
        choices=ReconfirmationState.CHOICES, method="filter_state", label="状态", empty_label="全部"
    )
    under = django_filters.NumberFilter(method="filter_under", label="组织")

    class Meta:
        model = Reconfirmation
        fields = ["program", "year", "state", "under"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(STATES[value])
