from django.urls import path

from . import roster_views

urlpatterns = [
    path("nodes/<int:pk>/rosters/", roster_views.RosterListView.as_view(), name="node-rosters"),
    path(
        "nodes/<int:pk>/rosters/<slug:kind>/",
        roster_views.RosterExportView.as_view(),
        name="roster-export",
    ),
]
