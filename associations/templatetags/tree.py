from django import template

from ..models import Level
from ..permissions import in_user_subtree

register = template.Library()


@register.filter
def opens_for(node, user) -> bool:
    """Whether a breadcrumb may link: nodes above the user's own node are shown, not linked."""
    return in_user_subtree(user, node)


@register.filter
def level_label(level: str) -> str:
    return Level(level).label if level else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
