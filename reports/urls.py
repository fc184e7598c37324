from django.urls import path

from . import (
    dashboard_views,
    group_views,
    run_views,
    sheet_views,
    submission_attachments,
    submission_views,
    summary_views,
    target_views,
    views,
)

urlpatterns = [
    path("nodes/<int:pk>/schemes/", views.SchemeListView.as_view(), name="scheme-list"),
    path("nodes/<int:pk>/schemes/new/", views.SchemeCreateView.as_view(), name="scheme-create"),
    path(
        "nodes/<int:pk>/schemes/default/",
        views.SchemeDefaultView.as_view(),
        name="scheme-create-default",
    ),
    path("schemes/versions/<int:pk>/", views.VersionView.as_view(), name="scheme-version"),
    path(
        "schemes/versions/<int:pk>/edit/",
        views.VersionEditView.as_view(),
        name="scheme-version-edit",
    ),
    path(
        "schemes/versions/<int:pk>/activate/",
        views.VersionActivateView.as_view(),
        name="scheme-version-activate",
    ),
    path(
        "schemes/versions/<int:pk>/copy/",
        views.VersionCopyView.as_view(),
        name="scheme-version-copy",
    ),
    path(
        "schemes/versions/<int:pk>/indicators/new/",
        views.IndicatorCreateView.as_view(),
        name="scheme-indicator-create",
    ),
    path(
        "schemes/indicators/<int:pk>/edit/",
        views.IndicatorEditView.as_view(),
        name="scheme-indicator-edit",
    ),
    path(
        "schemes/indicators/<int:pk>/delete/",
        views.IndicatorDeleteView.as_view(),
        name="scheme-indicator-delete",
    ),
    # --- report runs and snapshots ---
    path("nodes/<int:pk>/reports/", run_views.RunListView.as_view(), name="report-run-list"),
    path(
        "nodes/<int:pk>/reports/new/", run_views.RunCreateView.as_view(), name="report-run-create"
    ),
    path("reports/runs/<int:pk>/", run_views.RunView.as_view(), name="report-run"),
    path(
        "reports/runs/<int:pk>/publish/",
        run_views.RunPublishView.as_view(),
        name="report-run-publish",
    ),
    path(
        "reports/runs/<int:pk>/compare/",
        run_views.RunCompareView.as_view(),
        name="report-run-compare",
    ),
    # --- end of report runs and snapshots ---
    # --- printable sheets ---
    path(
        "reports/runs/<int:pk>/sheet.xlsx",
        sheet_views.RunSheetView.as_view(),
        name="report-run-sheet",
    ),
    path(
        "nodes/<int:pk>/reports/sheet.xlsx",
        sheet_views.TownshipSheetView.as_view(),
        name="report-township-sheet",
    ),
    path(
        "reports/runs/<int:pk>/activities.xlsx",
        sheet_views.RunActivitySheetView.as_view(),
        name="report-run-activities",
    ),
    # --- end of printable sheets ---
    # --- population sheet and summary ---
    path(
        "reports/runs/<int:pk>/population.xlsx",
        sheet_views.RunPopulationSheetView.as_view(),
        name="report-run-population",
    ),
    path(
        "reports/runs/<int:pk>/summary/",
        summary_views.SummaryView.as_view(),
        name="report-run-summary",
    ),
    path(
        "reports/runs/<int:pk>/summary.docx",
        summary_views.SummaryDocxView.as_view(),
        name="report-run-summary-docx",
    ),
    # --- end of population sheet and summary ---
    # --- assessment periods and submissions ---
    path("nodes/<int:pk>/periods/", submission_views.PeriodListView.as_view(), name="period-list"),
    path(
        "nodes/<int:pk>/periods/new/",
        submission_views.PeriodOpenView.as_view(),
        name="period-open",
    ),
    path(
        "nodes/<int:pk>/periods/<str:key>/",
        submission_views.PeriodNodeView.as_view(),
        name="period-node",
    ),
    path("periods/<int:pk>/", submission_views.PeriodDetailView.as_view(), name="period-detail"),
    path("periods/<int:pk>/lock/", submission_views.PeriodLockView.as_view(), name="period-lock"),
    path(
        "periods/<int:pk>/reopen/",
        submission_views.PeriodReopenView.as_view(),
        name="period-reopen",
    ),
    path(
        "submissions/<int:pk>/",
        submission_views.SubmissionView.as_view(),
        name="submission-detail",
    ),
    path(
        "submissions/<int:pk>/review/",
        submission_views.SubmissionReviewView.as_view(),
        name="submission-review",
    ),
    path(
        "submissions/<int:pk>/attachments/",
        submission_attachments.UploadView.as_view(),
        name="submission-attachment-upload",
    ),
    path(
        "submissions/attachments/<int:pk>/",
        submission_attachments.DownloadView.as_view(),
        name="submission-attachment",
    ),
    path(
        "submissions/attachments/<int:pk>/thumbnail/",
        submission_attachments.ThumbView.as_view(),
        name="submission-attachment-thumb",
    ),
    path(
        "submissions/attachments/<int:pk>/delete/",
        submission_attachments.DeleteView.as_view(),
        name="submission-attachment-delete",
    ),
    # --- end of assessment periods and submissions ---
    # --- targets (指标分解) ---
    path("nodes/<int:pk>/targets/", target_views.TargetView.as_view(), name="node-targets"),
    # --- end of targets ---
    # --- group ratings and performance pay ---
    path(
        "nodes/<int:pk>/group-ratings/<str:key>/",
        group_views.GroupRatingView.as_view(),
        name="group-ratings",
    ),
    path(
        "reports/runs/<int:pk>/groups.xlsx",
        group_views.RunGroupsSheetView.as_view(),
        name="report-run-groups-sheet",
    ),
    path(
        "reports/runs/<int:pk>/pay.xlsx",
        group_views.RunPaySheetView.as_view(),
        name="report-run-pay-sheet",
    ),
    # --- end of group ratings and performance pay ---
    # --- assessment dashboard ---
    path(
        "nodes/<int:pk>/dashboard/",
        dashboard_views.DashboardView.as_view(),
        name="report-dashboard",
    ),
    # --- end of assessment dashboard ---
]
