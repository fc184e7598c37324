"""Writes of account security: tokens, API keys and unlocking a locked-out account. Keyword-
only and atomic like every service; key changes and unlocks go to the change record."""

from __future__ import annotations

import datetime

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..history import record_change
from ..models import ChangeRecord, Level
from . import secrets
from .models import ApiKey, ApiToken

KEY_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
KEY_FIELDS = ["label", "prefix", "node", "expires_at", "revoked_at"]


def _stamp(value) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def token_create(*, actor, label: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """A new token of the actor's own account; returns it with its text (shown once)."""
    days = days or settings.API_TOKEN_DAYS
    new = secrets.new_token()
    token = ApiToken.objects.create(
        user=actor,
        label=(label or "").strip()[:100],
        prefix=new.prefix,
        key_hash=new.key_hash,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    return token, new.raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    permissions.require(token.user_id == actor.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def api_key_create(*, actor, node, label: str, days: int) -> tuple[ApiKey, str]:
    """A read-only key of another system bound to a county, township or village node of the
    actor's county; returns it with its text (shown once)."""
    permissions.require(permissions.can_manage_users(actor), "只有县级管理员可以管理 API 密钥。")
    if node.level not in KEY_LEVELS or node.county_id != actor.county_id:
        raise ValidationError(
            {"node": ValidationError("API 密钥只能绑定本县的县、乡镇或村。", code="key_node")}
        )
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": ValidationError("请填写用途说明。", code="required")})
    if not 1 <= days <= settings.API_KEY_MAX_DAYS:
        raise ValidationError(
            {
                "days": ValidationError(
                    f"有效期应为 1 到 {settings.API_KEY_MAX_DAYS} 天。", code="key_days"
                )
            }
        )
    new = secrets.new_key(node.county_id)
    key = ApiKey(
        node=node,
        label=label[:100],
        prefix=new.prefix,
        key_hash=new.key_hash,
        expires_at=timezone.now() + datetime.timedelta(days=days),
        created_by=actor,
    )
    key.place_under(node)
    key.save()
    record_change(
        actor=actor,
        node=node,
        obj=key,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=_key_snapshot(key),
    )
    return key, new.raw


def _key_snapshot(key: ApiKey) -> dict:
    return {
        "label": key.label,
        "prefix": key.prefix,
        "node": key.node_id,
        "expires_at": _stamp(key.expires_at),
        "revoked_at": _stamp(key.revoked_at),
    }


@transaction.atomic
def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    permissions.require(permissions.can_manage_users(actor), "只有县级管理员可以管理 API 密钥。")
    if key.revoked_at is not None:
        return key
    before = _key_snapshot(key)
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    record_change(
        actor=actor,
        node=key.node,
        obj=key,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=_key_snapshot(key),
    )
    return key


@transaction.atomic
def user_unlock(*, actor, user) -> int:
    """Lift a login lockout (every address the name was tried from); recorded with who did
    it. The caller found `user` in the actor's subtree (another county's account is a 404)."""
    permissions.require(permissions.can_manage_users(actor), "只有县级管理员可以解除锁定。")
    if user.county_id != actor.county_id:
        permissions.require(False)
    removed = axes_reset(username=user.username)
    record_change(
        actor=actor,
        node=user.node,
        obj=user,
        action=ChangeRecord.Action.UPDATE,
        before={"login_locked": True},
        after={"login_locked": False, "attempts_cleared": removed},
    )
    return removed
