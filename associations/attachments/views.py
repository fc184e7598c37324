"""Pages of attachments, for every app: upload (POST, several files at once), download, the
thumbnail, delete (POST), and the context of the attachments card
(templates/attachments/_card.html).

An app subclasses the three views with two hooks: `owner(pk)` finds the owner through the
app's scoped selector (404 out of scope), `attachment(pk)` the attachment likewise, and
`rules` (an AttachmentRules) says who may write, where the owner sits, and where to go back.

Files are sent with the type sniffed at upload, `X-Content-Type-Options: nosniff`, a
sandboxing Content-Security-Policy, no caching by shared caches, and as a download (pictures
inline). A file missing on disk is a 404 with a message, never a 500."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from ..views import StaffView
from . import checks, storage, uploads
from .models import AttachmentBase
from .services import AttachmentRules

MAX_FILES_PER_UPLOAD = 10
ACCEPT = "image/*,.pdf,.docx,.xlsx"


def card_context(*, user, rules: AttachmentRules, owner, upload_url: str, here: str) -> dict:
    """What templates/attachments/_card.html shows: `{% include "attachments/_card.html"
    with card=attachment_card %}`, with attachment_card this dict."""
    model = rules.model
    rows = list(
        model.objects.filter(**{f"{model.owner_field}_id": owner.pk}).select_related("uploaded_by")
    )
    return {
        "attachments": rows,
        "can_write": rules.may_write(user, owner),
        "upload_url": upload_url,
        "here": here,
        "accept": ACCEPT,
        "max_mb": f"{checks.max_bytes() / 1024 / 1024:.0f}",
        "max_files": MAX_FILES_PER_UPLOAD,
    }


def _back(request, fallback: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _error_text(error: ValidationError) -> str:
    return ";".join(str(m) for m in error.messages)


@method_decorator(csrf_exempt, name="dispatch")
class AttachmentUploadView(StaffView):
    """POST: the files of the `file` field. The size cap is kept while the body is read
    (uploads.cap_uploads), so CSRF is checked here, after the handler is in place."""

    rules: AttachmentRules

    def dispatch(self, request, *args, **kwargs):
        uploads.cap_uploads(request)
        checked = csrf_protect(
            lambda request, *a, **k: super(AttachmentUploadView, self).dispatch(request, *a, **k)
        )
        return checked(request, *args, **kwargs)

    def owner(self, pk):
        raise NotImplementedError

    def get(self, request, pk):
        return redirect(self.rules.back_url(self.owner(pk)))

    def post(self, request, pk):
        owner = self.owner(pk)
        rules = self.rules
        allowed = rules.may_write(request.user, owner)
        back = _back(request, rules.back_url(owner))
        files = request.FILES.getlist("file")
        oversize = uploads.oversize_uploads(request)
        if allowed:
            for name in oversize:
                text = checks.too_large().message_text
                messages.error(request, f"“{storage.display_name(name, '')[:-1]}”未能上传:{text}")
            if not files and not oversize:
                messages.error(request, "请选择要上传的文件。")
            if not files:
                return redirect(back)
        if len(files) > MAX_FILES_PER_UPLOAD:
            messages.error(request, f"一次最多上传 {MAX_FILES_PER_UPLOAD} 个文件。")
            return redirect(back)
        stored, replayed = [], []
        for upload in files or [None]:
            try:
                attachment = rules.add(actor=request.user, owner=owner, upload=upload)
            except ValidationError as error:
                name = storage.display_name(upload.name, "")[:-1] if upload else ""
                messages.error(request, f"“{name}”未能上传:{_error_text(error)}")
                continue
            (replayed if attachment.replayed else stored).append(attachment.name)
        if stored:
            messages.success(request, f"已上传 {len(stored)} 个附件:{'、'.join(stored)}。")
        if replayed:
            messages.info(request, f"以下文件此前已上传过,没有重复保存:{'、'.join(replayed)}。")
        return redirect(back)


def serve(attachment: AttachmentBase, *, thumbnail: bool = False) -> FileResponse:
    relative = attachment.thumbnail if thumbnail else attachment.file
    path = storage.resolve(relative)
    if path is None:
        raise Http404("附件文件已不存在。")
    content_type = "image/jpeg" if thumbnail else attachment.content_type
    response = FileResponse(path.open("rb"), content_type=content_type)
    name = attachment.name
    disposition = "inline" if attachment.is_image else "attachment"
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    response["Content-Disposition"] = (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


class AttachmentDownloadView(StaffView):
    thumbnail = False

    def attachment(self, pk) -> AttachmentBase:
        raise NotImplementedError

    def get(self, request, pk):
        attachment = self.attachment(pk)
        if self.thumbnail and not attachment.thumbnail:
            raise Http404("该附件没有缩略图。")
        return serve(attachment, thumbnail=self.thumbnail)


class AttachmentDeleteView(StaffView):
    rules: AttachmentRules

    def attachment(self, pk) -> AttachmentBase:
        raise NotImplementedError

    def post(self, request, pk):
        attachment = self.attachment(pk)
        owner = attachment.owner
        try:
            self.rules.delete(actor=request.user, attachment=attachment)
        except ValidationError as error:
            messages.error(request, f"“{attachment.name}”未能删除:{_error_text(error)}")
            return redirect(_back(request, self.rules.back_url(owner)))
        messages.success(request, f"已删除附件“{attachment.name}”。")
        return redirect(_back(request, self.rules.back_url(owner)))
