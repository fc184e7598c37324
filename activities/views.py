"""Pages of the activities app: the duties of a node for a period (page and Excel), and the
activities and home visits of a node for a period (where the duties page drills down to).
Every node is fetched through the scoped selector, so a node outside the user's subtree is
404; a period that does not parse is a 400 with the Chinese message."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from associations import permissions
from associations import selectors as association_selectors
from associations.models import Association, Level
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import exports, selectors
from .duties import duties
from .duty_tables import RULES, area_table, village_table
from .periods import Period, parse_period, period_choices, period_key, period_label
from .selectors import under

RECORDS_SHOWN = 200  # a drill-down is a month of one group: more is a sign to narrow it


def period_context(request, node: Association) -> dict:
    """The node, its breadcrumbs and the period asked for: `period` (default: this month),
    or `error` with the Chinese message."""
    today = timezone.localdate()
    key = (request.GET.get("period") or "").strip() or period_key(
        Period.month(today.year, today.month)
    )
    choices = period_choices(today)
    context = {"node": node, "breadcrumbs": node.lineage(), "period_key": key, "today": today}
    try:
        period = parse_period(key)
    except ValueError as error:
        context["error"] = str(error)
        context["periods"] = _options(choices)
        return context
    if period not in choices:
        choices = [period, *choices]
    context.update(
        period=period,
        period_key=period_key(period),
        period_label=period_label(period),
        periods=_options(choices),
    )
    return context


def _options(periods: list[Period]) -> list[dict]:
    return [{"key": period_key(p), "label": period_label(p)} for p in periods]


def is_village_page(node: Association) -> bool:
    return node.level in (Level.VILLAGE, Level.GROUP)


def duties_context(request, node: Association) -> dict:
    context = period_context(request, node)
    if "error" in context:
        return context
    result = duties(node=node, period=context["period"])
    if is_village_page(node):
        context["village_table"] = village_table(result)
    else:
        context["area_table"] = area_table(result, township_names=township_names(node))
    return context


def township_names(node: Association) -> dict[int, str]:
    if node.level == Level.TOWNSHIP:
        return {node.pk: node.name}
    rows = Association.objects.filter(level=Level.TOWNSHIP, county_id=node.pk)
    return dict(rows.values_list("pk", "name"))


class NodeDutiesView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        context = duties_context(request, node)
        context["rules"] = RULES
        status = 400 if "error" in context else 200
        return render(request, "activities/duties.html", context, status=status)


class NodeDutiesExportView(StaffView):
    """The duties table as a printable workbook: same scope, period and 400 as the page."""

    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        context = duties_context(request, node)
        if "error" in context:
            return render(request, "activities/duties.html", context, status=400)
        today = context["today"]
        if is_village_page(node):
            content = exports.village_xlsx(node, context["village_table"], made_on=today)
        else:
            content = exports.area_xlsx(node, context["area_table"], made_on=today)
        filename = exports.duties_filename(node, context["period"])
        return xlsx_response(content, filename)


def leader_group(request, node: Association):
    """`?led_group=<id>` (the duties page's leader-visits cell): the group under `node` whose
    leader's visits to list; None when not asked; False when it names no such group."""
    raw = request.GET.get("led_group", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        return False
    groups = Association.objects.filter(level=Level.GROUP, pk=int(raw), **under(node))
    return groups.first() or False


class NodeRecordsView(StaffView):
    """The activities held and the home visits made under a node in a period."""

    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        context = period_context(request, node)
        if "error" in context:
            return render(request, "activities/records.html", context, status=400)
        period = context["period"]
        activities = list(
            selectors.activity_list(actor=request.user, node=node, period=period)[
                : RECORDS_SHOWN + 1
            ]
        )
        led_group = leader_group(request, node)
        if led_group is False:
            context["error"] = "小组参数有误。"
            return render(request, "activities/records.html", context, status=400)
        filters = {"led_group": led_group.pk} if led_group else None
        visits = list(
            selectors.visit_list(actor=request.user, node=node, period=period, filters=filters)[
                : RECORDS_SHOWN + 1
            ]
        )
        context.update(
            activities=activities[:RECORDS_SHOWN],
            activities_cut=len(activities) > RECORDS_SHOWN,
            visits=visits[:RECORDS_SHOWN],
            visits_cut=len(visits) > RECORDS_SHOWN,
            shown=RECORDS_SHOWN,
            can_record=permissions.can_record_field_work(request.user, node),
            led_group=led_group,
        )
        return render(request, "activities/records.html", context)
