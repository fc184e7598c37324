"""FilterSets of payments (one per model, shared by the pages and the API). Nothing filters by
an account number or an ID number: such numbers never go into a URL."""

from __future__ import annotations

import django_filters

from associations.filters import UnderNodeFilterMixin

from .models import BankAccount, BatchStatus, Disbursement, DisbursementBatch, LineStatus


class BankAccountFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    person = django_filters.NumberFilter(field_name="person_id", label="户名(人员编号)")
    is_active = django_filters.BooleanFilter(label="有效")
    under = django_filters.NumberFilter(method="filter_under", label="组织")

    class Meta:
        model = BankAccount
        fields = ["person", "is_active", "under"]


class DisbursementBatchFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    program = django_filters.NumberFilter(field_name="program_id", label="项目")
    period = django_filters.CharFilter(label="发放期")
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices, label="状态")
    under = django_filters.NumberFilter(method="filter_under", label="组织")

    class Meta:
        model = DisbursementBatch
        fields = ["program", "period", "status", "under"]


class DisbursementFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    batch = django_filters.NumberFilter(field_name="batch_id", label="批次")
    program = django_filters.NumberFilter(field_name="program_id", label="项目")
    period = django_filters.CharFilter(label="发放期")
    status = django_filters.ChoiceFilter(choices=LineStatus.choices, label="状态")
    person = django_filters.NumberFilter(field_name="person_id", label="扶助对象(人员编号)")
    reference = django_filters.CharFilter(label="业务参考号")
    under = django_filters.NumberFilter(method="filter_under", label="组织")

    class Meta:
        model = Disbursement
        fields = ["batch", "program", "period", "status", "person", "reference", "under"]
