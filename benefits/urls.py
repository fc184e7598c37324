"""The care-subsidies pages. Each part of the app keeps its routes beside its views and they
are gathered here."""

from django.urls import path

from . import (
    candidate_views,
    fund_views,
    home_views,
    loan_views,
    payments_views,
    program_views,
    reconfirmation_views,
    workflow_views,
)

urlpatterns = [
    path("benefits/", home_views.BenefitsHomeView.as_view(), name="benefits-home"),
    *fund_views.urlpatterns,
    *loan_views.urlpatterns,
    *payments_views.urlpatterns,
    *workflow_views.urlpatterns,
    *program_views.urlpatterns,
    *candidate_views.urlpatterns,
    *reconfirmation_views.urlpatterns,
]
