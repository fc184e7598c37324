from django.urls import path

from . import attachment_views, views

urlpatterns = [
    path("nodes/<int:pk>/duties/", views.NodeDutiesView.as_view(), name="node-duties"),
    path(
        "nodes/<int:pk>/duties/export.xlsx",
        views.NodeDutiesExportView.as_view(),
        name="node-duties-export",
    ),
    path("nodes/<int:pk>/activities/", views.NodeRecordsView.as_view(), name="node-activities"),
    # attachments of an activity (photos, sign-in sheets, minutes)
    path(
        "activities/<int:pk>/attachments/",
        attachment_views.ActivityAttachmentUploadView.as_view(),
        name="activity-attachment-upload",
    ),
    path(
        "attachments/activity/<int:pk>/",
        attachment_views.ActivityAttachmentView.as_view(),
        name="activity-attachment",
    ),
    path(
        "attachments/activity/<int:pk>/thumb/",
        attachment_views.ActivityAttachmentThumbView.as_view(),
        name="activity-attachment-thumb",
    ),
    path(
        "attachments/activity/<int:pk>/delete/",
        attachment_views.ActivityAttachmentDeleteView.as_view(),
        name="activity-attachment-delete",
    ),
]
