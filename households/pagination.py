"""A "peek" paginator for long lists: it never COUNTs the table.

A page fetches `per_page + 1` rows; the extra row only says whether a next page exists. The
pager offers 上一页 / 下一页 (no "page 3 of 512"), and its links keep the list's filters."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

MAX_PAGE = 10_000  # deep OFFSETs are slow; nobody pages that far instead of filtering


@dataclass
class PeekPage:
    object_list: list
    number: int
    per_page: int
    has_next: bool
    query: QueryDict = field(repr=False)
    param: str = "page"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def start_index(self) -> int:
        """The 1-based position of the first row on this page (0 when the page is empty)."""
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    def _url(self, number: int) -> str:
        query = self.query.copy()
        if number > 1:
            query[self.param] = str(number)
        else:
            query.pop(self.param, None)
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"

    @property
    def previous_url(self) -> str:
        return self._url(self.number - 1) if self.has_previous else ""

    @property
    def next_url(self) -> str:
        return self._url(self.number + 1) if self.has_next else ""

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_number(raw) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def rows_at(queryset, offset: int, limit: int) -> list:
    """The queryset's rows [offset, offset + limit), in its order.

    Past the first page of a list with joined tables (select_related, or annotations from
    related rows), a slice would make PostgreSQL join every row it skips for the OFFSET; so
    the page's ids are read first from the listed table alone (an order index serves them),
    then its rows by id with their joins. The first page is one query: the lists' order
    indexes serve it at every scope."""
    query = queryset.query
    joined = query.select_related or any(
        count for alias, count in query.alias_refcount.items() if alias != query.base_table
    )
    if not offset or not joined or query.group_by is not None or query.distinct_fields:
        return list(queryset[offset : offset + limit])
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    if not ids:
        return []
    by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def peek_page(queryset, query: QueryDict, *, per_page: int = 30, param: str = "page") -> PeekPage:
    """The page named by `query[param]` (1 when missing or bad), without a COUNT."""
    number = page_number(query.get(param))
    offset = (number - 1) * per_page
    rows = rows_at(queryset, offset, per_page + 1)
    return PeekPage(
        object_list=rows[:per_page],
        number=number,
        per_page=per_page,
        has_next=len(rows) > per_page,
        query=query,
        param=param,
    )
