"""Storing and deleting attachments, for every app. Each owner app declares once, in an
AttachmentRules, its attachment model, who may write (its permission rule for the owner) and
the node the owner sits at; `rules.add` and `rules.delete` then check the file, write it, and
record the change against the owner's node.

Files are written before the row; if the row cannot be saved they are removed at once. A
deletion removes the files only once the transaction that deleted the row has committed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from .. import permissions
from ..history import build_change, record_change, record_changes, snapshot
from ..models import Association, ChangeRecord
from . import checks, images, storage
from .models import SNAPSHOT_FIELDS, AttachmentBase, AttachmentKind

UPLOAD_REFUSED = "您没有在此上传或删除附件的权限。"


@dataclass(frozen=True)
class AttachmentRules:
    """An owner app's attachments: the model, who may add or delete them (user, owner) ->
    bool, the node the owner sits at (owner -> Association), a further check of the owner
    (actor, owner) -> None that raises ValidationError (an activity in a locked period), and,
    for the pages, where an upload or deletion returns to (owner -> URL; the app's views set
    it)."""

    model: type[AttachmentBase]
    may_write: Any
    node_of: Any
    check: Any = None
    back_url: Any = None

    def _checked(self, actor, owner) -> None:
        if self.check is not None:
            self.check(actor, owner)

    def add(self, *, actor, owner, upload) -> AttachmentBase:
        self._checked(actor, owner)
        return attachment_add(
            actor=actor,
            model=self.model,
            owner=owner,
            node=self.node_of(owner),
            upload=upload,
            allowed=self.may_write(actor, owner),
        )

    def delete(self, *, actor, attachment: AttachmentBase) -> None:
        owner = attachment.owner
        self._checked(actor, owner)
        attachment_delete(
            actor=actor,
            attachment=attachment,
            node=self.node_of(owner),
            allowed=self.may_write(actor, owner),
        )


@dataclass(frozen=True)
class Prepared:
    """An upload checked and ready to store."""

    name: str
    file_type: checks.FileType
    content: bytes
    thumbnail: bytes
    width: int | None
    height: int | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def prepare(upload) -> Prepared:
    """Read (bounded), sniff, and re-encode a picture; AttachmentRefused otherwise."""
    data = checks.read_limited(upload)
    file_type = checks.sniff(data)
    if file_type.is_image:
        picture = images.reencode(data, file_type)
        content, thumbnail = picture.content, picture.thumbnail
        file_type, width, height = picture.file_type, picture.width, picture.height
    else:
        content, thumbnail, width, height = data, b"", None, None
    name = storage.display_name(getattr(upload, "name", ""), file_type.extension)
    return Prepared(name, file_type, content, thumbnail, width, height)


def _owner_filter(model: type[AttachmentBase], owner) -> dict:
    return {f"{model.owner_field}_id": owner.pk}


@transaction.atomic
def attachment_add(
    *,
    actor,
    model: type[AttachmentBase],
    owner,
    node: Association,
    upload,
    allowed: bool,
) -> AttachmentBase:
    """Attach `upload` to `owner` (the row the model's owner_field points at), placed at
    `node` (where the owner sits). `allowed`: the app's permission rule's answer. The same
    file sent twice to the same owner (a double tap) is stored once: the existing attachment
    is returned with `replayed` set."""
    permissions.require(allowed, UPLOAD_REFUSED)
    prepared = prepare(upload)
    existing = (
        model.objects.filter(**_owner_filter(model, owner), sha256=prepared.sha256)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        existing.replayed = True
        return existing
    stem = storage.new_stem(node.county_id)
    path = f"{stem}.{prepared.file_type.extension}"
    thumb = f"{stem}_thumb.jpg" if prepared.thumbnail else ""
    attachment = model(
        **{model.owner_field: owner},
        kind=AttachmentKind.IMAGE if prepared.file_type.is_image else AttachmentKind.DOCUMENT,
        name=prepared.name,
        content_type=prepared.file_type.content_type,
        size=len(prepared.content),
        sha256=prepared.sha256,
        file=path,
        thumbnail=thumb,
        width=prepared.width,
        height=prepared.height,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    attachment.place_under(node)
    try:
        storage.write(path, prepared.content)
        if thumb:
            storage.write(thumb, prepared.thumbnail)
        with transaction.atomic():
            attachment.save()
            record_change(
                actor=actor,
                node=node,
                obj=attachment,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after=snapshot(attachment, [model.owner_field, *SNAPSHOT_FIELDS]),
            )
    except BaseException:
        storage.remove(path, thumb)
        raise
    attachment.replayed = False
    return attachment


def _remove_files_after_commit(attachments) -> None:
    paths = [p for a in attachments for p in (a.file, a.thumbnail) if p]
    if paths:
        transaction.on_commit(lambda: storage.remove(*paths))


@transaction.atomic
def attachment_delete(
    *, actor, attachment: AttachmentBase, node: Association, allowed: bool
) -> None:
    permissions.require(allowed, UPLOAD_REFUSED)
    fields = [attachment.owner_field, *SNAPSHOT_FIELDS]
    record_change(
        actor=actor,
        node=node,
        obj=attachment,
        action=ChangeRecord.Action.DELETE,
        before=snapshot(attachment, fields),
        after=None,
    )
    attachment.delete()
    _remove_files_after_commit([attachment])


def attachments_delete_all(*, actor, queryset, node: Association) -> None:
    """For a service deleting an owner (inside its transaction and permission check): every
    attachment of the owner, each recorded, the files removed after commit."""
    rows = list(queryset)
    if not rows:
        return
    fields = [rows[0].owner_field, *SNAPSHOT_FIELDS]
    record_changes(
        [
            build_change(
                actor=actor,
                node=node,
                obj=row,
                action=ChangeRecord.Action.DELETE,
                before=snapshot(row, fields),
                after=None,
            )
            for row in rows
        ]
    )
    queryset.model.objects.filter(pk__in=[row.pk for row in rows]).delete()
    _remove_files_after_commit(rows)
