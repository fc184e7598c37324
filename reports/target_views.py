"""The targets page (指标分解) of a county or a township for a year: target, achieved and 差额
per kind; the county admin's form for the townships' numbers, the township staff's form for
their villages' split. Village and group nodes have no targets page (404); a village account
cannot reach a township node (404 by scope)."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from associations import permissions as association_permissions
from associations import selectors as association_selectors
from associations.models import Association, Level
from associations.periods import parse_period, period_label
from associations.views import StaffView

from . import targets
from .models import TargetKind

YEAR_ERROR = "年度应为 2000 至 2100 之间的四位数字,如 2026。"


class TargetForm(forms.Form):
    """One whole-number field per node × kind, named n_<node id>_<kind>; blank keeps it."""

    def __init__(self, *args, nodes, village_level: bool, initial_numbers: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for node in nodes:
            for kind in targets.KINDS:
                most = 1 if village_level and kind not in targets.GROUP_KINDS else None
                field = forms.IntegerField(
                    label=f"{node.name} {kind.label}",
                    required=False,
                    min_value=0,
                    max_value=most,
                    initial=initial_numbers.get(node.pk, {}).get(kind),
                    error_messages={
                        "invalid": "请填写整数。",
                        "min_value": "不能小于 0。",
                        "max_value": "只能填 0 或 1。",
                    },
                )
                field.widget.attrs.update(inputmode="numeric", pattern="[0-9]*", size=3)
                self.fields[f"n_{node.pk}_{kind.value}"] = field

    def numbers(self) -> dict[int, dict[str, int]]:
        result: dict[int, dict[str, int]] = {}
        for name, value in self.cleaned_data.items():
            if value is None:
                continue
            _n, node_id, kind = name.split("_", 2)
            result.setdefault(int(node_id), {})[TargetKind(kind)] = value
        return result


def _year(request) -> int:
    raw = (request.GET.get("year") or "").strip()
    if not raw:
        return datetime.date.today().year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise ValidationError(YEAR_ERROR)
    return int(raw)


class TargetView(StaffView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.node_id:
            try:
                self.year = _year(request)
            except ValidationError as error:
                return render(
                    request,
                    "reports/targets.html",
                    {"year_error": error.messages[0], "node": None},
                    status=400,
                )
        return super().dispatch(request, *args, **kwargs)

    def node(self, request, pk) -> Association:
        node = association_selectors.association_get(actor=request.user, pk=pk)
        if node.level == Level.COUNTY and request.user.node_level == Level.COUNTY:
            return node
        if node.level == Level.TOWNSHIP:
            return node
        raise Http404("指标分解在县级或乡镇(街道)页面查看。")

    def context(self, request, node, form=None) -> dict:
        year = self.year
        runs = targets.published_runs(node=node, year=year)
        run = runs[0] if runs else None
        run_id = request.GET.get("run", "")
        if run_id:
            run = next((r for r in runs if str(r.pk) == run_id), None)
            if run is None:
                raise Http404("没有这个已发布的考核结果。")
        if node.level == Level.COUNTY:
            children = list(
                Association.objects.filter(parent=node, level=Level.TOWNSHIP).order_by(
                    "division_code"
                )
            )
            done = targets.achieved(run=run)["townships"]
            can_edit = targets.can_set_township_targets(request.user, node)
            own_rows = []
        else:
            children = list(
                Association.objects.filter(parent=node, level=Level.VILLAGE).order_by(
                    "division_code"
                )
            )
            result = targets.achieved(run=run, township_ids=[node.pk])
            done = result["villages"]
            can_edit = targets.can_split_targets(request.user, node)
            own_rows = targets.table(
                nodes=[node],
                targets=targets.targets_of(year=year, nodes=[node]),
                done=result["townships"],
                have_run=run is not None,
            )
        numbers = targets.targets_of(year=year, nodes=children)
        rows = targets.table(nodes=children, targets=numbers, done=done, have_run=run is not None)
        if node.level == Level.TOWNSHIP:
            groups = targets.group_counts(children)
            for row in rows:
                row["groups"] = groups[row["node"].pk]
        if can_edit and form is None:
            form = TargetForm(
                nodes=children,
                village_level=node.level == Level.TOWNSHIP,
                initial_numbers=numbers,
            )
        if form is not None:
            for row in rows:
                for cell in row["cells"]:
                    cell["field"] = form[f"n_{row['node'].pk}_{cell['kind'].value}"]
        return {
            "node": node,
            "breadcrumbs": node.lineage(),
            "year": year,
            "kinds": targets.KINDS,
            "rows": rows,
            "own_rows": own_rows,
            "form": form,
            "can_edit": can_edit,
            "run": run,
            "runs": runs,
            "run_label": period_label(parse_period(run.period_key)) if run else "",
            "note": targets.GROUP_KINDS_NOTE,
        }

    def get(self, request, pk):
        node = self.node(request, pk)
        return render(request, "reports/targets.html", self.context(request, node))

    def post(self, request, pk):
        node = self.node(request, pk)
        if node.level == Level.COUNTY:
            allowed = targets.can_set_township_targets(request.user, node)
            message = "只有县级管理员可以下达乡镇指标。"
            level = Level.TOWNSHIP
        else:
            allowed = targets.can_split_targets(request.user, node)
            message = "只有本乡镇(街道)的专干可以分解指标。"
            level = Level.VILLAGE
        association_permissions.require(allowed, message)
        children = list(Association.objects.filter(parent=node, level=level))
        form = TargetForm(
            request.POST,
            nodes=children,
            village_level=level == Level.VILLAGE,
            initial_numbers={},
        )
        if form.is_valid():
            service = (
                targets.set_township_targets if level == Level.TOWNSHIP else targets.split_targets
            )
            place = {"county": node} if level == Level.TOWNSHIP else {"township": node}
            try:
                changed = service(
                    actor=request.user, year=self.year, numbers=form.numbers(), **place
                )
            except ValidationError as error:
                for text in error.messages:
                    form.add_error(None, text)
            else:
                messages.success(request, f"指标已保存(修改 {changed} 项)。")
                return redirect(f"{reverse('node-targets', args=[node.pk])}?year={self.year}")
        return render(
            request, "reports/targets.html", self.context(request, node, form), status=400
        )
