from django.urls import path

from . import job_views
from .imports import views as import_views

urlpatterns = [
    path("jobs/<int:pk>/", job_views.JobView.as_view(), name="job"),
    path("jobs/<int:pk>/resend/", job_views.JobResendView.as_view(), name="job-resend"),
    path("jobs/<int:pk>/download/", job_views.JobDownloadView.as_view(), name="job-download"),
    path("nodes/<int:pk>/imports/", import_views.ImportUploadView.as_view(), name="import-upload"),
    path(
        "imports/templates/<slug:kind>.xlsx",
        import_views.ImportTemplateView.as_view(),
        name="import-template",
    ),
    path("jobs/<int:pk>/commit/", import_views.ImportCommitView.as_view(), name="import-commit"),
    path("jobs/<int:pk>/recheck/", import_views.ImportRecheckView.as_view(), name="import-recheck"),
    path(
        "jobs/<int:pk>/errors.xlsx", import_views.ImportErrorsView.as_view(), name="import-errors"
    ),
]
