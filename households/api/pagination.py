"""Pagination for the big tables (persons, households): no COUNT(*).

A county holds hundreds of thousands of persons; PageNumberPagination counts the whole filtered
table on every page. This one fetches `page_size + 1` rows and says only whether a next page
exists:

    {"next": url | null, "previous": url | null, "results": [...]}

Pages are numbered (`?page=2`, `?page_size=100`), like the other endpoints, so clients keep the
same query parameters; only `count` is missing."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..pagination import rows_at

MAX_PAGE = 10_000  # deep OFFSETs are slow: past this, filter instead of paging


class HasNextPagination(BasePagination):
    page_size = 50
    max_page_size = 500
    page_query_param = "page"
    page_size_query_param = "page_size"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def get_page_number(self, request) -> int:
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PAGE:
            raise NotFound("页码无效。")
        return number

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size_used = self.get_page_size(request)
        self.page_number = self.get_page_number(request)
        offset = (self.page_number - 1) * self.page_size_used
        rows = rows_at(queryset, offset, self.page_size_used + 1)
        self.has_next = len(rows) > self.page_size_used
        if not rows and self.page_number > 1:
            raise NotFound("页码无效。")
        return rows[: self.page_size_used]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page_number + 1)

    def get_previous_link(self) -> str | None:
        if self.page_number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.page_number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page_number - 1)

    def get_paginated_response(self, data):
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "页码,从 1 开始。",
                "schema": {"type": "integer"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"每页条数,最多 {self.max_page_size}。",
                "schema": {"type": "integer"},
            },
        ]
