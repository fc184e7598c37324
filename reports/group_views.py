"""Pages of the group ratings (五好小组 / 五有小组) and the run's sheets 4 and 5.

- A village's ratings for a period (`nodes/<village>/group-ratings/<key>/`): township staff
  of its township and the county admin tick the ten criteria of every group and save them
  in one POST; the village's staff and the county viewer read them. Out of scope: 404.
- Sheets 4 and 5 of a run: county accounts, as the run's sheet 1 (another county's run: 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from associations import selectors as association_selectors
from associations.models import Level
from associations.sheets.responses import xlsx_response
from associations.views import StaffView

from . import group_ratings, group_sheets, pay, run_views
from .models import FIVE_GOOD_CRITERIA, FIVE_HAVE_CRITERIA, AssessmentPeriod, ReportRun


def _village(request, pk):
    node = association_selectors.association_get(actor=request.user, pk=pk)
    if node.level != Level.VILLAGE:
        raise Http404("会员小组评定按村(社区)进行。")
    return node


def _period(key: str) -> AssessmentPeriod:
    period = AssessmentPeriod.county_wide.filter(key=key.upper()).first()
    if period is None:
        raise Http404("没有这个考核期。")
    return period


def parse_post(data, groups) -> dict[int, dict]:
    """{group id: {criterion: bool, "note": str}} of every group of the village from the form
    (a checkbox is sent only when ticked)."""
    ratings = {}
    for group in groups:
        prefix = f"g{group.pk}_"
        values = {key: data.get(prefix + key) == "on" for key in group_ratings.KEYS}
        values["note"] = data.get(prefix + "note", "")
        ratings[group.pk] = values
    return ratings


class GroupRatingView(StaffView):
    def context(self, request, village, period, *, rows=None, errors=()):
        rows = rows or group_ratings.rating_rows(village, period)
        for row in rows:
            values = row["values"]
            row["good_cells"] = [(k, label, values.get(k)) for k, label in FIVE_GOOD_CRITERIA]
            row["have_cells"] = [(k, label, values.get(k)) for k, label in FIVE_HAVE_CRITERIA]
        editable = group_ratings.can_rate(request.user, village) and not period.is_locked
        return {
            "node": village,
            "breadcrumbs": village.lineage(),
            "period": period,
            "rows": rows,
            "good": FIVE_GOOD_CRITERIA,
            "have": FIVE_HAVE_CRITERIA,
            "editable": editable,
            "errors": errors,
            "five_good": sum(1 for r in rows if r["rating"] and r["five_good"]),
            "five_have": sum(1 for r in rows if r["rating"] and r["five_have"]),
            "rated": sum(1 for r in rows if r["rating"]),
        }

    def get(self, request, pk, key):
        village = _village(request, pk)
        period = _period(key)
        return render(request, "reports/group_ratings.html", self.context(request, village, period))

    def post(self, request, pk, key):
        village = _village(request, pk)
        period = _period(key)
        if not group_ratings.can_rate(request.user, village):
            raise PermissionDenied("只有本乡镇(街道)专干或县级管理员可以评定会员小组。")
        groups = group_ratings.groups_of(village)
        ratings = parse_post(request.POST, groups)
        try:
            changed = group_ratings.ratings_save(
                actor=request.user, village=village, period=period, ratings=ratings
            )
        except ValidationError as error:
            rows = group_ratings.rating_rows(village, period)
            for row in rows:  # keep what was ticked: nothing typed is lost
                posted = ratings.get(row["group"].pk)
                if posted:
                    row["values"] = posted
            context = self.context(request, village, period, rows=rows, errors=error.messages)
            return render(request, "reports/group_ratings.html", context, status=400)
        messages.success(request, f"已保存小组评定({changed} 个小组有变化)。")
        return redirect("group-ratings", pk=village.pk, key=period.key)


def _done_run(pk) -> ReportRun:
    run = run_views._run(pk)
    if run.state != ReportRun.State.DONE:
        raise Http404("考核尚未生成完成,没有可打印的表。")
    return run


class RunGroupsSheetView(StaffView):
    def get(self, request, pk):
        data = group_sheets.RunRows.of(_done_run(pk))
        content = group_sheets.groups_xlsx(data, made_on=timezone.localdate())
        return xlsx_response(content, group_sheets.groups_filename(data))


class RunPaySheetView(StaffView):
    def get(self, request, pk):
        run = _done_run(pk)
        data = group_sheets.RunRows.of(run)
        lines = pay.run_pay(run)
        content = group_sheets.pay_xlsx(data, lines, made_on=timezone.localdate())
        return xlsx_response(content, group_sheets.pay_filename(data))
