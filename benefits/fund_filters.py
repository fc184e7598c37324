"""FilterSets of the fund ledger and of loans, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms

from associations.filters import UnderNodeFilterMixin
from households.filters import search_q
from households.models import Person

from .models import FundEntry, Loan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FundEntryFilter(django_filters.FilterSet):
    fund = django_filters.NumberFilter(field_name="fund_id", label="基金编号")
    date_from = django_filters.DateFilter(
        field_name="entry_date", lookup_expr="gte", label="日期从", widget=DATE
    )
    date_to = django_filters.DateFilter(
        field_name="entry_date", lookup_expr="lte", label="日期到", widget=DATE
    )
    direction = django_filters.ChoiceFilter(choices=FundEntry.Direction.choices, label="收支")
    source = django_filters.ChoiceFilter(choices=FundEntry.Source.choices, label="类别")

    class Meta:
        model = FundEntry
        fields = ["fund", "date_from", "date_to", "direction", "source"]


class LoanFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="借款人姓名/拼音首字母/户编号")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    status = django_filters.ChoiceFilter(choices=Loan.Status.choices, label="状态")
    fund = django_filters.NumberFilter(field_name="fund_id", label="基金编号")
    program = django_filters.NumberFilter(field_name="program_id", label="项目编号")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="逾期")
    issued_from = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="gte", label="放款日期从", widget=DATE
    )
    issued_to = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="lte", label="放款日期到", widget=DATE
    )

    class Meta:
        model = Loan
        fields = ["q", "under", "status", "fund", "program", "overdue", "issued_from", "issued_to"]

    def search(self, queryset, name, value):
        people = Person.objects.filter(search_q(value, household_prefix="household__"))
        return queryset.filter(borrower__in=people.values("pk"))

    def filter_overdue(self, queryset, name, value):
        # `overdue_amount` is annotated by benefits.loan_selectors.loan_rows.
        if value:
            return queryset.filter(overdue_amount__gt=0)
        return queryset.filter(overdue_amount=0)
