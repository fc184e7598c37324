"""One FilterSet per model, shared by pages, the API and exports."""

import django_filters
from django.db.models import Q

from .models import Association, Kind, Level


class AssociationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="名称或代码")
    level = django_filters.ChoiceFilter(choices=Level.choices, label="层级")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label="类型")
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级组织编号")
    under = django_filters.NumberFilter(method="filter_under", label="某组织之下")
    division_code = django_filters.CharFilter(lookup_expr="startswith", label="区划代码前缀")
    is_small_village = django_filters.BooleanFilter(label="小村")

    class Meta:
        model = Association
        fields = ["q", "level", "kind", "parent", "under", "division_code", "is_small_village"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__contains=value) | Q(division_code__startswith=value))

    def filter_under(self, queryset, name, value):
        node = Association.objects.filter(pk=value).only("level").first()
        if node is None:
            return queryset.none()
        return queryset.filter(**{f"{node.level}_id": node.pk})
