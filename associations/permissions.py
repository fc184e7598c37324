"""What a role may do to an object that is already in its scope (out of scope is a 404 long
before these run). In scope but not allowed is a 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import Association, Role

READ_ONLY_ROLES = {Role.COUNTY_VIEWER, Role.GROUP_LEADER}


def in_user_subtree(user, node: Association) -> bool:
    """Whether the user's own node is the node or one of its ancestors."""
    if not user.node_id:
        return False
    return getattr(node, f"{user.node_level}_id") == user.node_id


def can_edit_node(user, node: Association) -> bool:
    if user.role in READ_ONLY_ROLES or not user.role:
        return False
    return in_user_subtree(user, node)


def can_record_field_work(user, node: Association) -> bool:
    """Activities and home visits: the one write a group leader has (in their own group); the
    other staff roles record them at or below their node. County viewers only read."""
    if user.role == Role.COUNTY_VIEWER or not user.role:
        return False
    return in_user_subtree(user, node)


def can_create_child(user, parent: Association) -> bool:
    return parent.child_level is not None and can_edit_node(user, parent)


def can_move_node(user) -> bool:
    """Redistricting (区划调整) is a county decision."""
    return user.role == Role.COUNTY_ADMIN


def can_manage_council(user, association: Association) -> bool:
    return can_edit_node(user, association)


def can_manage_users(user) -> bool:
    return user.role == Role.COUNTY_ADMIN


def can_see_platform(user) -> bool:
    return bool(user.is_authenticated and user.is_platform_operator)


def require(allowed: bool, message: str = "您没有执行此操作的权限。") -> None:
    if not allowed:
        raise PermissionDenied(message)
