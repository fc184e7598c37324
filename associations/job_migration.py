"""The data step of moving the two retired job models (associations.ExportJob and
members.ImportJob) onto the one Job model: each record is copied with its history (who, when,
what, counts, problems) and its files move into the job's own folder. Used by migrations
associations 0008 and members 0008 only; a record whose file is missing is copied without it."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from .scope import UnscopedReason, unscoped

IMPORT_STATES = {
    "uploaded": ("validate", "queued"),
    "validating": ("validate", "running"),
    "validated": ("validate", "ready"),
    "importing": ("commit", "running"),
    "done": ("commit", "done"),
    "failed": ("validate", "failed"),
}
IMPORT_LABELS = {"members": "会员名册", "households": "家庭户成员名册"}
EXPORT_STATES = {"pending": "queued", "running": "running", "done": "done", "failed": "failed"}
EXPORT_LABELS = {
    "council": "理事会成员花名册",
    "members": "会员花名册",
    "contacts": "会员联系户花名册",
    "volunteers": "志愿者花名册",
}
BROKER_DOWN_HINT = "后台任务服务"
EXPIRED_HINT = "保留期限"


def failure_of(state: str, message: str) -> str:
    if state != "failed":
        return ""
    if BROKER_DOWN_HINT in message:
        return "broker_down"
    if EXPIRED_HINT in message:
        return "expired"
    return "error"


class JobCopy:
    source: tuple[str, str]

    def __init__(self, apps, schema_editor):
        self.apps = apps
        self.Job = apps.get_model("associations", "Job")

    def run(self) -> None:
        # Row-level security is forced on both tables, for their owner too.
        with unscoped(reason=UnscopedReason.SCHEMA_MIGRATION):
            model = self.apps.get_model(*self.source)
            for old in model.objects.order_by("pk").iterator():
                self.copy(old)

    def place(self, old) -> dict:
        return {
            "county_id": old.county_id,
            "township_id": old.township_id,
            "village_id": old.village_id,
            "group_id": old.group_id,
            "node_id": old.node_id,
        }

    def save(self, job, created_at, files: dict[str, str]) -> None:
        job.save()
        moved = {field: self.move(job, path) for field, path in files.items() if path}
        self.Job.objects.filter(pk=job.pk).update(created_at=created_at, **moved)

    def move(self, job, relative: str) -> str:
        media = Path(settings.MEDIA_ROOT)
        source = media / relative
        if not source.is_file():
            return ""
        folder = media / "jobs" / str(job.county_id) / str(job.pk)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = folder / source.name
        os.replace(source, target)
        return target.relative_to(media).as_posix()


class ExportJobCopy(JobCopy):
    source = ("associations", "ExportJob")

    def copy(self, old) -> None:
        state = EXPORT_STATES.get(old.status, "failed")
        job = self.Job(
            **self.place(old),
            kind=f"export.{old.kind}",
            label=EXPORT_LABELS.get(old.kind, old.kind),
            step="build",
            owner_id=old.requested_by_id,
            state=state,
            failure=failure_of(state, old.error),
            error=old.error,
            params=old.params,
            full_identity=old.full_identity,
            rows_total=old.rows_total,
            rows_done=old.rows_done,
            started_at=old.started_at,
            finished_at=old.finished_at,
            output_name=old.file_name,
            output_size=old.size,
            file_deleted_at=old.file_deleted_at,
        )
        self.save(job, old.requested_at, {"output_file": old.file_path})


class ImportJobCopy(JobCopy):
    source = ("members", "ImportJob")

    def copy(self, old) -> None:
        step, state = IMPORT_STATES.get(old.status, ("validate", "failed"))
        job = self.Job(
            **self.place(old),
            kind=f"import.{old.kind}",
            label=IMPORT_LABELS.get(old.kind, old.kind),
            step=step,
            owner_id=old.uploaded_by_id,
            state=state,
            failure=failure_of(state, old.message),
            error=old.message,
            rows_total=old.rows_total,
            rows_done=old.rows_done,
            task_id=old.task_id,
            started_at=old.validated_at,
            finished_at=old.finished_at,
            input_name=old.original_name,
            file_type=old.file_type,
            result={
                "counts": {
                    "new": old.count_new,
                    "updated": old.count_updated,
                    "unchanged": old.count_unchanged,
                    "invalid": old.count_invalid,
                },
                "problems": old.problems,
                "problem_total": old.problem_total,
                "warnings": old.warnings,
                "error_file": "",
            },
            file_deleted_at=old.file_deleted_at,
        )
        # The old error workbook is not carried over: the page offers 重新校验 to rebuild it.
        self.save(job, old.created_at, {"input_file": old.file.name if old.file else ""})
