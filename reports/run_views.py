"""The report run pages: a county's runs by period with the 生成考核 form, the run's page (the
shared job page, with the results table when done and the publish button), the comparison
with the previous run of the period, and for township staff their villages' results.

A run sits at the county node: the scope hides it from township and village accounts (404).
Township staff read the published snapshot rows of their township on their node's 考核结果
page: the rows of the villages that were theirs when the run was built (SnapshotNode
.as_published), so a village moved away after publishing stays in its old township's
results. Village staff read their own row on their node's 考核结果 page: its scores, total,
grade and ranks, nothing of the other villages. Unpublished runs: county accounts only."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from associations import permissions as association_permissions
from associations import selectors as association_selectors
from associations.models import Job, Level
from associations.periods import PERIOD_ERROR, parse_period, period_label
from associations.views import StaffView

from . import runs
from .models import ReportRun, SchemeIndicator, SchemeVersion, SnapshotNode


class RunForm(forms.Form):
    period = forms.CharField(
        label="统计期", max_length=10, help_text="如 2026-Q1(季度)、2026-H1(半年)、2026(年)。"
    )
    version = forms.ModelChoiceField(label="考核细则版本", queryset=SchemeVersion.objects.none())

    def __init__(self, *args, county, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = (
            SchemeVersion.objects.filter(county_id=county.pk)
            .exclude(state=SchemeVersion.State.DRAFT)
            .select_related("scheme")
            .order_by("-scheme__year", "-number")
        )
        self.fields["version"].error_messages["invalid_choice"] = "请选择已启用的考核细则版本。"

    def clean_period(self):
        key = self.cleaned_data["period"]
        try:
            parse_period(key)
        except ValueError:
            raise ValidationError(PERIOD_ERROR) from None
        if len(key.strip()) == 7 and "-Q" not in key.upper() and "-H" not in key.upper():
            raise ValidationError("考核按季度、半年或年度生成,如 2026-Q1、2026-H1、2026。")
        return key.strip().upper()


def _node(request, pk):
    return association_selectors.association_get(actor=request.user, pk=pk)


def _run(pk) -> ReportRun:
    return get_object_or_404(ReportRun.objects.select_related("job", "version__scheme"), pk=pk)


def _is_county_user(user) -> bool:
    return user.node_level == Level.COUNTY


def run_list_context(request, county, form=None) -> dict:
    by_period = defaultdict(list)
    for run in ReportRun.objects.filter(county_id=county.pk).select_related(
        "job", "version__scheme", "created_by"
    ):
        by_period[run.period_key].append(run)
    periods = [
        {"key": key, "label": period_label(parse_period(key)), "runs": items}
        for key, items in sorted(by_period.items(), reverse=True)
    ]
    return {
        "node": county,
        "breadcrumbs": county.lineage(),
        "periods": periods,
        "form": form or RunForm(county=county),
        "can_manage": runs.permissions.can_manage_schemes(request.user, county),
    }


def results_for(rows) -> list[dict]:
    """Snapshot rows of villages (and their township rows) grouped by township, as the
    snapshot recorded them."""
    townships = {}
    for row in rows:
        if row.level == Level.TOWNSHIP:
            townships.setdefault(row.node_id_at, {"row": None, "villages": []})["row"] = row
    for row in rows:
        if row.level == Level.VILLAGE:
            townships.setdefault(row.township_node_id, {"row": None, "villages": []})[
                "villages"
            ].append(row)
    return sorted(townships.values(), key=lambda t: t["row"].division_code if t["row"] else "")


def _columns(rows) -> list[dict]:
    """The village indicators as the snapshot recorded them (its township or county rows)."""
    for row in rows:
        if row.level in (Level.COUNTY, Level.TOWNSHIP):
            return row.figures.get("columns", [])
    return []


def run_context(job: Job) -> dict:
    """What the job page of a report run shows besides the job: the run, its results."""
    run = ReportRun.objects.select_related("version__scheme", "published_by").get(job=job)
    context = {"run": run, "period_label": period_label(parse_period(run.period_key))}
    if run.state == ReportRun.State.DONE:
        rows = list(SnapshotNode.objects.filter(run=run).order_by("division_code"))
        context.update(
            townships=results_for(rows),
            county_row=next((r for r in rows if r.level == Level.COUNTY), None),
            columns=_columns(rows),
            previous=runs.previous_run(run),
        )
    return context


def township_runs(request, township) -> tuple[dict[int, ReportRun], ReportRun | None]:
    """The done runs whose snapshot has this township (published ones only for accounts
    below the county), and the one asked for by `?run=` (404 if not among them) or else the
    latest."""
    return _runs_with_row(request, township)


def _runs_with_row(request, node) -> tuple[dict[int, ReportRun], ReportRun | None]:
    mine = SnapshotNode.as_published.filter(
        level=node.level, node_id_at=node.pk, run__state=ReportRun.State.DONE
    ).select_related("run", "run__version__scheme")
    if not _is_county_user(request.user):
        mine = mine.filter(run__published_at__isnull=False)
    available = {row.run_id: row.run for row in mine}
    chosen = None
    run_id = request.GET.get("run", "")
    if run_id:
        if not run_id.isdigit() or int(run_id) not in available:
            raise Http404("没有这个考核结果。")
        chosen = available[int(run_id)]
    elif available:
        chosen = max(available.values(), key=lambda r: (r.period_key, r.number))
    return available, chosen


class RunListView(StaffView):
    """County: the runs by period and the 生成考核 form. Township: its villages' results."""

    def get(self, request, pk):
        node = _node(request, pk)
        if node.level == Level.COUNTY and _is_county_user(request.user):
            return render(request, "reports/run_list.html", run_list_context(request, node))
        if node.level == Level.TOWNSHIP:
            return self.township(request, node)
        if node.level == Level.VILLAGE:
            return self.village(request, node)
        raise Http404("考核结果在县级、乡镇或村(社区)页面查看。")

    def village(self, request, village):
        """The village's own row of a done run (published ones only below the county): its
        indicators, total out of the period's maximum, grade and ranks."""
        available, chosen = _runs_with_row(request, village)
        context = {
            "node": village,
            "breadcrumbs": village.lineage(),
            "runs": sorted(
                available.values(), key=lambda r: (r.period_key, r.number), reverse=True
            ),
            "run": chosen,
        }
        if chosen is not None:
            row = SnapshotNode.as_published.get(
                run=chosen, level=Level.VILLAGE, node_id_at=village.pk
            )
            columns = SnapshotNode.as_published.columns(chosen.pk)
            context.update(
                row=row,
                cells=[{**c, "cell": row.indicators.get(c["key"], {})} for c in columns],
                period_label=period_label(parse_period(chosen.period_key)),
            )
        return render(request, "reports/run_village.html", context)

    def township(self, request, township):
        available, chosen = township_runs(request, township)
        context = {
            "node": township,
            "breadcrumbs": township.lineage(),
            "runs": sorted(
                available.values(), key=lambda r: (r.period_key, r.number), reverse=True
            ),
            "run": chosen,
        }
        if chosen is not None:
            rows = list(
                SnapshotNode.as_published.filter(run=chosen, township_node_id=township.pk).order_by(
                    "division_code"
                )
            )
            context.update(
                townships=results_for(rows),
                columns=_columns(rows),
                period_label=period_label(parse_period(chosen.period_key)),
            )
        return render(request, "reports/run_township.html", context)


class RunCreateView(StaffView):
    def post(self, request, pk):
        county = _node(request, pk)
        if county.level != Level.COUNTY:
            raise Http404("考核在县级协会页面生成。")
        association_permissions.require(
            runs.permissions.can_manage_schemes(request.user, county),
            "只有县级管理员可以生成考核。",
        )
        form = RunForm(request.POST, county=county)
        if form.is_valid():
            try:
                run, created = runs.request_run(
                    actor=request.user,
                    county=county,
                    period_key=form.cleaned_data["period"],
                    version=form.cleaned_data["version"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                if not created:
                    messages.info(request, "该统计期已有正在生成的考核,已转到该任务。")
                return redirect("job", pk=run.job_id)
        context = run_list_context(request, county, form)
        return render(request, "reports/run_list.html", context, status=400)


class RunView(StaffView):
    def get(self, request, pk):
        return redirect("job", pk=_run(pk).job_id)


class RunPublishView(StaffView):
    def post(self, request, pk):
        run = _run(pk)
        try:
            runs.publish(actor=request.user, run=run)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "考核结果已发布。")
        return redirect("job", pk=run.job_id)


class RunCompareView(StaffView):
    def get(self, request, pk):
        run = _run(pk)
        previous = runs.previous_run(run)
        county = run.county
        names = {i.key: i.name for i in SchemeIndicator.objects.filter(version_id=run.version_id)}
        if previous is not None:
            names = {
                **{
                    i.key: i.name
                    for i in SchemeIndicator.objects.filter(version_id=previous.version_id)
                },
                **names,
            }
        changes = runs.compare(run, previous) if previous and run.state == "done" else []
        for change in changes:
            for item in change["indicators"]:
                item["name"] = names.get(item["key"], item["key"])
        return render(
            request,
            "reports/run_compare.html",
            {
                "node": county,
                "breadcrumbs": county.lineage(),
                "run": run,
                "previous": previous,
                "changes": changes,
                "period_label": period_label(parse_period(run.period_key)),
            },
        )
