"""Pages of the printable rosters (花名册): the list of a node's rosters, asking for one, the
export job's status page and the download.

A small roster (≤ SMALL_ROSTER_ROWS rows, counted with one COUNT query) is built within the
request and the browser goes straight to the download; a larger one is built by the worker
(members.tasks.build_roster, sent after the job's row commits) while the status page refreshes
itself. When the broker cannot be reached the job is marked failed and the status page says
the background service is unavailable."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from kombu.exceptions import OperationalError as BrokerUnavailable

from associations import permissions
from associations.models import ExportJob
from associations.scope import activate, current_scope
from associations.selectors import association_get
from associations.tasks import enqueue_in_scope
from associations.views import StaffView
from households.masking import sees_full_identity

from . import exports
from .tasks import build_roster

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2
# Publishing gives up quickly when the broker is down: the user is waiting on the request.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


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
            entry["in_background"] = entry["rows"] > exports.SMALL_ROSTER_ROWS
        return render(
            request,
            "members/rosters/list.html",
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "rosters": rosters,
                "may_ask_full_identity": sees_full_identity(request.user),
                "jobs": exports.recent_jobs(actor=request.user, node=node),
                "small_rows": exports.SMALL_ROSTER_ROWS,
                "sheet_per_village": node.level in ("county", "township"),
            },
        )


class _SendOrMarkFailed:
    """What `enqueue_in_scope` calls once the job's row is committed: send the task, or, when
    the broker cannot be reached, mark the job failed with a message saying so."""

    def __init__(self, job: ExportJob):
        self.job = job
        self.scope = current_scope()  # callbacks may run after the request has left it

    def apply_async(self, args=(), kwargs=None, **options):
        try:
            return build_roster.apply_async(
                args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY, **options
            )
        except BrokerUnavailable:
            logger.warning("broker unreachable: export job %s not sent", self.job.pk)
            with activate(self.scope):
                exports.mark_failed(self.job, exports.BROKER_DOWN_MESSAGE)
            return None


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
        job = exports.export_request(
            actor=request.user,
            node=node,
            kind=roster.kind,
            full_identity_asked=form.asks_full_identity(),
        )
        if job.rows_total <= exports.SMALL_ROSTER_ROWS:
            job = exports.run_export(job)
            if job.status == ExportJob.Status.DONE:
                return redirect("export-download", pk=job.pk)
            return redirect("export-job", pk=job.pk)
        enqueue_in_scope(_SendOrMarkFailed(job), job.pk)
        return redirect("export-job", pk=job.pk)


def _job_for(request, pk) -> ExportJob:
    """In scope (404 otherwise), and the requester's own or seen by a county admin (403)."""
    job = get_object_or_404(ExportJob.objects.select_related("node", "requested_by"), pk=pk)
    permissions.require(
        exports.can_download(request.user, job), "只有导出人本人或县级管理员可以查看和下载此文件。"
    )
    return job


class ExportJobView(StaffView):
    def get(self, request, pk):
        job = _job_for(request, pk)
        working = job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
        response = render(
            request,
            "members/rosters/job.html",
            {
                "job": job,
                "node": job.node,
                "breadcrumbs": job.node.lineage(),
                "working": working,
                "refresh": REFRESH_SECONDS,
                "broker_down": job.error == exports.BROKER_DOWN_MESSAGE,
            },
        )
        if working:
            response["Refresh"] = str(REFRESH_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


class ExportDownloadView(StaffView):
    def get(self, request, pk):
        job = _job_for(request, pk)
        if job.status != ExportJob.Status.DONE:
            return redirect("export-job", pk=job.pk)
        path = exports.job_file(job)
        if path is None or not path.exists():
            return render(
                request,
                "members/rosters/gone.html",
                {
                    "job": job,
                    "node": job.node,
                    "breadcrumbs": job.node.lineage(),
                    "retention_days": settings.EXPORT_FILE_RETENTION_DAYS,
                },
                status=410,
            )
        response = FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name)
        response["Cache-Control"] = "private, no-store"
        return response
