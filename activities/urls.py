from django.urls import path

from . import statistics_views, views

urlpatterns = [
    path("nodes/<int:pk>/duties/", views.NodeDutiesView.as_view(), name="node-duties"),
    path(
        "nodes/<int:pk>/duties/export.xlsx",
        views.NodeDutiesExportView.as_view(),
        name="node-duties-export",
    ),
    path("nodes/<int:pk>/activities/", views.NodeRecordsView.as_view(), name="node-activities"),
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
