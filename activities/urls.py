from django.urls import path

from . import (
    activity_views,
    attachment_views,
    start_views,
    statistics_views,
    views,
    visit_views,
)

urlpatterns = [
    path("nodes/<int:pk>/duties/", views.NodeDutiesView.as_view(), name="node-duties"),
    path(
        "nodes/<int:pk>/duties/export.xlsx",
        views.NodeDutiesExportView.as_view(),
        name="node-duties-export",
    ),
    path("nodes/<int:pk>/activities/", views.NodeRecordsView.as_view(), name="node-activities"),
    # --- phone entry: activity and home visit pages, the group leader's start page ---
    path("start/", start_views.LeaderStartView.as_view(), name="leader-start"),
    path(
        "nodes/<int:pk>/activities/new/",
        activity_views.ActivityCreateView.as_view(),
        name="activity-create",
    ),
    path(
        "activities/<int:pk>/", activity_views.ActivityDetailView.as_view(), name="activity-detail"
    ),
    path(
        "activities/<int:pk>/edit/", activity_views.ActivityEditView.as_view(), name="activity-edit"
    ),
    path(
        "activities/<int:pk>/attendees/",
        activity_views.ActivityAttendeesView.as_view(),
        name="activity-attendees",
    ),
    path(
        "activities/<int:pk>/delete/",
        activity_views.ActivityDeleteView.as_view(),
        name="activity-delete",
    ),
    path("nodes/<int:pk>/visits/new/", visit_views.VisitCreateView.as_view(), name="visit-create"),
    path(
        "nodes/<int:pk>/visits/households/",
        visit_views.VisitHouseholdsView.as_view(),
        name="visit-households",
    ),
    path("visits/<int:pk>/", visit_views.VisitDetailView.as_view(), name="visit-detail"),
    path("visits/<int:pk>/edit/", visit_views.VisitEditView.as_view(), name="visit-edit"),
    path("visits/<int:pk>/delete/", visit_views.VisitDeleteView.as_view(), name="visit-delete"),
    # --- end of phone entry ---
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
    # activity statistics (page and sheet)
    path(
        "nodes/<int:pk>/activity-stats/",
        statistics_views.NodeActivityStatsView.as_view(),
        name="node-activity-stats",
    ),
    path(
        "nodes/<int:pk>/activity-stats/export.xlsx",
        statistics_views.NodeActivityStatsExportView.as_view(),
        name="node-activity-stats-export",
    ),
]
