"""The attachments of a household (its archive: photos of assistance, certificates): upload
(POST /households/<pk>/attachments/), download, thumbnail and delete, over
associations.attachments; shown on the household page as a card. The household and the
attachment are found through the scoped selectors: another county's or a sibling village's
is 404."""

from __future__ import annotations

from dataclasses import replace

from django.urls import reverse

from associations.attachments import views as attachment_views

from . import selectors, services

RULES = replace(
    services.ATTACHMENTS,
    back_url=lambda household: reverse("household-detail", kwargs={"pk": household.pk}),
)


def household_attachment_card(request, household) -> dict:
    return attachment_views.card_context(
        user=request.user,
        rules=RULES,
        owner=household,
        upload_url=reverse("household-attachment-upload", kwargs={"pk": household.pk}),
        here=reverse("household-detail", kwargs={"pk": household.pk}),
    )


class HouseholdAttachmentUploadView(attachment_views.AttachmentUploadView):
    rules = RULES

    def owner(self, pk):
        return selectors.household_get(actor=self.request.user, pk=pk)


class HouseholdAttachmentView(attachment_views.AttachmentDownloadView):
    def attachment(self, pk):
        return selectors.household_attachment_get(actor=self.request.user, pk=pk)


class HouseholdAttachmentThumbView(HouseholdAttachmentView):
    thumbnail = True


class HouseholdAttachmentDeleteView(attachment_views.AttachmentDeleteView):
    rules = RULES

    def attachment(self, pk):
        return selectors.household_attachment_get(actor=self.request.user, pk=pk)
