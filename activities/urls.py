from django.urls import path

from . import views

urlpatterns = [
    path("nodes/<int:pk>/duties/", views.NodeDutiesView.as_view(), name="node-duties"),
    path(
        "nodes/<int:pk>/duties/export.xlsx",
        views.NodeDutiesExportView.as_view(),
        name="node-duties-export",
    ),
    path("nodes/<int:pk>/activities/", views.NodeRecordsView.as_view(), name="node-activities"),
]
