"""Evidence of a submission (佐证材料: photos of the 阵地 and its 标示牌, the archives'
index): the service wrappers and pages over associations.attachments. The village adds and
deletes them while it may change the submission (not yet submitted, or returned); the
township while it reviews a submitted one; nobody once the period is locked. Everyone who
sees the submission sees them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse

from associations.attachments import services as attachment_services
from associations.attachments import views as attachment_views

from . import submissions
from .models import Submission, SubmissionAttachment


def may_attach(user, submission: Submission) -> bool:
    if submission.period.is_locked:
        return False
    if submissions.can_fill(user, submission):
        return submission.state in submissions.EDITABLE_BY_VILLAGE
    return submissions.can_review(user, submission) and (
        submission.state == Submission.State.SUBMITTED
    )


LOCKED = "考核期已锁定,佐证材料不能再上传或删除;如需修改请联系县级管理员重新开放。"
ACCEPTED = "报送已审核通过,佐证材料不能再上传或删除。"


def check(actor, submission: Submission) -> None:
    """Why nobody may change the evidence now, in words (a 400 rather than a bare 403): the
    period is locked, or the submission accepted."""
    if submission.period.is_locked:
        raise ValidationError(LOCKED, code="period_locked")
    if submission.state == Submission.State.ACCEPTED:
        raise ValidationError(ACCEPTED, code="accepted")


def _back(submission: Submission) -> str:
    return reverse("submission-detail", kwargs={"pk": submission.pk})


RULES = attachment_services.AttachmentRules(
    model=SubmissionAttachment,
    may_write=may_attach,
    node_of=lambda submission: submission.village,
    check=check,
    back_url=_back,
)


def submission_attachment_add(*, actor, submission: Submission, upload):
    return RULES.add(actor=actor, owner=submission, upload=upload)


def submission_attachment_delete(*, actor, attachment: SubmissionAttachment) -> None:
    RULES.delete(actor=actor, attachment=attachment)


def _submission(pk) -> Submission:
    return get_object_or_404(Submission.objects.select_related("period", "village"), pk=pk)


def attachment_get(*, pk) -> SubmissionAttachment:
    return get_object_or_404(
        SubmissionAttachment.objects.select_related("submission__period", "submission__village"),
        pk=pk,
    )


def attachment_card(request, submission: Submission) -> dict:
    return attachment_views.card_context(
        user=request.user,
        rules=RULES,
        owner=submission,
        upload_url=reverse("submission-attachment-upload", kwargs={"pk": submission.pk}),
        here=_back(submission),
    )


class UploadView(attachment_views.AttachmentUploadView):
    rules = RULES

    def owner(self, pk):
        return _submission(pk)


class DownloadView(attachment_views.AttachmentDownloadView):
    def attachment(self, pk):
        return attachment_get(pk=pk)


class ThumbView(DownloadView):
    thumbnail = True


class DeleteView(attachment_views.AttachmentDeleteView):
    rules = RULES

    def attachment(self, pk):
        return attachment_get(pk=pk)
