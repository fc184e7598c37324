"""The one page pattern of background jobs (imports, exports, next report runs): the job page
(state, progress, what went wrong and what to do about it), 重新提交 / 重试, and the download
of what a job made.

A job that is queued or running refreshes its page every two seconds (an HTTP Refresh header
and a <meta http-equiv="refresh">, no JavaScript), so the progress survives a reload. A job
outside the user's scope is 404 like anything else; one its family does not show this user
is 403."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render

from . import export_jobs, jobs, permissions
from .models import Job
from .views import StaffView

REFRESH_SECONDS = 2


def job_for(request, pk) -> Job:
    """In scope (404 otherwise), and shown to this user by its family (403 otherwise)."""
    job = get_object_or_404(Job.objects.select_related("node__parent", "owner"), pk=pk)
    try:
        family = jobs.family_of(job)
    except LookupError:
        raise Http404("没有这个任务。") from None
    permissions.require(family.may_see(request.user, job), "您无权查看此任务。")
    return job


def no_store(response):
    response["Cache-Control"] = "private, no-store"
    return response


class JobView(StaffView):
    def get(self, request, pk):
        job = jobs.refresh(job_for(request, pk))
        family = jobs.family_of(job)
        context = {
            "job": job,
            "node": job.node,
            "breadcrumbs": job.node.lineage(),
            "working": job.is_working,
            "refresh": REFRESH_SECONDS,
            "broker_down": job.failure == Job.Failure.BROKER_DOWN,
            "interrupted": job.failure == Job.Failure.INTERRUPTED,
            "not_started": jobs.waiting_too_long(job),
            "not_started_note": jobs.NOT_STARTED_NOTE,
            "may_resend": jobs.may_resend(job),
            **family.context(job),
        }
        response = render(request, family.template, context)
        if job.is_working:
            response["Refresh"] = str(REFRESH_SECONDS)
        return no_store(response)


class JobResendView(StaffView):
    """重新提交 (the broker was down) and 重试 (the worker died, or the step failed): the same
    step again, from scratch."""

    def post(self, request, pk):
        job = jobs.refresh(job_for(request, pk))
        if jobs.may_resend(job):
            jobs.start(job, step=job.step, background=jobs.family_of(job).background(job))
            messages.info(request, "已重新提交。")
        return redirect("job", pk=job.pk)


class JobDownloadView(StaffView):
    def get(self, request, pk):
        job = job_for(request, pk)
        if job.family != export_jobs.FAMILY:
            raise Http404("此任务没有可下载的文件。")
        if job.state != Job.State.DONE:
            return redirect("job", pk=job.pk)
        path = export_jobs.output(job)
        if path is None:
            return render(
                request,
                "jobs/gone.html",
                {
                    "job": job,
                    "node": job.node,
                    "breadcrumbs": job.node.lineage(),
                    "retention_days": jobs.retention_days(job),
                },
                status=410,
            )
        response = FileResponse(path.open("rb"), as_attachment=True, filename=job.output_name)
        return no_store(response)
