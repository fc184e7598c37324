"""Import uploads, error workbooks and exported rosters are deleted after their retention
period by the nightly task; the job records stay and the pages say what happened."""

import datetime
from dataclasses import asdict

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from associations.models import ExportJob
from associations.scope import Scope, activate
from members import exports, importers
from members.models import ImportJob
from members.tasks import purge_expired_files_in_scope

from .test_import import person_row, xlsx

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(days=31)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    settings.EXPORT_FILE_RETENTION_DAYS = 7
    return tmp_path


def checked_job(user, rows) -> ImportJob:
    """An uploaded and dry-run job with its error workbook built when it has problems."""
    with activate(Scope.for_node(user.node)):
        job = importers.job_create(
            actor=user,
            node=user.node,
            kind="members",
            upload=SimpleUploadedFile("花名册.xlsx", xlsx(rows)),
        )
        job = importers.job_validate(job)
        if job.count_invalid:
            importers.job_error_workbook(job)
            job.refresh_from_db()
    return job


def bad_row(sequence):
    return person_row(sequence, 身份证号码="130534197501010000")


def test_expired_imports_lose_their_files_and_keep_their_records(world):
    user = world.a.users["village_secretary"]
    done = checked_job(user, [person_row(1)])
    waiting = checked_job(user, [person_row(2), bad_row(3)])
    with activate(Scope.for_node(user.node)):
        importers.job_start_commit(done)
        done = importers.job_commit(done)
    files = [done.file.name, waiting.file.name, waiting.error_file]
    assert all(files) and all(default_storage.exists(name) for name in files)

    with activate(Scope.for_node(user.node)):
        assert importers.purge_expired_files(timezone.now() + datetime.timedelta(days=29)) == 0
        assert importers.purge_expired_files(timezone.now() + LATER) == 2
        assert importers.purge_expired_files(timezone.now() + LATER) == 0  # idempotent
        done.refresh_from_db()
        waiting.refresh_from_db()
    assert not any(default_storage.exists(name) for name in files)
    assert done.status == "done" and done.count_new == 1 and done.file_deleted_at
    assert (done.file.name, done.error_file) == ("", "")
    assert waiting.status == "failed" and waiting.file_deleted_at
    assert "超过保留期限(30 天)" in waiting.message and waiting.count_invalid == 1


def test_jobs_at_work_keep_their_files(world):
    user = world.a.users["village_secretary"]
    job = checked_job(user, [person_row(1)])
    with activate(Scope.for_node(user.node)):
        ImportJob.objects.filter(pk=job.pk).update(status="importing")
        assert importers.purge_expired_files(timezone.now() + LATER) == 0
    assert default_storage.exists(job.file.name)


def test_a_purged_job_page_says_so_and_offers_nothing_that_needs_the_file(client, world):
    user = world.a.users["village_secretary"]
    job = checked_job(user, [person_row(1), bad_row(2)])
    with activate(Scope.for_node(user.node)):
        importers.purge_expired_files(timezone.now() + LATER)
    client.force_login(user)
    page = client.get(reverse("import-job", kwargs={"pk": job.pk})).content.decode()
    assert "按保留期限删除" in page and "请重新上传" in page
    assert reverse("import-errors", kwargs={"pk": job.pk}) not in page
    assert reverse("import-recheck", kwargs={"pk": job.pk}) not in page
    for name, method in (("import-errors", client.get), ("import-recheck", client.post)):
        response = method(reverse(name, kwargs={"pk": job.pk}))
        assert response.status_code == 302
        assert response["Location"] == reverse("import-job", kwargs={"pk": job.pk})
    response = client.post(reverse("import-commit", kwargs={"pk": job.pk}))
    assert response.status_code == 302
    with activate(Scope.for_node(user.node)):
        assert ImportJob.objects.get(pk=job.pk).status == "failed"


def exported(user, node) -> ExportJob:
    with activate(Scope.for_node(user.node)):
        job = exports.export_request(actor=user, node=node, kind="members")
        return exports.run_export(job)


def test_expired_exports_lose_their_file_and_the_download_says_why(client, world):
    admin = world.a.users["county_admin"]
    village = world.a.villages[1]
    job = exported(admin, village)
    path = exports.job_file(job)
    assert job.status == "done" and path.exists()
    with activate(Scope.for_node(admin.node)):
        assert exports.purge_expired_files(timezone.now() + datetime.timedelta(days=6)) == 0
        assert exports.purge_expired_files(timezone.now() + datetime.timedelta(days=8)) == 1
        job.refresh_from_db()
    assert not path.exists()
    assert job.file_path == "" and job.file_deleted_at and job.requested_by == admin
    client.force_login(admin)
    response = client.get(reverse("export-download", kwargs={"pk": job.pk}))
    assert response.status_code == 410
    assert "保留 7 天" in response.content.decode()


def test_the_nightly_task_purges_its_county_only(world):
    a_user, b_user = world.a.users["county_admin"], world.b.users["county_admin"]
    a_job = exported(a_user, world.a.villages[1])
    b_job = exported(b_user, world.b.villages[1])
    long_ago = timezone.now() - LATER
    for user, job in ((a_user, a_job), (b_user, b_job)):
        with activate(Scope.for_node(user.node)):
            ExportJob.objects.filter(pk=job.pk).update(finished_at=long_ago)
    result = purge_expired_files_in_scope(scope=asdict(Scope.for_node(world.a.county)))
    assert result["exports"] == 1
    assert not exports.job_file(a_job).exists() and exports.job_file(b_job).exists()
