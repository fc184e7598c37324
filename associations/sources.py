"""Where a change came from: the `source` stored on every change record.

Stored as "<kind>:<detail>", stable and machine-readable, for support and for the API:

    page:POST /nodes/12/edit/ #3f2a9c01b7de    a page (the request's method, path and id)
    api:PATCH /api/v1/associations/12/ #…      the REST API
    import:42 花名册.xlsx                       the commit of import job 42 (its file name)
    task:households.refresh_categories_in_scope #<celery task id>
    command:seed_demo                           a management command
    system                                      nothing set the source

`describe` turns it into the Chinese a user reads (页面 /nodes/12/edit/, 命令 seed_demo, …);
every page that shows history goes through `ChangeRecord.source_display`, which calls it."""

from __future__ import annotations

PAGE = "page"
API = "api"
IMPORT = "import"
TASK = "task"
COMMAND = "command"
SYSTEM = "system"

KIND_LABELS = {
    PAGE: "页面",
    API: "接口",
    IMPORT: "导入",
    TASK: "后台任务",
    COMMAND: "命令",
    SYSTEM: "系统",
}
UNKNOWN_LABEL = "其他"
API_PREFIX = "/api/"


def for_request(method: str, path: str, request_id: str) -> str:
    kind = API if path.startswith(API_PREFIX) else PAGE
    return f"{kind}:{method} {path} #{request_id}"


def for_task(name: str, task_id: str) -> str:
    return f"{TASK}:{name} #{task_id}"


def for_command(name: str) -> str:
    return f"{COMMAND}:{name}"


def for_import(job_id: int, file_name: str = "") -> str:
    return f"{IMPORT}:{job_id} {file_name}".rstrip()


def describe(source: str) -> str:
    """The source in Chinese: its kind's label, then what a reader can use of the detail
    (a page's path, an API call's method and path, an import's file, a task's or command's
    name). A kind this module does not know reads 其他, never the raw value."""
    kind, _, detail = (source or "").partition(":")
    label = KIND_LABELS.get(kind)
    if label is None:
        return UNKNOWN_LABEL
    shown = _DETAIL.get(kind, _as_is)(detail.strip())
    return f"{label} {shown}" if shown else label


def _without_reference(detail: str) -> str:
    """Drops the trailing " #<id>" (a request or task id: support's, not the reader's)."""
    return detail.rsplit(" #", 1)[0] if " #" in detail else detail


def _page_detail(detail: str) -> str:
    # A page's method says nothing to its users: every change is a form sent with POST.
    _method, _, path = _without_reference(detail).partition(" ")
    return path


def _import_detail(detail: str) -> str:
    job_id, _, file_name = detail.partition(" ")
    return file_name or (f"#{job_id}" if job_id else "")


def _as_is(detail: str) -> str:
    return detail


_DETAIL = {
    PAGE: _page_detail,
    API: _without_reference,
    IMPORT: _import_detail,
    TASK: _without_reference,
}
