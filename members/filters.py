"""One FilterSet per model, shared by list pages, the API and exports."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from associations.filters import UnderNodeFilterMixin
from households.filters import search_q
from households.models import Person

from .models import ElderKind, Member, MemberCategory


class MemberFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="姓名/拼音首字母/户编号/会员证号")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    status = django_filters.ChoiceFilter(choices=Member.Status.choices, label="状态")
    category = django_filters.ChoiceFilter(
        choices=MemberCategory.choices, method="filter_category", label="会员类别"
    )
    elder_kind = django_filters.ChoiceFilter(choices=ElderKind.choices, label="五老类别")
    is_backbone = django_filters.BooleanFilter(label="骨干会员")

    class Meta:
        model = Member
        fields = ["q", "under", "status", "category", "elder_kind", "is_backbone"]

    def search(self, queryset, name, value):
        text = value.strip()
        person_match = search_q(text, household_prefix="household__")
        person_ids = Person.objects.filter(person_match)
        return queryset.filter(Q(member_number=text) | Q(person__in=person_ids.values("pk")))

    def filter_category(self, queryset, name, value):
        return queryset.filter(categories__contains=[value])
