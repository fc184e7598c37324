"""Pages of roster imports: upload (with the templates to download), the preview of the dry
run (counts, every problem, the error workbook), the confirmation that commits, and a re-check.

A file of at most settings.IMPORT_BACKGROUND_ROWS rows is checked within the request; a larger
one by the worker (members.import_tasks), while the job page refreshes itself every two seconds
(an HTTP Refresh header and a <meta http-equiv="refresh">, no JavaScript), so the progress
survives a reload. When the broker cannot be reached the job says so plainly and offers to
send it again. Only accounts that may edit the target node import; everything else is 403,
and a job outside the user's scope is 404 like anything else."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from kombu.exceptions import OperationalError as BrokerUnavailable

from associations import history, imports, permissions, sources
from associations.scope import activate, current_scope
from associations.selectors import association_get
from associations.tasks import enqueue_in_scope
from associations.views import StaffView

from . import importers
from .import_tasks import import_commit, import_validate
from .imports import KIND_MEMBERS
from .models import ImportJob

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2
PROBLEMS_ON_PAGE = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Publishing gives up quickly when the broker is down: the user is waiting on the request.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
BROKER_DOWN_MESSAGE = (
    "后台任务服务暂时无法连接(消息队列不可用),文件已保存但尚未处理。"
    "请稍后点击“重新提交”,如仍不行请联系系统管理员检查 Redis 和 Celery worker。"
)


NOTHING_TO_IMPORT_MESSAGE = "无需导入:文件中的每一行都与系统中的数据一致,没有要新增或更新的内容。"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="导入内容",
        choices=[(key, kind.label) for key, kind in imports.KINDS.items()],
        widget=forms.RadioSelect,
        initial=KIND_MEMBERS,
    )
    file = forms.FileField(
        label="文件",
        help_text="Excel 工作簿(.xlsx)或 CSV 文件",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _require_import(user, node) -> None:
    """Editors of a village, township or county node (a member group imports through its
    village: its page is 403 for everyone)."""
    permissions.require(
        importers.can_import(user, node),
        "您没有向该组织导入数据的权限(会员小组的数据请在所属村(社区)的页面导入)。",
    )


class _SendOrMarkFailed:
    """What `enqueue_in_scope` calls once the job's row is committed: send the task, or, when
    the broker cannot be reached, put the job back with a message saying so."""

    def __init__(self, task, job: ImportJob, back_to: str):
        self.task = task
        self.job = job
        self.back_to = back_to
        self.scope = current_scope()  # callbacks may run after the request has left it

    def apply_async(self, args=(), kwargs=None, **options):
        try:
            result = self.task.apply_async(
                args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY, **options
            )
        except BrokerUnavailable:
            logger.warning("broker unreachable: import job %s not sent", self.job.pk)
            with activate(self.scope):
                ImportJob.objects.filter(pk=self.job.pk).update(
                    status=self.back_to, message=BROKER_DOWN_MESSAGE
                )
            return None
        if getattr(result, "id", None):
            with activate(self.scope):
                ImportJob.objects.filter(pk=self.job.pk, task_id="").update(task_id=result.id)
        return result


def _validate(job: ImportJob) -> None:
    """The dry run: here for a small file, on the worker for a large one."""
    if importers.runs_in_background(job):
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.VALIDATING, rows_done=0, message="", task_id=""
        )
        sender = _SendOrMarkFailed(import_validate, job, back_to=ImportJob.Status.FAILED)
        enqueue_in_scope(sender, job.pk)
    else:
        importers.job_validate(job)


class ImportUploadView(StaffView):
    template_name = "members/imports/upload.html"

    def _node(self, pk):
        node = association_get(actor=self.request.user, pk=pk)
        _require_import(self.request.user, node)
        return node

    def get(self, request, pk):
        node = self._node(pk)
        return self.render(node, UploadForm())

    def post(self, request, pk):
        node = self._node(pk)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = importers.job_create(
                    actor=request.user,
                    node=node,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
            except imports.FileRefused as refused:
                form.add_error("file", f"文件被拒绝:{refused.message}(代码 {refused.code})")
            else:
                _validate(job)
                return redirect("import-job", pk=job.pk)
        return self.render(node, form, status=400)

    def render(self, node, form, status=200):
        jobs = ImportJob.objects.filter(node=node).select_related("uploaded_by")[:10]
        return render(
            self.request,
            self.template_name,
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "form": form,
                "kinds": imports.KINDS.values(),
                "jobs": jobs,
                "max_mb": imports.max_bytes() // 1024 // 1024,
                "max_rows": imports.max_rows(),
                "background_rows": importers.background_rows(),
                "village_required": node.level != "village",
            },
            status=status,
        )


def _job_for(request, pk) -> ImportJob:
    """In scope (404 otherwise), and the user may import into its node (403 otherwise)."""
    job = get_object_or_404(ImportJob.objects.select_related("node", "uploaded_by"), pk=pk)
    _require_import(request.user, job.node)
    return job


class ImportJobView(StaffView):
    def get(self, request, pk):
        job = _job_for(request, pk)
        working = job.is_running
        problems = job.problems[:PROBLEMS_ON_PAGE]
        upgrades = importers.id_upgrades(job)
        response = render(
            request,
            "members/imports/job.html",
            {
                "job": job,
                "node": job.node,
                "breadcrumbs": job.node.lineage(),
                "working": working,
                "refresh": REFRESH_SECONDS,
                "problems": problems,
                "problems_hidden": max(job.problem_total - len(problems), 0),
                "row_problems": any(p.get("row") for p in job.problems) and not job.file_deleted_at,
                "broker_down": job.message == BROKER_DOWN_MESSAGE,
                "code_labels": imports.ROW_CODES,
                "column_warnings": importers.column_warnings(job),
                "upgrades": upgrades,
                "upgrades_listed": upgrades["upgrades"][:PROBLEMS_ON_PAGE] if upgrades else [],
                "may_recheck": job.status
                in (ImportJob.Status.VALIDATED, ImportJob.Status.FAILED, ImportJob.Status.UPLOADED)
                and not job.file_deleted_at,
            },
        )
        if working:
            response["Refresh"] = str(REFRESH_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


class ImportCommitView(StaffView):
    def post(self, request, pk):
        job = _job_for(request, pk)
        if not importers.job_start_commit(job):
            if job.status == ImportJob.Status.DONE:
                messages.info(request, "该文件已经导入。")
            elif importers.nothing_to_import(job):
                messages.info(request, NOTHING_TO_IMPORT_MESSAGE)
            else:
                messages.error(request, "该文件还有问题或尚未校验完成,不能导入。")
            return redirect("import-job", pk=job.pk)
        if importers.runs_in_background(job):
            sender = _SendOrMarkFailed(import_commit, job, back_to=ImportJob.Status.VALIDATED)
            enqueue_in_scope(sender, job.pk)
        else:
            with history.change_source(sources.for_import(job.pk, job.original_name)):
                job = importers.job_commit(job)
            if job.status == ImportJob.Status.DONE:
                messages.success(
                    request,
                    f"导入完成:新增 {job.count_new} 行,更新 {job.count_updated} 行,"
                    f"无变化 {job.count_unchanged} 行。",
                )
        return redirect("import-job", pk=job.pk)


class ImportRecheckView(StaffView):
    def post(self, request, pk):
        job = _job_for(request, pk)
        if job.file_deleted_at or job.status in (ImportJob.Status.IMPORTING, ImportJob.Status.DONE):
            return redirect("import-job", pk=job.pk)
        if job.status == ImportJob.Status.VALIDATING and job.message != BROKER_DOWN_MESSAGE:
            return redirect("import-job", pk=job.pk)
        _validate(job)
        return redirect("import-job", pk=job.pk)


class ImportErrorsView(StaffView):
    def get(self, request, pk):
        job = _job_for(request, pk)
        if job.file_deleted_at or (
            not any(p.get("row") for p in job.problems) and not importers.column_warnings(job)
        ):
            return redirect("import-job", pk=job.pk)
        try:
            content = importers.job_error_workbook(job)
        except imports.FileRefused:
            return redirect("import-job", pk=job.pk)
        stem = job.original_name.rsplit(".", 1)[0]
        response = HttpResponse(content, content_type=XLSX_TYPE)
        response["Content-Disposition"] = _attachment(f"{stem}-错误标注.xlsx")
        response["Cache-Control"] = "private, no-store"
        return response


class ImportTemplateView(StaffView):
    def get(self, request, kind):
        spec = imports.KINDS.get(kind)
        if spec is None:
            raise Http404("没有这种导入模板。")
        response = HttpResponse(imports.template_workbook(kind), content_type=XLSX_TYPE)
        response["Content-Disposition"] = _attachment(f"{spec.label}导入模板.xlsx")
        return response


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)
