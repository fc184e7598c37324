"""The assessment table per village as a printable sheet (reports.sheets): for county
accounts from the run's page (another county's run is 404, as the page), for a township's
staff from their 考核结果 page, limited to their township's villages (the runs that page
offers: published ones only for accounts below the county)."""

from __future__ import annotations

import datetime

from django.http import Http404
from django.utils import timezone

from associations.models import Level
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import activity_sheets, population_sheet, run_views, sheet_targets, sheets
from .models import ReportRun, SnapshotNode


def _today() -> datetime.date:
    return timezone.localdate()


class RunSheetView(StaffView):
    def get(self, request, pk):
        run = run_views._run(pk)
        if run.state != ReportRun.State.DONE:
            raise Http404("考核尚未生成完成,没有可打印的考核表。")
        rows = list(SnapshotNode.objects.filter(run=run).order_by("division_code", "id"))
        county_row = next((r for r in rows if r.level == Level.COUNTY), None)
        townships = run_views.results_for(rows)
        data = sheets.AssessmentSheet(
            run=run,
            county_name=county_row.name if county_row else run.county.name,
            columns=run_views._columns(rows),
            townships=townships,
            county_row=county_row,
            targets=sheet_targets.sheet_targets(run, townships, county_row),
        )
        content = sheets.assessment_xlsx(data, made_on=_today())
        return xlsx_response(content, sheets.sheet_filename(data))


class TownshipSheetView(StaffView):
    def get(self, request, pk):
        township = run_views._node(request, pk)
        if township.level != Level.TOWNSHIP:
            raise Http404("乡镇考核表在乡镇的考核结果页面下载。")
        _available, run = run_views.township_runs(request, township)
        if run is None:
            raise Http404("尚无发布的考核结果。")
        # The villages the township had when the run was built, as its results page reads
        # them: a village moved away since stays on this sheet, one moved in does not.
        rows = list(
            SnapshotNode.as_published.filter(run=run, township_node_id=township.pk).order_by(
                "division_code", "id"
            )
        )
        townships = run_views.results_for(rows)
        own_row = next((r for r in rows if r.level == Level.TOWNSHIP), None)
        data = sheets.AssessmentSheet(
            run=run,
            county_name=run.county.name,
            columns=SnapshotNode.as_published.columns(run.pk),
            townships=townships,
            targets=sheet_targets.sheet_targets(run, townships, None),
        )
        content = sheets.assessment_xlsx(data, made_on=_today())
        name = own_row.name if own_row else township.name
        return xlsx_response(content, sheets.sheet_filename(data, name))


class RunPopulationSheetView(StaffView):
    """Sheet 2, 人口与会员统计表: the run's population and member figures as the snapshot
    recorded them; the same access as the assessment table (county accounts, 404 else)."""

    def get(self, request, pk):
        run = run_views._run(pk)
        if run.state != ReportRun.State.DONE:
            raise Http404("考核尚未生成完成,没有可打印的统计表。")
        rows = list(SnapshotNode.objects.filter(run=run).order_by("division_code", "id"))
        county_row = next((r for r in rows if r.level == Level.COUNTY), None)
        county_name = county_row.name if county_row else run.county.name
        content = population_sheet.population_xlsx(
            county_name, run, run_views.results_for(rows), county_row, made_on=_today()
        )
        return xlsx_response(content, population_sheet.sheet_filename(county_name, run))


class RunActivitySheetView(StaffView):
    """Sheet 3 (活动统计表) of a run, from its snapshot: the same access as the run's
    assessment sheet (county accounts; another county's run is 404)."""

    def get(self, request, pk):
        run = run_views._run(pk)
        if run.state != ReportRun.State.DONE:
            raise Http404("考核尚未生成完成,没有可打印的活动统计表。")
        rows = list(
            SnapshotNode.objects.filter(run=run)
            .exclude(level=Level.GROUP)
            .order_by("division_code", "id")
        )
        county_row = next((r for r in rows if r.level == Level.COUNTY), None)
        if not activity_sheets.has_figures(county_row):
            raise Http404("这次考核生成时尚未保存活动统计,请重新生成考核后再下载活动统计表。")
        data = activity_sheets.ActivitySheet(
            run=run,
            county_name=county_row.name,
            catalogue=county_row.activity_figures["catalogue"],
            townships=run_views.results_for(rows),
            county_row=county_row,
        )
        content = activity_sheets.activities_xlsx(data, made_on=_today())
        return xlsx_response(content, activity_sheets.sheet_filename(data))
