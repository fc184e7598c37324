"""Who sees personal identifiers in full. The masking itself is households.identity's one
implementation; this module decides, per role and place, whether to apply it."""

from __future__ import annotations

from associations.models import Role

from .identity import mask_id_number, mask_phone

# The roles that enter and verify identity data: the county's administrators and the
# village secretaries who register people. Everyone else sees masked values everywhere.
FULL_IDENTITY_ROLES = {Role.COUNTY_ADMIN, Role.VILLAGE_SECRETARY}


def sees_full_identity(user) -> bool:
    if getattr(user, "is_api_key", False):  # other systems' API keys: masked always (issue 12)
        return False
    return getattr(user, "role", None) in FULL_IDENTITY_ROLES


def may_look_up_by_id_number(user) -> bool:
    return sees_full_identity(user)


def id_number_for(user, value: str | None, *, detail: bool = False) -> str:
    """Full only on a detail page (or a detail API call) and only for the roles above."""
    if not value:
        return ""
    return value if detail and sees_full_identity(user) else mask_id_number(value)


def phone_for(user, value: str | None, *, detail: bool = False) -> str:
    if not value:
        return ""
    return value if detail and sees_full_identity(user) else mask_phone(value)
