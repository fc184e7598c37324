"""Scoped reads of the reports app. Schemes sit at the county node: outside a county-level
scope they are not there (404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from associations.models import Association

from .models import AssessmentScheme, SchemeIndicator, SchemeVersion


def scheme_list(*, county: Association) -> QuerySet[AssessmentScheme]:
    """The county's schemes, newest year first, each with its versions (newest first)."""
    return AssessmentScheme.objects.filter(county_id=county.pk).prefetch_related(
        Prefetch("versions", queryset=SchemeVersion.objects.order_by("-number"))
    )


def version_get(*, pk) -> SchemeVersion:
    return get_object_or_404(SchemeVersion.objects.select_related("scheme", "copied_from"), pk=pk)


def version_indicators(*, version: SchemeVersion) -> QuerySet[SchemeIndicator]:
    return SchemeIndicator.objects.filter(version=version).order_by("level", "order", "id")


def indicator_get(*, pk) -> SchemeIndicator:
    return get_object_or_404(SchemeIndicator.objects.select_related("version__scheme"), pk=pk)


def scheme_versions(*, scheme: AssessmentScheme) -> QuerySet[SchemeVersion]:
    return SchemeVersion.objects.filter(scheme=scheme).order_by("-number")
