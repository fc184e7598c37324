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

import math

from django.utils.safestring import SafeString, mark_safe

FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
CHART_WIDTH = 480
LABEL_SIZE = 15
LABEL_CHARS = 10  # beside horizontal bars, at most
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
    label_font_size=LABEL_SIZE,
    major_label_font_size=LABEL_SIZE,
    value_font_size=14,
    value_label_font_size=14,
    legend_font_size=15,
    title_font_size=17,
    tooltip_font_size=14,
    no_data_font_size=20,
    guide_stroke_color="#d9e2ec",
    major_guide_stroke_color="#d9e2ec",
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


def _pygal():
    """pygal (and lxml) imported on first use, not when the URLs load: every other page's
    first request stays as quick as before."""
    import pygal

    return pygal


def _config(colors, *, series: int = 1, target_line: bool = False, **options) -> dict:
    from pygal.style import Style

    style = dict(STYLE)
    if target_line:
        style["major_guide_stroke_color"] = "#b4232a"
        style["major_guide_stroke_dasharray"] = "8,4"
    return dict(
        js=[],  # no tooltip script (its default is on a CDN)
        disable_xml_declaration=True,
        explicit_size=False,  # a viewBox only: the page scales it
        style=Style(colors=colors, **style),
        width=CHART_WIDTH,
        show_legend=series > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        truncate_label=-1,
        print_zeroes=False,
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
    return 110 + 40 * max(rows, 1)


def _label_margin(labels: list[str]) -> int:
    """pygal reserves 0.6 em a character for the labels beside horizontal bars; a Chinese
    character is 1 em wide: the difference, as extra left margin."""
    longest = max((len(label) for label in labels), default=0)
    return 12 + int(0.45 * LABEL_SIZE * longest)


def _percent_text(value) -> str:
    # a zero is "0", which pygal leaves unprinted (print_zeroes off: no "0" over a label)
    return _plain(value) + ("%" if value else "")


def _plain(value) -> str:
    """12.5, 8.75, 10 (not 12.50, 10.00): the figures' own digits are in the tables."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def count_ticks(top) -> list[int]:
    """Whole-number ticks from 0 past `top`, at most about six of them (1, 2, 5, 10 …)."""
    top = max(math.ceil(top or 0), 1)
    step = 1
    while top / step > 6:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return list(range(0, top + step, step))


def _column_sums(series) -> list:
    """Each label's stacked total."""
    return [sum(v or 0 for v in column) for column in zip(*(vs for _n, vs in series), strict=True)]


def _horizontal(chart_class, labels, series, colors, *, percent=False, stacked=False, **options):
    """Horizontal bars, the first label at the top (pygal draws from the bottom up). Long
    labels are cut (the table below the chart has them whole) so the bars keep their room."""
    labels = [
        label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…" for label in labels
    ]
    values = [v for _name, vs in series for v in vs if v is not None]
    if stacked:
        values = _column_sums(series)
    top = max(values, default=0)
    if percent:
        ticks = [0, 25, 50, 75, 100] if top <= 100 else count_ticks(top)
        options.setdefault("value_formatter", _percent_text)
    else:
        ticks = count_ticks(top)
    options.setdefault("y_labels", ticks)
    options.setdefault("range", (0, ticks[-1]))
    chart = chart_class(
        **_config(
            colors,
            series=len(series),
            height=_bar_height(len(labels) * (1 if stacked else max(len(series), 1))),
            margin_left=_label_margin(labels),
            margin_right=28,  # the last tick's "100%"
            print_values=True,
            **options,
        )
    )
    chart.x_labels = list(reversed(labels))
    for name, column in series:
        chart.add(name, list(reversed(column)))
    return chart


def stacked_bars(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    """Horizontal stacked bars: one bar per label, one segment per series (counts or, with
    values of one series per bar, figures coloured by kind)."""
    chart = _horizontal(_pygal().HorizontalStackedBar, labels, series, colors, stacked=True)
    chart.title = title
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
    `line_at`: a percentage whose guide is drawn as the target line (red, dashed)."""
    options = {}
    if line_at is not None:
        top = max([line_at * 2] + [v for _n, vs in series for v in vs if v is not None])
        step = 5 if top <= 40 else 10 if top <= 100 else 20
        ticks = sorted({*range(0, int(top) + step, step), line_at})
        options = dict(
            y_labels=ticks,
            range=(0, ticks[-1]),
            y_labels_major=[line_at],
            show_minor_y_labels=True,
            target_line=True,
        )
    chart = _horizontal(
        _pygal().HorizontalBar, labels, series, colors, percent=percent or line_at is not None,
        **options,
    )  # fmt: skip
    chart.title = title
    return _render(chart, title)


def pie(*, title: str, slices: list[tuple[str, int]], colors=SERIES_COLORS) -> SafeString:
    """A ring of counts (the shares of a whole)."""
    chart = _pygal().Pie(
        **_config(colors, series=len(slices), height=340, inner_radius=0.45, print_values=True)
    )
    chart.title = title
    for name, value in slices:
        chart.add(name, value or None)
    return _render(chart, title)


def lines(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    """A line over the quarters, its axis from 0."""
    top = max([v for _n, vs in series for v in vs if v is not None], default=0)
    ticks = count_ticks(top)
    chart = _pygal().Line(
        **_config(
            colors,
            series=len(series),
            height=300,
            print_values=True,
            dots_size=5,
            y_labels=ticks,
            range=(0, ticks[-1]),
            margin_left=24,
            margin_right=48,  # the last quarter's label and value
            value_formatter=_plain,
        )
    )
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _render(chart, title)


def stacked_columns(
    *, title: str, labels: list[str], series: list[tuple[str, list]], colors=SERIES_COLORS
) -> SafeString:
    """Stacked columns of counts over the quarters."""
    ticks = count_ticks(max(_column_sums(series), default=0))
    chart = _pygal().StackedBar(
        **_config(
            colors,
            series=len(series),
            height=300,
            print_values=True,
            y_labels=ticks,
            range=(0, ticks[-1]),
        )
    )
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _render(chart, title)
