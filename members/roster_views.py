"""Pages of the printable rosters (花名册): the list of a node's rosters and asking for one.

A small roster (≤ export_jobs.SMALL_ROWS rows, counted with one COUNT query) is built within
the request and the browser goes straight to the download; a larger one is built by the worker
while the shared job page (associations.job_views) shows its progress."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render

from associations import export_jobs
from associations.models import Job
from associations.selectors import association_get
from associations.views import StaffView
from households.masking import sees_full_identity

from . import exports


class RosterExportForm(forms.Form):
    full_identity = forms.BooleanField(required=False, label="包含完整身份证号码")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_full_identity(user):
            del self.fields["full_identity"]

    def asks_full_identity(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data.get("full_identity"))


class RosterListView(StaffView):
    def get(self, request, pk):
        node = association_get(actor=request.user, pk=pk)
        rosters = [
            {"roster": roster, "rows": roster.count(node)} for roster in exports.rosters_for(node)
        ]
        for entry in rosters:
            entry["in_background"] = entry["rows"] > export_jobs.SMALL_ROWS
        return render(
            request,
            "members/rosters/list.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "rosters": rosters,
                "may_ask_full_identity": sees_full_identity(request.user),
                "jobs": export_jobs.recent(actor=request.user, node=node),
                "small_rows": export_jobs.SMALL_ROWS,
                "sheet_per_village": node.level in ("county", "township"),
            },
        )


class RosterExportView(StaffView):
    def _load(self, pk, kind):
        node = association_get(actor=self.request.user, pk=pk)
        roster = exports.ROSTERS.get(kind)
        if roster is None or node.level not in roster.levels:
            raise Http404("没有这种花名册。")
        return node, roster

    def get(self, request, pk, kind):
        node, _roster = self._load(pk, kind)
        return redirect("node-rosters", pk=node.pk)

    def post(self, request, pk, kind):
        node, roster = self._load(pk, kind)
        form = RosterExportForm(request.POST, user=request.user)
        job = export_jobs.request(
            actor=request.user,
            node=node,
            kind=roster.kind,
            full_identity=form.asks_full_identity() and sees_full_identity(request.user),
        )
        job = export_jobs.start(job)
        if job.state == Job.State.DONE:
            return redirect("job-download", pk=job.pk)
        return redirect("job", pk=job.pk)
