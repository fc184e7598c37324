"""The attachments of an activity: upload (POST /activities/<pk>/attachments/), download,
thumbnail and delete, over associations.attachments. The activity and the attachment are found
through the scoped selectors: another county's or a sibling village's is 404.

An activity's page shows them with
`{% include "attachments/_card.html" with card=attachment_card %}` and
`attachment_card = activity_attachment_card(request, activity)` in its context
(activities.activity_views does)."""

from __future__ import annotations

from dataclasses import replace

from django.urls import reverse

from associations.attachments import views as attachment_views

from . import selectors, services


def back_url(activity) -> str:
    """Where an upload or a deletion returns without a `next`: the activity's page."""
    return reverse("activity-detail", kwargs={"pk": activity.pk})


RULES = replace(services.ATTACHMENTS, back_url=back_url)


def activity_attachment_card(request, activity, *, here: str | None = None) -> dict:
    return attachment_views.card_context(
        user=request.user,
        rules=RULES,
        owner=activity,
        upload_url=reverse("activity-attachment-upload", kwargs={"pk": activity.pk}),
        here=here or request.get_full_path(),
    )


class ActivityAttachmentUploadView(attachment_views.AttachmentUploadView):
    rules = RULES

    def owner(self, pk):
        return selectors.activity_get(actor=self.request.user, pk=pk)


class ActivityAttachmentView(attachment_views.AttachmentDownloadView):
    def attachment(self, pk):
        return selectors.activity_attachment_get(actor=self.request.user, pk=pk)


class ActivityAttachmentThumbView(ActivityAttachmentView):
    thumbnail = True


class ActivityAttachmentDeleteView(attachment_views.AttachmentDeleteView):
    rules = RULES

    def attachment(self, pk):
        return selectors.activity_attachment_get(actor=self.request.user, pk=pk)
