"""Import jobs on the shared machinery: the error workbook is built by the step that checked
the file (on the worker for a big file) and kept with the job, so downloading it costs the
web server a file read, never a rebuild."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from associations import jobs
from associations.imports import jobs as import_jobs
from associations.models import Job
from associations.scope import Scope, activate

from ..members.test_import import person_row, xlsx
from .test_job_retention import bad_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, user, rows):
    client.force_login(user)
    client.post(
        reverse("import-upload", kwargs={"pk": user.node_id}),
        {"kind": "members", "file": SimpleUploadedFile("名册.xlsx", xlsx(rows))},
    )
    with activate(Scope.for_node(user.node)):
        return Job.objects.latest("id")


@pytest.mark.parametrize("background_rows", [2000, 1])  # in the request; on the (eager) worker
def test_the_check_keeps_the_error_workbook_and_the_download_only_reads_it(
    client, world, settings, monkeypatch, background_rows, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = background_rows
    user = world.a.users["village_secretary"]
    with django_capture_on_commit_callbacks(execute=True):
        job = upload(client, user, [person_row(1), bad_row(2)])
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.state == "ready" and job.count("invalid") == 1
    kept = jobs.file_of(job, job.result["error_file"])
    assert kept is not None and kept.name == import_jobs.ERRORS_NAME and kept.exists()

    def no_rebuild(**kwargs):
        raise AssertionError("the download rebuilt the workbook")

    monkeypatch.setattr(import_jobs, "error_workbook", no_rebuild)
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    assert response.status_code == 200 and response.content == kept.read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert any(cell.comment for row in sheet.iter_rows() for cell in row)


def test_a_clean_file_has_no_error_workbook(client, world):
    job = upload(client, world.a.users["village_secretary"], [person_row(1)])
    assert job.state == "ready" and job.result["error_file"] == ""
    assert not import_jobs.has_error_workbook(job)
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    assert response.status_code == 302


def test_a_recheck_replaces_the_kept_workbook(client, world):
    user = world.a.users["village_secretary"]
    job = upload(client, user, [person_row(1), bad_row(2)])
    first = jobs.file_of(job, job.result["error_file"]).read_bytes()
    client.post(reverse("import-recheck", kwargs={"pk": job.pk}))
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.state == "ready" and job.attempts == 1
    assert jobs.file_of(job, job.result["error_file"]).read_bytes()[:2] == first[:2] == b"PK"
