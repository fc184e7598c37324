"""Pages of imports: upload (with the templates to download), the commit, a re-check and the
error workbook. The job page itself is the shared one (associations.job_views, with
jobs/import.html).

A file of at most settings.IMPORT_BACKGROUND_ROWS rows is checked within the request; a larger
one by the worker. Only accounts that may edit the target node import; everything else is
403, and a job outside the user's scope is 404 like anything else."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from .. import jobs, permissions
from ..job_views import job_for
from ..models import Job
from ..selectors import association_get
from ..sheets.responses import xlsx_response
from ..views import StaffView
from . import jobs as import_jobs
from .checks import FileRefused, max_bytes, max_rows
from .pipeline import KINDS, template_workbook

PROBLEMS_ON_PAGE = 500
NOTHING_TO_IMPORT_MESSAGE = "无需导入:文件中的每一行都与系统中的数据一致,没有要新增或更新的内容。"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容", widget=forms.RadioSelect)
    file = forms.FileField(
        label="文件",
        help_text="Excel 工作簿(.xlsx)或 CSV 文件",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(key, kind.label) for key, kind in KINDS.items()]
        self.fields["kind"].initial = next(iter(KINDS), None)


def _require_import(user, node) -> None:
    """Editors of a village, township or county node (a member group imports through its
    village: its page is 403 for everyone)."""
    permissions.require(
        import_jobs.can_import(user, node),
        "您没有向该组织导入数据的权限(会员小组的数据请在所属村(社区)的页面导入)。",
    )


def _import_job(request, pk) -> Job:
    job = job_for(request, pk)
    if job.family != import_jobs.FAMILY:
        raise Http404("没有这个导入任务。")
    return job


class ImportUploadView(StaffView):
    template_name = "imports/upload.html"

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
                job = import_jobs.job_create(
                    actor=request.user,
                    node=node,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
            except FileRefused as error:
                form.add_error("file", f"文件被拒绝:{error.message}(代码 {error.code})")
            else:
                import_jobs.validate(job)
                return redirect("job", pk=job.pk)
        return self.render(node, form, status=400)

    def render(self, node, form, status=200):
        recent = Job.objects.filter(node=node, kind__startswith=f"{import_jobs.FAMILY}.")
        return render(
            self.request,
            self.template_name,
            {
                "node": node,
                "breadcrumbs": node.lineage(),
                "form": form,
                "kinds": KINDS.values(),
                "jobs": recent.select_related("owner")[:10],
                "max_mb": max_bytes() // 1024 // 1024,
                "max_rows": max_rows(),
                "background_rows": import_jobs.background_rows(),
                "village_required": node.level != "village",
            },
            status=status,
        )


def page_context(job: Job) -> dict:
    """What jobs/import.html shows beside the shared parts of the job page. While the job is
    at work, what an earlier check found is not shown: it is about to be replaced."""
    if job.is_working:
        return {"may_recheck": False}
    problems = import_jobs.problems(job)
    listed = problems[:PROBLEMS_ON_PAGE]
    upgrades = import_jobs.id_upgrades(job)
    return {
        "counts": job.result.get("counts"),
        "can_commit": import_jobs.can_commit(job),
        "may_recheck": import_jobs.may_recheck(job),
        "problems": listed,
        "problem_total": job.result.get("problem_total", 0),
        "problems_hidden": max(job.result.get("problem_total", 0) - len(listed), 0),
        "error_workbook": import_jobs.has_error_workbook(job),
        "column_warnings": import_jobs.column_warnings(job),
        "upgrades": upgrades,
        "upgrades_listed": upgrades["upgrades"][:PROBLEMS_ON_PAGE] if upgrades else [],
    }


class ImportCommitView(StaffView):
    def post(self, request, pk):
        job = _import_job(request, pk)
        if not import_jobs.start_commit(job):
            if job.state == Job.State.DONE:
                messages.info(request, "该文件已经导入。")
            elif import_jobs.nothing_to_import(job):
                messages.info(request, NOTHING_TO_IMPORT_MESSAGE)
            else:
                messages.error(request, "该文件还有问题或尚未校验完成,不能导入。")
            return redirect("job", pk=job.pk)
        if job.state == Job.State.DONE:
            messages.success(
                request,
                f"导入完成:新增 {job.count('new')} 行,更新 {job.count('updated')} 行,"
                f"无变化 {job.count('unchanged')} 行。",
            )
        return redirect("job", pk=job.pk)


class ImportRecheckView(StaffView):
    def post(self, request, pk):
        job = jobs.refresh(_import_job(request, pk))
        if import_jobs.may_recheck(job):
            Job.objects.filter(pk=job.pk).update(step=import_jobs.VALIDATE)
            job.step = import_jobs.VALIDATE
            import_jobs.validate(job)
        return redirect("job", pk=job.pk)


class ImportErrorsView(StaffView):
    def get(self, request, pk):
        job = _import_job(request, pk)
        content = (
            import_jobs.kept_error_workbook(job, request.user) if not job.file_deleted_at else None
        )
        if content is None:
            return redirect("job", pk=job.pk)
        stem = job.input_name.rsplit(".", 1)[0]
        return xlsx_response(content, f"{stem}-错误标注.xlsx")


class ImportTemplateView(StaffView):
    def get(self, request, kind):
        spec = KINDS.get(kind)
        if spec is None:
            raise Http404("没有这种导入模板。")
        return xlsx_response(template_workbook(kind), f"{spec.label}导入模板.xlsx")
