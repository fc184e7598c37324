"""How a duty's tally or share reads on a page: "2 ✓" in green, "0 ✗" in red, "—"."""

from django import template
from django.utils.html import format_html

from activities.duty_tables import Share, tally_text

register = template.Library()


def _marked(text: str, met: bool | None, pending: bool = False):
    if pending:
        return format_html('<span class="duty-pending" title="本期尚未结束">{}</span>', text)
    css = "muted" if met is None else ("duty-met" if met else "duty-miss")
    label = "不适用" if met is None else ("达标" if met else "未达标")
    return format_html('<span class="{}" title="{}">{}</span>', css, label, text)


@register.filter
def tally(value):
    return _marked(tally_text(value), value.met, value.pending)


@register.filter
def share_mark(value: Share):
    """A village's own duty over the period: ✓, ✗ (n/m), —."""
    met = None if not value.total else value.met == value.total
    return _marked(value.mark, met, pending=not value.total and bool(value.pending))


@register.filter
def share_count(value: Share):
    return value.count_text
