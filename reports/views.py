"""The scheme pages for county staff: the county's schemes, a version with its indicators, and
the forms that change a draft. Objects are fetched through the scoped selectors (out of scope:
404); reading needs a county-level account, changing needs the county admin (403)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from associations import permissions as association_permissions
from associations import selectors as association_selectors
from associations.forms import add_service_errors
from associations.models import Level
from associations.views import ServiceFormView, StaffView

from . import defaults, permissions, scoring, selectors, services
from .forms import DefaultSchemeForm, IndicatorForm, SchemeForm, VersionForm
from .indicators import REGISTRY
from .models import IndicatorLevel, Rule


def _county(request, pk):
    node = association_selectors.association_get(actor=request.user, pk=pk)
    if node.level != Level.COUNTY:
        raise Http404("考核细则在县级协会页面。")
    association_permissions.require(permissions.can_view_schemes(request.user, node))
    return node


def _version_county(request, version):
    county = association_selectors.association_get(actor=request.user, pk=version.county_id)
    association_permissions.require(permissions.can_view_schemes(request.user, county))
    return county


def _errors(error: ValidationError) -> list[str]:
    return list(error.messages)


# --- the county's schemes ----------------------------------------------------------------


def scheme_list_context(request, county, **extra) -> dict:
    return {
        "node": county,
        "breadcrumbs": county.lineage(),
        "schemes": selectors.scheme_list(county=county),
        "can_manage": permissions.can_manage_schemes(request.user, county),
        "default_form": extra.pop("default_form", None) or DefaultSchemeForm(),
        **extra,
    }


class SchemeListView(StaffView):
    def get(self, request, pk):
        county = _county(request, pk)
        return render(request, "reports/scheme_list.html", scheme_list_context(request, county))


class SchemeCreateView(ServiceFormView):
    template_name = "reports/form.html"

    def load(self, pk):
        self.county = _county(self.request, pk)

    def check_permission(self):
        return permissions.can_manage_schemes(self.request.user, self.county)

    def build_form(self, data=None):
        return SchemeForm(data)

    def perform(self, form):
        scheme = services.scheme_create(
            actor=self.request.user, county=self.county, **form.cleaned_data
        )
        messages.success(self.request, f"已新建“{scheme}”(第1版草稿),请添加指标。")
        return redirect("scheme-version", pk=scheme.versions.get().pk)

    def context(self):
        return {
            "node": self.county,
            "breadcrumbs": self.county.lineage(),
            "title": "新建考核细则",
            "cancel_url": ("scheme-list", self.county.pk),
        }


class SchemeDefaultView(StaffView):
    """POST: the default scheme for a year (reports.defaults)."""

    def post(self, request, pk):
        county = _county(request, pk)
        association_permissions.require(permissions.can_manage_schemes(request.user, county))
        form = DefaultSchemeForm(request.POST)
        if form.is_valid():
            try:
                scheme = defaults.scheme_create_default(
                    actor=request.user, county=county, year=form.cleaned_data["year"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"已按默认指标新建“{scheme}”(第1版草稿)。")
                return redirect("scheme-version", pk=scheme.versions.get().pk)
        context = scheme_list_context(request, county, default_form=form)
        return render(request, "reports/scheme_list.html", context, status=400)


# --- a version ---------------------------------------------------------------------------


def version_context(request, version, **extra) -> dict:
    county = _version_county(request, version)
    indicators = list(selectors.version_indicators(version=version))
    for indicator in indicators:
        indicator.rule_text = scoring.describe(indicator)
        registered = REGISTRY.get(indicator.key)
        computed = registered is not None and not indicator.manual
        indicator.unit = registered.unit if computed else ""
        indicator.definition = registered.definition if computed else ""
    totals = services.max_score_totals(version)
    return {
        "node": county,
        "breadcrumbs": county.lineage(),
        "version": version,
        "scheme": version.scheme,
        "versions": selectors.scheme_versions(scheme=version.scheme),
        "village_indicators": [i for i in indicators if i.level == IndicatorLevel.VILLAGE],
        "group_indicators": [i for i in indicators if i.level == IndicatorLevel.GROUP],
        "village_total": totals.get(IndicatorLevel.VILLAGE, 0),
        "group_total": totals.get(IndicatorLevel.GROUP, 0),
        "can_manage": permissions.can_manage_schemes(request.user, county),
        **extra,
    }


class VersionView(StaffView):
    def get(self, request, pk):
        version = selectors.version_get(pk=pk)
        return render(request, "reports/version.html", version_context(request, version))


class VersionActionView(StaffView):
    """POST-only actions on a version; a refusal shows the version page with the reason."""

    def act(self, version):
        raise NotImplementedError

    def post(self, request, pk):
        version = selectors.version_get(pk=pk)
        county = _version_county(request, version)
        association_permissions.require(permissions.can_manage_schemes(request.user, county))
        try:
            return self.act(version)
        except ValidationError as error:
            context = version_context(request, version, errors=_errors(error))
            return render(request, "reports/version.html", context, status=400)


class VersionActivateView(VersionActionView):
    def act(self, version):
        services.scheme_version_activate(actor=self.request.user, version=version)
        messages.success(self.request, f"“{version}”已启用。")
        return redirect("scheme-version", pk=version.pk)


class VersionCopyView(VersionActionView):
    def act(self, version):
        copy = services.scheme_new_version(actor=self.request.user, version=version)
        messages.success(self.request, f"已复制为“{copy}”(草稿),修改后再启用。")
        return redirect("scheme-version", pk=copy.pk)


class _VersionFormView(ServiceFormView):
    template_name = "reports/form.html"

    def load(self, pk):
        self.version = selectors.version_get(pk=pk)
        self.county = _version_county(self.request, self.version)

    def check_permission(self):
        return permissions.can_manage_schemes(self.request.user, self.county)

    def context(self):
        return {
            "node": self.county,
            "breadcrumbs": self.county.lineage(),
            "title": self.title(),
            "cancel_url": ("scheme-version", self.version.pk),
            "rule_help": Rule.choices,
        }

    def title(self) -> str:
        return str(self.version)


class VersionEditView(_VersionFormView):
    def build_form(self, data=None):
        return VersionForm(data, instance=self.version)

    def perform(self, form):
        services.scheme_version_update(
            actor=self.request.user, version=self.version, **form.cleaned_data
        )
        messages.success(self.request, "已保存。")
        return redirect("scheme-version", pk=self.version.pk)

    def title(self):
        return f"{self.version} · 分数线与绩效工资"


class IndicatorCreateView(_VersionFormView):
    def build_form(self, data=None):
        return IndicatorForm(data)

    def perform(self, form):
        services.indicator_add(
            actor=self.request.user, version=self.version, **form.cleaned_fields()
        )
        messages.success(self.request, "已添加指标。")
        return redirect("scheme-version", pk=self.version.pk)

    def title(self):
        return f"{self.version} · 添加指标"


class IndicatorEditView(_VersionFormView):
    def load(self, pk):
        self.indicator = selectors.indicator_get(pk=pk)
        self.version = self.indicator.version
        self.county = _version_county(self.request, self.version)

    def build_form(self, data=None):
        return IndicatorForm(data, instance=self.indicator)

    def perform(self, form):
        services.indicator_update(
            actor=self.request.user, indicator=self.indicator, **form.cleaned_fields()
        )
        messages.success(self.request, "已保存。")
        return redirect("scheme-version", pk=self.version.pk)

    def title(self):
        return f"{self.version} · 修改指标“{self.indicator.name}”"


class IndicatorDeleteView(StaffView):
    def post(self, request, pk):
        indicator = selectors.indicator_get(pk=pk)
        version = indicator.version
        county = _version_county(request, version)
        association_permissions.require(permissions.can_manage_schemes(request.user, county))
        try:
            services.indicator_remove(actor=request.user, indicator=indicator)
        except ValidationError as error:
            context = version_context(request, version, errors=_errors(error))
            return render(request, "reports/version.html", context, status=400)
        messages.success(request, f"已删除指标“{indicator.name}”。")
        return redirect("scheme-version", pk=version.pk)
