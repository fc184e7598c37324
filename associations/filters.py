"""One FilterSet per model, shared by pages, the API and exports."""

import django_filters
from django.db.models import Q

from .models import Association, Kind, Level


def under_node(queryset, node_id):
    """Rows under a node of the actor's scope (the node found through the scoped manager, so
    a foreign node id filters everything out), by the node's ancestor key."""
    node = Association.objects.filter(pk=node_id).only("level").first()
    if node is None:
        return queryset.none()
    return queryset.filter(**{f"{node.level}_id": node.pk})


class UnderNodeFilterMixin:
    """The `under` filter every FilterSet of county data offers."""

    def filter_under(self, queryset, name, value):
        return under_node(queryset, value)


class AssociationFilter(UnderNodeFilterMixin, django_filters.FilterSet):
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
