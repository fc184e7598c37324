from django import template

from members import selectors

register = template.Library()


@register.simple_tag
def membership_ratio(node):
    """For the node page, which lives in associations and must not import members."""
    return selectors.membership_ratio(node=node)
