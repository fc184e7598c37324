from django import template

from ..drafts import draft_key, pop_saved_drafts

register = template.Library()


@register.inclusion_tag("_drafts_saved.html", takes_context=True)
def saved_drafts(context) -> dict:
    """The drafts a service has just saved: the browser deletes them (static/js/forms.js)."""
    request = context.get("request")
    return {"keys": pop_saved_drafts(request) if request is not None else []}


@register.simple_tag(takes_context=True)
def form_draft_key(context) -> str:
    return draft_key(context["request"])
