"""The 工作总结 figures paragraphs of a node for a run (reports.summary): the drafted text in an
editable textarea, the edited text POSTed back as a Word document, and the drafted text as a
Word document by GET.

Who may draft what: county accounts, for any node of their county in any done run; accounts
below the county, for a node of their own subtree in a PUBLISHED run (the runs their 考核结果
page offers). `?node=` names the node (the run's county when absent); a node the user does
not see, a run the node's snapshot is not in, an unpublished run below the county, a group:
404, as for any object out of reach."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render

from associations import selectors as association_selectors
from associations.models import Level
from associations.periods import parse_period, period_label
from associations.sheets.responses import attachment
from associations.views import StaffView

from . import run_views, summary
from .models import ReportRun, SnapshotNode

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EMPTY_TEXT = "总结内容不能为空。"
LONG_TEXT = f"总结内容不能超过 {summary.MAX_TEXT} 字。"
LONG_TITLE = f"标题不能超过 {summary.MAX_TITLE} 字。"


def summary_source(request, pk) -> tuple[SnapshotNode, list[SnapshotNode]]:
    """The node's snapshot row in the run and the rows the summary reads (see the module)."""
    raw = (request.GET.get("node") or "").strip()
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise Http404("没有这个组织。")
        node = association_selectors.association_get(actor=request.user, pk=int(raw))
    else:
        node = run_views._run(pk).county  # scoped: 404 below the county
    rows = SnapshotNode.objects.filter(run_id=pk, run__state=ReportRun.State.DONE)
    if not run_views._is_county_user(request.user):
        rows = rows.filter(run__published_at__isnull=False)
    row = rows.filter(node_id_at=node.pk).select_related("run", "run__version__scheme").first()
    if row is None or row.level == Level.GROUP:
        raise Http404("没有这个考核结果。")
    if row.level == Level.COUNTY:
        subtree = list(rows.order_by("division_code", "id"))
    elif row.level == Level.TOWNSHIP:
        mine = Q(township_node_id=node.pk) | Q(node_id_at=node.pk)
        subtree = list(rows.filter(mine).order_by("division_code", "id"))
    else:
        subtree = [row]
    return row, subtree


def _filename(title: str) -> str:
    name = "".join(c for c in title if c not in '\\/:*?"<>|\r\n') or "工作总结"
    return f"{name}.docx"


def docx_response(title: str, text: str) -> HttpResponse:
    response = HttpResponse(summary.summary_docx(title, text), content_type=DOCX)
    return attachment(response, _filename(title))


class SummaryView(StaffView):
    def get(self, request, pk):
        row, rows = summary_source(request, pk)
        drafted = summary.draft(row.run, row, rows)
        return self.page(request, row, drafted.title, drafted.text)

    def post(self, request, pk):
        row, rows = summary_source(request, pk)
        title = (request.POST.get("title") or "").strip()
        text = request.POST.get("text") or ""
        errors = []
        if not summary.paragraphs_of(text):
            errors.append(EMPTY_TEXT)
        if len(text) > summary.MAX_TEXT:
            errors.append(LONG_TEXT)
        if len(title) > summary.MAX_TITLE:
            errors.append(LONG_TITLE)
        if errors:
            return self.page(request, row, title, text, errors=errors, status=400)
        if not title:
            title = summary.draft(row.run, row, rows).title
        return docx_response(title, text)

    def page(self, request, row, title, text, *, errors=(), status=200):
        run = row.run
        node = association_selectors.association_get(actor=request.user, pk=row.node_id_at)
        context = {
            "node": node,
            "breadcrumbs": node.lineage(),
            "run": run,
            "row": row,
            "title_text": title,
            "text": text,
            "errors": errors,
            "period_label": period_label(parse_period(run.period_key)),
            "max_text": summary.MAX_TEXT,
            "max_title": summary.MAX_TITLE,
        }
        return render(request, "reports/summary.html", context, status=status)


class SummaryDocxView(StaffView):
    """The drafted text, unedited, as a Word document."""

    def get(self, request, pk):
        row, rows = summary_source(request, pk)
        drafted = summary.draft(row.run, row, rows)
        return docx_response(drafted.title, drafted.text)
