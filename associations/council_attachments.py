"""The attachments of a council term (选举报告、换届批复、会议照片 — the archives of seed 002
art. 12-13): the service wrappers and pages, over associations.attachments. Whoever may manage
the council adds and deletes them; everyone who sees the council sees them. The council page
shows them as a card for the current term."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from . import permissions, selectors
from .attachments import services as attachment_services
from .attachments import views as attachment_views
from .models import Council, CouncilAttachment


def may_attach(user, council: Council) -> bool:
    return permissions.can_manage_council(user, council.association)


def _back(council: Council) -> str:
    return reverse("council", kwargs={"pk": council.association_id})


RULES = attachment_services.AttachmentRules(
    model=CouncilAttachment, may_write=may_attach, node_of=lambda c: c.association, back_url=_back
)


def council_attachment_add(*, actor, council: Council, upload) -> CouncilAttachment:
    return RULES.add(actor=actor, owner=council, upload=upload)


def council_attachment_delete(*, actor, attachment: CouncilAttachment) -> None:
    RULES.delete(actor=actor, attachment=attachment)


def council_attachment_get(*, actor, pk) -> CouncilAttachment:
    return get_object_or_404(
        CouncilAttachment.objects.select_related("council__association"), pk=pk
    )


def council_attachment_card(request, council: Council) -> dict:
    return attachment_views.card_context(
        user=request.user,
        rules=RULES,
        owner=council,
        upload_url=reverse("council-attachment-upload", kwargs={"pk": council.pk}),
        here=_back(council),
    )


class CouncilAttachmentUploadView(attachment_views.AttachmentUploadView):
    rules = RULES

    def owner(self, pk):
        return selectors.council_get(pk=pk)


class CouncilAttachmentView(attachment_views.AttachmentDownloadView):
    def attachment(self, pk):
        return council_attachment_get(actor=self.request.user, pk=pk)


class CouncilAttachmentThumbView(CouncilAttachmentView):
    thumbnail = True


class CouncilAttachmentDeleteView(attachment_views.AttachmentDeleteView):
    rules = RULES

    def attachment(self, pk):
        return council_attachment_get(actor=self.request.user, pk=pk)
