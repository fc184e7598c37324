"""The assessment dashboard page (考核看板) of a county or a township: grade distribution,
completeness, each indicator by township (or village), the trend over the year's quarters
and the membership ratio, each as a server-drawn SVG chart with its figures in a table below.

Who sees which: county accounts the county's dashboard and each of its townships'; township
staff their own township's (another township, or the county node, is out of their scope:
404).
Village and group nodes have no dashboard (404): a village's own result is on its
submission page, and a chart of one village's figures has nothing to compare with."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from associations import selectors as association_selectors
from associations.models import Level
from associations.views import StaffView

from . import charts, dashboard
from .dashboard import GRADES, MEMBERSHIP_TARGET


def _float(value):
    return None if value is None else float(value)


def _charts(board: dashboard.Dashboard) -> dict:
    if board.own is None:
        return {}
    units = board.units
    names = [u.name for u in units]
    node_name = board.node.name
    figures = board.own.figures or {}
    result = {
        "grade_ring": charts.pie(
            title=f"{node_name}等级分布(村数)",
            slices=[(label, figures.get("grades", {}).get(g, 0)) for g, label in GRADES],
            colors=charts.GRADE_COLORS,
        )
    }
    if board.by_village:
        result["grade_units"] = charts.stacked_bars(
            title="各村(社区)总分与等级",
            labels=names,
            series=[
                (label, [_float(u.average) if u.grade == g else None for u in units])
                for g, label in GRADES
            ],
            colors=charts.GRADE_COLORS,
        )
    else:
        result["grade_units"] = charts.stacked_bars(
            title="各乡镇(街道)等级分布(村数)",
            labels=names,
            series=[(label, [u.grades.get(g, 0) for u in units]) for g, label in GRADES],
            colors=charts.GRADE_COLORS,
        )
    if board.completeness_total is not None:
        total = board.completeness_total
        result["completeness"] = charts.pie(
            title=f"{node_name}报送情况(村数)",
            slices=[
                ("按时报送", total.on_time),
                ("逾期报送", total.late),
                ("未报送", total.missing),
            ],
            colors=charts.COMPLETENESS_COLORS,
        )
        if not board.by_village:
            tallies = board.completeness
            result["completeness_units"] = charts.stacked_bars(
                title="各乡镇(街道)报送情况(村数)",
                labels=[t.name for t in tallies],
                series=[
                    ("按时报送", [t.on_time for t in tallies]),
                    ("逾期报送", [t.late for t in tallies]),
                    ("未报送", [t.missing for t in tallies]),
                ],
                colors=charts.COMPLETENESS_COLORS,
            )
    if board.columns:
        result["indicators"] = charts.bars(
            title=f"{node_name}各指标得分率",
            labels=[c["name"] for c in board.columns],
            series=[("得分率", [_float(board.node_rate(c)) for c in board.columns])],
            percent=True,
        )
        chosen = board.indicator
        result["indicator_units"] = charts.bars(
            title=f"“{chosen['name']}”各{board.unit_label}得分率",
            labels=names,
            series=[("得分率", [_float(u.rate(chosen)) for u in units])],
            percent=True,
        )
    if board.trend:
        labels = [t["label"] for t in board.trend]
        result["trend_average"] = charts.lines(
            title="各季度平均总分",
            labels=labels,
            series=[("平均总分", [_float(t["average"]) for t in board.trend])],
        )
        result["trend_grades"] = charts.stacked_columns(
            title="各季度等级分布(村数)",
            labels=labels,
            series=[(label, [t["grades"].get(g, 0) for t in board.trend]) for g, label in GRADES],
            colors=charts.GRADE_COLORS,
        )
    result["membership"] = charts.bars(
        title=f"各{board.unit_label}会员占常住人口比例",
        labels=names,
        series=[("会员占比", [_float(u.ratio) for u in units])],
        line_at=MEMBERSHIP_TARGET,
    )
    return result


class DashboardView(StaffView):
    def get(self, request, pk):
        node = association_selectors.association_get(actor=request.user, pk=pk)
        if node.level not in (Level.COUNTY, Level.TOWNSHIP):
            raise Http404("考核看板在县级或乡镇(街道)页面查看。")
        board = dashboard.build(
            node=node,
            period_key=request.GET.get("period", ""),
            indicator_key=request.GET.get("indicator", ""),
        )
        status = 200
        if board.error:  # a malformed period or indicator: 400; a period not published: 404
            status = 404 if board.error == dashboard.PERIOD_MISSING else 400
        return self.page(request, board, status=status)

    def page(self, request, board, status=200):
        node = board.node
        context = {
            "node": node,
            "breadcrumbs": node.lineage(),
            "board": board,
            "charts": _charts(board),
            "grades": GRADES,
            "target": MEMBERSHIP_TARGET,
        }
        return render(request, "reports/dashboard.html", context, status=status)
