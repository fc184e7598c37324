"""Who may see and change a county's assessment schemes. Schemes sit at the county node, so
the scope already hides them from township, village and group accounts (404); of the county
accounts, the county viewer (县级查看员) reads them and only the county admin (县级管理员)
changes them (403 for the viewer)."""

from __future__ import annotations

from associations.models import Association, Level, Role


def can_view_schemes(user, county: Association) -> bool:
    return user.node_level == Level.COUNTY and user.node_id == county.pk


def can_manage_schemes(user, county: Association) -> bool:
    return user.role == Role.COUNTY_ADMIN and user.node_id == county.pk
