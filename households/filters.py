"""One FilterSet per model, shared by list pages, the API and exports."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from associations.filters import UnderNodeFilterMixin

from .categories import Category, FamilyType
from .models import HardshipAssessment, Household, Person, Residency, Sex

MAX_AGE = 150
AGE_ERROR = f"年龄应为 0 到 {MAX_AGE} 之间的整数。"


class AgeFilter(django_filters.NumberFilter):
    """An age in whole years, 0 to MAX_AGE: anything else is a typing mistake, and would take
    the birth-date arithmetic outside the calendar."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        messages = {"invalid": AGE_ERROR, "min_value": AGE_ERROR, "max_value": AGE_ERROR}
        super().__init__(*args, min_value=0, max_value=MAX_AGE, error_messages=messages, **kwargs)

    def get_max_validator(self):
        return None  # MAX_AGE is the bound


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _hardship_this_year(outer_household: str):
    return Exists(
        HardshipAssessment.objects.filter(
            household=OuterRef(outer_household),
            year=timezone.localdate().year,
            status=HardshipAssessment.Status.IN_ROSTER,
        )
    )


def search_q(value: str, *, household_prefix: str) -> Q:
    """Name (prefix), pinyin initials (prefix) or household number. Never an ID number or a
    phone, full or in part: a full number in a URL is refused before any view runs
    (households.middleware), and the lookup by a full number is a POST for the roles that
    may see it (households.identity_reads.person_lookup)."""
    text = value.strip()
    if not text:
        return Q()
    query = Q(name__prefix=text)
    if text.isascii() and text.isalpha():
        query |= Q(name_initials__prefix=text.lower())
    if text.isascii() and any(c.isdigit() for c in text):
        # Household numbers are looked up first: an OR across the join defeats every index.
        households = Household.objects.filter(number=text).values_list("pk", flat=True)[:200]
        query |= Q(**{f"{household_prefix}id__in": list(households)})
    return query


class PersonFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="姓名/拼音首字母/户编号")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    sex = django_filters.ChoiceFilter(choices=Sex.choices, label="性别")
    residency = django_filters.ChoiceFilter(choices=Residency.choices, label="户籍状态")
    category = django_filters.ChoiceFilter(
        choices=Category.choices, method="filter_category", label="家庭类别"
    )
    hardship = django_filters.BooleanFilter(method="filter_hardship", label="本年度困难家庭")
    age_min = AgeFilter(method="filter_age_min", label="年龄从")
    age_max = AgeFilter(method="filter_age_max", label="年龄到")
    deceased = django_filters.BooleanFilter(field_name="is_deceased", label="已去世")

    class Meta:
        model = Person
        fields = ["q", "under", "sex", "residency", "category", "hardship", "age_min", "age_max"]

    def search(self, queryset, name, value):
        return queryset.filter(search_q(value, household_prefix="household__"))

    def filter_category(self, queryset, name, value):
        return queryset.filter(household__categories__contains=[value])

    def filter_hardship(self, queryset, name, value):
        condition = _hardship_this_year("household")
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_age_min(self, queryset, name, value):
        return queryset.filter(birth_date__lte=_years_ago(value))

    def filter_age_max(self, queryset, name, value):
        return queryset.filter(birth_date__gt=_years_ago(value + 1))


class HouseholdFilter(UnderNodeFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="户编号/户主姓名")
    under = django_filters.NumberFilter(method="filter_under", label="组织")
    residency = django_filters.ChoiceFilter(choices=Residency.choices, label="户籍状态")
    category = django_filters.ChoiceFilter(
        choices=Category.choices, method="filter_category", label="家庭类别"
    )
    family_type = django_filters.ChoiceFilter(
        choices=FamilyType.choices, method="filter_family_type", label="幸福家庭类型"
    )
    hardship = django_filters.BooleanFilter(method="filter_hardship", label="本年度困难家庭")

    class Meta:
        model = Household
        fields = ["q", "under", "residency", "category", "family_type", "hardship"]

    def search(self, queryset, name, value):
        members = Person.objects.filter(search_q(value, household_prefix="household__"))
        return queryset.filter(Q(number=value.strip()) | Q(pk__in=members.values("household_id")))

    def filter_category(self, queryset, name, value):
        return queryset.filter(categories__contains=[value])

    def filter_family_type(self, queryset, name, value):
        return queryset.filter(family_types__contains=[value])

    def filter_hardship(self, queryset, name, value):
        condition = _hardship_this_year("pk")
        return queryset.filter(condition) if value else queryset.exclude(condition)
