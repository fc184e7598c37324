"""Job files (import uploads, error workbooks, exported rosters, temporary files) are deleted
after their retention period by the nightly task, whatever the job's family; the job records
stay and the pages say what happened. A job whose worker died does not keep its files."""

import datetime
from dataclasses import asdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from associations import export_jobs, jobs
from associations.imports import jobs as import_jobs
from associations.models import Job
from associations.scope import Scope, activate
from associations.tasks import purge_expired_files_in_scope

from ..members.test_import import person_row, xlsx

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(days=31)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    settings.EXPORT_FILE_RETENTION_DAYS = 7
    return tmp_path


def checked_job(user, rows) -> Job:
    """An uploaded and dry-run job, with its error workbook when it has problems."""
    with activate(Scope.for_node(user.node)):
        job = import_jobs.job_create(
            actor=user,
            node=user.node,
            kind="members",
            upload=SimpleUploadedFile("花名册.xlsx", xlsx(rows)),
        )
        job = import_jobs.validate(job)
    return job


def bad_row(sequence):
    return person_row(sequence, 身份证号码="130534197501010000")


def files_of(job: Job) -> list:
    return [p for p in jobs.folder(job).rglob("*") if p.is_file()]


def test_expired_imports_lose_their_files_and_keep_their_records(world):
    user = world.a.users["village_secretary"]
    done = checked_job(user, [person_row(1)])
    waiting = checked_job(user, [person_row(2), bad_row(3)])
    with activate(Scope.for_node(user.node)):
        assert import_jobs.start_commit(done)
        done.refresh_from_db()
    assert done.state == "done"
    # upload, error workbook (full and masked, issue 12)
    assert len(files_of(done)) == 1 and len(files_of(waiting)) == 3
    folders = [jobs.folder_path(done), jobs.folder_path(waiting)]

    with activate(Scope.for_node(user.node)):
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(days=29)) == 0
        assert jobs.purge_expired_files(timezone.now() + LATER) == 2
        assert jobs.purge_expired_files(timezone.now() + LATER) == 0  # idempotent
        done.refresh_from_db()
        waiting.refresh_from_db()
    assert not any(folder.exists() for folder in folders)
    assert done.state == "done" and done.count("new") == 1 and done.file_deleted_at
    assert (done.input_file, done.result.get("error_file", "")) == ("", "")
    assert waiting.state == "failed" and waiting.failure == "expired" and waiting.file_deleted_at
    assert "超过保留期限(30 天)" in waiting.error and waiting.count("invalid") == 1


def test_jobs_at_work_keep_their_files_and_stale_ones_do_not(world):
    user = world.a.users["village_secretary"]
    job = checked_job(user, [person_row(1)])
    with activate(Scope.for_node(user.node)):
        Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now() + LATER)
        assert jobs.purge_expired_files(timezone.now() + LATER) == 0
        assert files_of(job)
        # Its worker died long ago: the heartbeat is stale, the files go.
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        assert jobs.purge_expired_files(timezone.now() + LATER) == 1
        job.refresh_from_db()
    assert not jobs.folder_path(job).exists()
    assert job.state == "failed" and job.failure == "expired"


def test_a_purged_job_page_says_so_and_offers_nothing_that_needs_the_file(client, world):
    user = world.a.users["village_secretary"]
    job = checked_job(user, [person_row(1), bad_row(2)])
    with activate(Scope.for_node(user.node)):
        jobs.purge_expired_files(timezone.now() + LATER)
    client.force_login(user)
    page = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    assert "按保留期限删除" in page and "请重新上传" in page
    assert reverse("import-errors", kwargs={"pk": job.pk}) not in page
    assert reverse("import-recheck", kwargs={"pk": job.pk}) not in page
    assert reverse("job-resend", kwargs={"pk": job.pk}) not in page
    for name, method in (
        ("import-errors", client.get),
        ("import-recheck", client.post),
        ("job-resend", client.post),
        ("import-commit", client.post),
    ):
        response = method(reverse(name, kwargs={"pk": job.pk}))
        assert response.status_code == 302
        assert response["Location"] == reverse("job", kwargs={"pk": job.pk})
    with activate(Scope.for_node(user.node)):
        assert Job.objects.get(pk=job.pk).state == "failed"


def exported(user, node) -> Job:
    with activate(Scope.for_node(user.node)):
        job = export_jobs.request(actor=user, node=node, kind="members", full_identity=False)
        return export_jobs.start(job)


def test_expired_exports_lose_their_file_and_the_download_says_why(client, world):
    admin = world.a.users["county_admin"]
    village = world.a.villages[1]
    job = exported(admin, village)
    path = export_jobs.output(job)
    assert job.state == "done" and path.exists()
    with activate(Scope.for_node(admin.node)):
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(days=6)) == 0
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(days=8)) == 1
        job.refresh_from_db()
    assert not path.exists() and not jobs.folder_path(job).exists()
    assert job.output_file == "" and job.file_deleted_at and job.owner == admin
    client.force_login(admin)
    response = client.get(reverse("job-download", kwargs={"pk": job.pk}))
    assert response.status_code == 410
    assert "保留 7 天" in response.content.decode()


def test_the_nightly_task_purges_its_county_only(world):
    a_user, b_user = world.a.users["county_admin"], world.b.users["county_admin"]
    a_job = exported(a_user, world.a.villages[1])
    b_job = exported(b_user, world.b.villages[1])
    long_ago = timezone.now() - LATER
    for user, job in ((a_user, a_job), (b_user, b_job)):
        with activate(Scope.for_node(user.node)):
            Job.objects.filter(pk=job.pk).update(created_at=long_ago, finished_at=long_ago)
    assert purge_expired_files_in_scope(scope=asdict(Scope.for_node(world.a.county))) == 1
    assert export_jobs.output(a_job) is None and export_jobs.output(b_job).exists()


def test_exports_of_full_numbers_are_deleted_after_a_day(world, settings):
    """Encryption at rest: a roster with full ID numbers and phones does not stay on disk for
    the week other exports do."""
    settings.FULL_IDENTITY_RETENTION_DAYS = 1
    admin = world.a.users["county_admin"]
    with activate(Scope.for_node(admin.node)):
        full = export_jobs.start(
            export_jobs.request(
                actor=admin, node=world.a.villages[0], kind="members", full_identity=True
            )
        )
    masked = exported(admin, world.a.villages[1])
    paths = [export_jobs.output(full), export_jobs.output(masked)]
    assert all(path.exists() for path in paths)
    with activate(Scope.for_node(admin.node)):
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(hours=23)) == 0
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(days=2)) == 1
    assert not paths[0].exists() and paths[1].exists()
    with activate(Scope.for_node(admin.node)):
        assert jobs.purge_expired_files(timezone.now() + datetime.timedelta(days=8)) == 1
    assert not paths[1].exists()
