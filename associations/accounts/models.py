"""Personal API tokens and the API keys of other systems. Only a SHA-256 hash of each secret
is stored, with a short visible prefix to tell them apart on the pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..models import ScopedModel
from ..scope import ScopedManager


class CredentialState(models.TextChoices):
    ACTIVE = "active", "有效"
    EXPIRED = "expired", "已过期"
    REVOKED = "revoked", "已撤销"


class CredentialBase(models.Model):
    label = models.CharField("用途说明", max_length=100, blank=True)
    prefix = models.CharField("前缀", max_length=32, help_text="明文的开头几位,仅作辨认。")
    key_hash = models.CharField("摘要", max_length=64, help_text="密钥的 SHA-256,不存明文。")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.prefix}…{f'({self.label})' if self.label else ''}"

    @property
    def state(self) -> CredentialState:
        if self.revoked_at is not None:
            return CredentialState.REVOKED
        if self.expires_at <= timezone.now():
            return CredentialState.EXPIRED
        return CredentialState.ACTIVE

    @property
    def state_label(self) -> str:
        return self.state.label

    @property
    def is_active(self) -> bool:
        return self.state == CredentialState.ACTIVE


class ApiToken(CredentialBase):
    """A staff account's own API token: acts as that account (its node, role and scope).
    Not a scoped model: it is found by its hash while authenticating, before any scope exists,
    as the account itself is; pages list only the signed-in account's own tokens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="账号",
    )

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="api_token_hash_unique"),
        ]


class ApiKey(CredentialBase, ScopedModel):
    """The key of another system: reads (GET only) what its node's scope holds. Sits at its
    node like any county row, so a county admin sees and revokes only his county's keys and
    row-level security hides other counties' keys; the key's text carries its county id, so
    authentication enters that county before looking the hash up."""

    node = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="绑定的组织",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="撤销人",
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "API 密钥"
        verbose_name_plural = "API 密钥"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "key_hash"], name="api_key_hash_unique"),
        ]
