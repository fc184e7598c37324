"""The API's filter backend."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend


class ListFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a request with no query parameters but the
    page's to the queryset as it is: building and validating a FilterSet's form that has no
    value to filter by was a twentieth of a list request."""

    def filter_queryset(self, request, queryset, view):
        paginator = getattr(view, "paginator", None)
        paging = {
            getattr(paginator, "page_query_param", None),
            getattr(paginator, "page_size_query_param", None),
        }
        if set(request.query_params) <= paging and not self._has_required(view, queryset):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def _has_required(self, view, queryset) -> bool:
        filterset_class = self.get_filterset_class(view, queryset)
        return filterset_class is not None and any(
            f.extra.get("required") for f in filterset_class.base_filters.values()
        )
