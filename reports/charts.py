"""The dashboard's charts: pygal rendered on the server to inline SVG (no script, no CDN).

pygal's defaults would fetch its tooltip script from a CDN (`js`), write its settings as an
inline script and comments naming its web site; all are switched off or stripped here, so
the SVG names no address but the SVG and XLink namespaces. The SVG has a viewBox and no
width or height: the page's CSS scales it to its column (width 100%), so it fits a 375 px
phone and a printed page. The font list renders Chinese on Linux (WenQuanYi), Windows
(YaHei) and elsewhere.

Each chart is drawn for a narrow box (CHART_WIDTH) with large labels, so that scaled down to
a phone the labels stay readable; horizontal bars grow in height with their rows."""

from __future__ import annotations

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
CHART_WIDTH = 480
# 一流 / 合格 / 不合格; 按时 / 逾期 / 未报送; then the others
GRADE_COLORS = ("#1e7b4d", "#1c5fb8", "#b42318")
COMPLETENESS_COLORS = ("#1e7b4d", "#a35c00", "#9aa5b1")
SERIES_COLORS = ("#1c5fb8", "#b4232a", "#1e7b4d", "#a35c00", "#6b3fa0")

STYLE = dict(
    font_family=FONT,
    background="transparent",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#616e7c",
    opacity=".9",
    opacity_hover="1",
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=14,
    value_label_font_size=14,
    legend_font_size=15,
    title_font_size=17,
    tooltip_font_size=14,
    no_data_font_size=20,
    guide_stroke_color="#d9e2ec",
    major_guide_stroke_color="#b4232a",
)


def _strip_comments(root):
    """pygal writes its name and web addresses as comments, and its settings as an inline
    script for the tooltips: drop both (the charts need no script)."""
    for element in list(root.iter()):
        tag = element.tag
        if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
            parent = element.getparent() if hasattr(element, "getparent") else None
            (parent if parent is not None else root).remove(element)
    return root


def _config(colors, **options) -> dict:
    return dict(
        js=[],  # no tooltip script (its default is on a CDN)
        disable_xml_declaration=True,
        explicit_size=False,  # a viewBox only: the page scales it
        style=Style(colors=colors, **STYLE),
        width=CHART_WIDTH,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        truncate_label=-1,
        no_data_text="暂无数据",
        margin=12,
        **options,
    )


def _render(chart, label: str) -> SafeString:
    chart.add_xml_filter(_strip_comments)
    svg = chart.render(is_unicode=True)
    # an image with a name for screen readers; the figures are in the table below it
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return mark_safe(svg)  # pygal escapes every label and title it writes


def _bar_height(rows: int) -> int:
    return 110 + 44 * max(rows, 1)


def stacked_bars(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    """Horizontal stacked bars: one bar per label, one segment per series (counts)."""
    chart = pygal.HorizontalStackedBar(
        **_config(colors, height=_bar_height(len(labels)), print_values=True)
    )
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, [v or None for v in values])
    return _render(chart, title)


def bars(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list]],
    colors=SERIES_COLORS,
    percent: bool = False,
    line_at: float | None = None,
) -> SafeString:
    """Horizontal bars, one group per label. `percent`: values are percentages (0-100 axis);
    `line_at`: the guide at that value is drawn as the target line (red, dashed)."""
    options = {"height": _bar_height(len(labels) * max(len(series), 1) // 2 + 1)}
    if percent:
        top = max([100.0] + [v for _n, vs in series for v in vs if v is not None])
        options.update(range=(0, top), value_formatter=lambda v: f"{v:.1f}%")
    if line_at is not None:
        top = max([line_at * 2] + [v for _n, vs in series for v in vs if v is not None])
        step = 5 if top <= 40 else 10 if top <= 100 else 20
        ticks = list(range(0, int(top) + step, step))
        if line_at not in ticks:
            ticks = sorted({*ticks, line_at})
        options.update(
            range=(0, ticks[-1]),
            y_labels=ticks,
            y_labels_major=[line_at],
            show_minor_y_labels=True,
            value_formatter=lambda v: f"{v:.1f}%",
        )
    chart = pygal.HorizontalBar(**_config(colors, print_values=True, **options))
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _render(chart, title)


def pie(*, title: str, slices: list[tuple[str, int]], colors=SERIES_COLORS) -> SafeString:
    """A ring of counts (the shares of a whole)."""
    chart = pygal.Pie(**_config(colors, height=340, inner_radius=0.45, print_values=True))
    chart.title = title
    for name, value in slices:
        chart.add(name, value or None)
    return _render(chart, title)


def lines(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    chart = pygal.Line(
        **_config(colors, height=300, print_values=True, x_label_rotation=0, dots_size=5)
    )
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _render(chart, title)


def stacked_columns(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    chart = pygal.StackedBar(**_config(colors, height=300, print_values=True))
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, [v or None for v in values])
    return _render(chart, title)
