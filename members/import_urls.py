from django.urls import path

from . import import_views

urlpatterns = [
    path("nodes/<int:pk>/imports/", import_views.ImportUploadView.as_view(), name="import-upload"),
    path(
        "imports/templates/<slug:kind>.xlsx",
        import_views.ImportTemplateView.as_view(),
        name="import-template",
    ),
    path("imports/<int:pk>/", import_views.ImportJobView.as_view(), name="import-job"),
    path("imports/<int:pk>/commit/", import_views.ImportCommitView.as_view(), name="import-commit"),
    path(
        "imports/<int:pk>/recheck/", import_views.ImportRecheckView.as_view(), name="import-recheck"
    ),
    path(
        "imports/<int:pk>/errors.xlsx",
        import_views.ImportErrorsView.as_view(),
        name="import-errors",
    ),
]
