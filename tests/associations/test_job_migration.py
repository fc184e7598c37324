"""Migrating the two retired job models onto Job keeps every record (who, what, when, counts,
problems, state) and moves the files into each job's own folder."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from associations import jobs
from associations.models import Job
from associations.scope import UnscopedReason, unscoped

BEFORE = [("associations", "0007_formsubmission"), ("members", "0007_list_order_indexes")]


def latest() -> list[tuple[str, str]]:
    """Every app's last migration: going back to BEFORE also unapplies what depends on the
    job migrations (activities), and the tests after this one need all of it."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_import_and_export_records_become_jobs_with_their_files(settings, tmp_path):
    from associations.services import county_create

    from ..conftest import PASSWORD

    settings.MEDIA_ROOT = tmp_path
    county, admin = county_create(
        name="景县", division_code="131127", admin_username="m_admin", admin_password=PASSWORD
    )
    old_apps = migrate(BEFORE)
    upload = tmp_path / "imports" / str(county.pk) / "abc.xlsx"
    roster = tmp_path / "exports" / str(county.pk) / "7-roster.xlsx"
    for path in (upload, roster):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"PK")
    place = {"county_id": county.pk, "node_id": county.pk}
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        old_apps.get_model("members", "ImportJob").objects.create(
            **place,
            kind="members",
            file=f"imports/{county.pk}/abc.xlsx",
            original_name="花名册.xlsx",
            file_type="xlsx",
            uploaded_by_id=admin.pk,
            status="validated",
            count_new=3,
            count_invalid=1,
            problems=[{"row": 4, "code": "ID_CHECKSUM", "message": "校验位不对"}],
            problem_total=1,
        )
        old_apps.get_model("associations", "ExportJob").objects.create(
            **place,
            kind="members",
            requested_by_id=admin.pk,
            status="failed",
            error="后台任务服务暂时不可用,花名册未能开始生成。",
            file_name="景县会员花名册.xlsx",
            file_path=f"exports/{county.pk}/7-roster.xlsx",
        )
    migrate(latest())
    with unscoped(reason=UnscopedReason.TEST_FIXTURES):
        imported = Job.objects.get(kind="import.members")
        exported = Job.objects.get(kind="export.members")
    assert (imported.step, imported.state, imported.label) == ("validate", "ready", "会员名册")
    assert imported.owner_id == admin.pk and imported.input_name == "花名册.xlsx"
    assert imported.count("new") == 3 and imported.count("invalid") == 1
    assert imported.result["problems"][0]["code"] == "ID_CHECKSUM"
    assert jobs.file_of(imported, imported.input_file).read_bytes() == b"PK"
    assert (exported.state, exported.failure) == ("failed", "broker_down")
    assert exported.output_name == "景县会员花名册.xlsx"
    assert jobs.file_of(exported, exported.output_file).exists()
    assert not upload.exists() and not roster.exists()
