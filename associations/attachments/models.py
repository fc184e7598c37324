"""The abstract attachment every app's concrete attachment model builds on (activities'
ActivityAttachment, households' HouseholdAttachment, associations' CouncilAttachment). Each
concrete model adds the foreign key to its owner and names its URL routes in `url_names`.

A row sits where its owner sits (the owner's ancestor keys), so whoever sees the owner sees
its attachments and no one else; its table has row-level security like every scoped table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from ..models import ScopedModel
from ..scope import ScopedManager
from .checks import BY_CONTENT_TYPE


class AttachmentKind(models.TextChoices):
    IMAGE = "image", "图片"
    DOCUMENT = "document", "文档"


class AttachmentBase(ScopedModel):
    kind = models.CharField("类别", max_length=10, choices=AttachmentKind.choices)
    name = models.CharField("文件名", max_length=100, help_text="上传时的文件名,仅作显示。")
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveBigIntegerField("大小(字节)")
    sha256 = models.CharField("SHA-256", max_length=64)
    file = models.CharField("文件", max_length=255, help_text="相对于 MEDIA_ROOT 的路径。")
    thumbnail = models.CharField("缩略图", max_length=255, blank=True)
    width = models.PositiveIntegerField("宽(像素)", null=True, blank=True)
    height = models.PositiveIntegerField("高(像素)", null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = ScopedManager()

    # The owner's foreign key field, and the route names of download, thumbnail and delete:
    # set by each concrete model.
    owner_field = ""
    url_names = ("", "", "")

    class Meta:
        abstract = True
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.name}"

    @property
    def owner(self):
        return getattr(self, self.owner_field)

    @property
    def is_image(self) -> bool:
        return self.kind == AttachmentKind.IMAGE

    @property
    def extension(self) -> str:
        file_type = BY_CONTENT_TYPE.get(self.content_type)
        return file_type.extension if file_type else ""

    @property
    def type_label(self) -> str:
        file_type = BY_CONTENT_TYPE.get(self.content_type)
        return file_type.label if file_type else self.content_type

    def download_url(self) -> str:
        return reverse(self.url_names[0], kwargs={"pk": self.pk})

    def thumbnail_url(self) -> str | None:
        return reverse(self.url_names[1], kwargs={"pk": self.pk}) if self.thumbnail else None

    def delete_url(self) -> str:
        return reverse(self.url_names[2], kwargs={"pk": self.pk})


SNAPSHOT_FIELDS = ["kind", "name", "content_type", "size", "sha256", "width", "height"]
