"""Pages of the households app's figures: the demographic figures table (page and Excel) and
the hardship roster, for any node the user sees. Reads go through the scoped selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join

from associations import selectors as association_selectors
from associations.models import Association, Level
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import exports, figures, selectors
from .figures import Period
from .list_views import PER_PAGE
from .models import HardshipAssessment, HardshipReason
from .pagination import peek_page


def current_quarter(day) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass
class FigureLine:
    label: str
    unit: Association | None
    cells: list  # display values in figures.TABLE_COLUMNS order


def figure_line(row: figures.FigureRow, node: Association, label: str = "") -> FigureLine:
    """A row of the page; a child unit's name links to its own figures."""
    *counts, ratio, per_100 = row.cells()
    return FigureLine(
        label=label or figures.row_label(row, node),
        unit=row.unit if not label and row.unit and row.unit.pk != node.pk else None,
        cells=[*counts, ratio, figures.per_100_text(per_100)],
    )


def breakable(label: str) -> str:
    """A header label that wraps only between its parts (figures.label_lines)."""
    parts = figures.label_lines(label)
    return format_html_join("", '<span class="nb">{}</span>', ((part,) for part in parts))


def figures_context(request, node: Association) -> dict:
    """What the figures page and its export share: the period asked for (`period`, or `error`
    with the Chinese message when it does not parse) and, with a period, the `table`."""
    today = timezone.localdate()
    key = (request.GET.get("period") or "").strip() or current_quarter(today)
    periods = Period.choices_around(today)
    context = {
        "node": node,
        "breadcrumbs": node.lineage(),
        "period_key": key,
        "periods": periods,
        "today": today,
    }
    try:
        period = Period.parse(key)
    except ValidationError as error:
        context["error"] = error.messages[0]
        return context
    if period.key not in {p.key for p in periods}:
        context["periods"] = [period, *periods]
    context.update(
        period_key=period.key,
        period=period,
        table=selectors.node_figures(node=node, period=period),
        period_notes=figures.period_notes(period, today),
    )
    return context


class NodeFiguresView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        context = figures_context(request, node)
        if "error" in context:
            return render(request, "households/figures.html", context, status=400)
        table = context["table"]
        context.update(
            unit_heading=breakable(figures.unit_heading(node)),
            groups=figures.header_groups(),
            columns=[(c, breakable(c.label)) for c in figures.TABLE_COLUMNS],
            lines=[figure_line(row, node) for row in table.rows],
            total=figure_line(table.total, node, label="合计"),
            notes=figures.NOTES,
            published=_published(node, context["period"].key),
        )
        return render(request, "households/figures.html", context)


def _published(node: Association, key: str) -> dict | None:
    from reports.runs import published_snapshot  # reports builds on households, not back

    return published_snapshot(node=node, period_key=key)


class NodeFiguresExportView(StaffView):
    """The figures table as a printable workbook: same permission, period and 400 as the page."""

    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        context = figures_context(request, node)
        if "error" in context:
            return render(request, "households/figures.html", context, status=400)
        content = exports.figures_xlsx(
            context["table"], made_on=context["today"], period_notes=context["period_notes"]
        )
        return xlsx_response(content, exports.figures_filename(node, context["period"]))


FIRST_ROSTER_YEAR = 2000


class NodeHardshipView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        this_year = timezone.localdate().year
        raw = (request.GET.get("year") or "").strip() or str(this_year)
        context = {
            "node": node,
            "breadcrumbs": node.lineage(),
            "years": list(range(this_year, this_year - 6, -1)),
            "year_value": raw,
        }
        if not (raw.isdigit() and FIRST_ROSTER_YEAR <= int(raw) <= this_year):
            context["error"] = f"年度应为 {FIRST_ROSTER_YEAR} 至 {this_year} 之间的四位数字。"
            return render(request, "households/hardship_roster.html", context, status=400)
        year = int(raw)
        if year not in context["years"]:
            context["years"].append(year)
        roster = selectors.hardship_roster(node=node, year=year)
        page = peek_page(roster.entries, request.GET, per_page=PER_PAGE)
        reason_labels = dict(HardshipReason.choices)
        for entry in page:
            entry.reason_labels = [reason_labels.get(r, r) for r in entry.reasons]
        context.update(
            roster=roster,
            page=page,
            year=year,
            exited=HardshipAssessment.Status.EXITED,
            show_village=node.level in (Level.COUNTY, Level.TOWNSHIP),
        )
        return render(request, "households/hardship_roster.html", context)
