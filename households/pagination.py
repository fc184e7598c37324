"""A "peek" paginator for long lists: it never COUNTs the table.

A page fetches `per_page + 1` rows; the extra row only says whether a next page exists. The
pager offers 上一页 / 下一页 (no "page 3 of 512"), and its links keep the list's filters.
`match_count` says how many rows match without counting a large list: exactly when that is
cheap, else the planner's estimate, labelled as one."""

from __future__ import annotations

import json
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


# --- how many rows match ------------------------------------------------------------------

EXACT_UP_TO = 1_000  # counting this many index rows costs about a millisecond


@dataclass(frozen=True)
class MatchCount:
    """How many rows a list's filters match, and how that is known: `exact` (counted),
    `at_least` (counting stopped at the cap), or neither (the planner's estimate)."""

    value: int
    exact: bool = False
    at_least: bool = False

    @property
    def text(self) -> str:
        if self.exact:
            return f"共 {self.value:,} 条"
        if self.at_least:
            return f"超过 {self.value:,} 条"
        return f"约 {_three_figures(self.value):,} 条(估算)"


def _three_figures(value: int) -> int:
    """46,887 -> 46,900: an estimate shown with the precision it has."""
    digits = len(str(value))
    return round(value, 3 - digits) if digits > 3 else value


def planner_estimate(queryset) -> int:
    """The rows PostgreSQL's planner expects the query to return (EXPLAIN, not run)."""
    plan = queryset.order_by().values("pk").explain(format="json")
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


def match_count(queryset, page: PeekPage) -> MatchCount:
    """Without a COUNT of the whole list: the last page counts itself; otherwise a small
    result (by the planner's estimate) is counted up to EXACT_UP_TO rows, and a large one
    is given as the estimate, said to be one."""
    exact_up_to = EXACT_UP_TO
    if not page.has_next and (page.object_list or page.number == 1):
        return MatchCount(page.end_index if page.object_list else 0, exact=True)
    seen = page.end_index + (1 if page.has_next else 0)  # rows known to exist
    estimate = planner_estimate(queryset)
    if estimate > exact_up_to:
        return MatchCount(max(estimate, seen))
    counted = queryset.order_by().values("pk")[: exact_up_to + 1].count()
    if counted > exact_up_to:
        return MatchCount(exact_up_to, at_least=True)
    return MatchCount(counted, exact=True)
