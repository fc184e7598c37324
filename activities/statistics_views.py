"""The activity statistics of a node for a period: the page and its printable sheet. The node
comes through the scoped selector (outside the user's subtree: 404); a period that does not
parse is a 400 with the Chinese message, on the page and on the download alike."""

from __future__ import annotations

from django.shortcuts import render

from associations import selectors as association_selectors
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import statistics_export
from .statistics import KINDS, activity_statistics
from .views import period_context

TEMPLATE = "activities/activity_stats.html"


def statistics_context(request, pk) -> dict:
    node = association_selectors.association_get(actor=request.user, pk=pk)
    context = period_context(request, node)
    if "error" not in context:
        context["stats"] = activity_statistics(node=node, period=context["period"])
    return context


class NodeActivityStatsView(StaffView):
    def get(self, request, pk):
        context = statistics_context(request, pk)
        if "error" in context:
            return render(request, TEMPLATE, context, status=400)
        stats = context["stats"]
        context.update(
            kind_labels=[kind.label for kind in KINDS],
            row_header=statistics_export.row_header(stats),
            material_labels=[statistics_export.material_label(m) for m in stats.materials],
            lines=[(line, line.figures.values(stats.materials)) for line in stats.lines],
            total_values=stats.total.values(stats.materials),
            column_count=len(statistics_export.figure_headers(stats)) + 1 + stats.show_township,
        )
        return render(request, TEMPLATE, context)


class NodeActivityStatsExportView(StaffView):
    def get(self, request, pk):
        context = statistics_context(request, pk)
        if "error" in context:
            return render(request, TEMPLATE, context, status=400)
        content = statistics_export.statistics_xlsx(context["stats"], made_on=context["today"])
        return xlsx_response(content, statistics_export.statistics_filename(context["stats"]))
