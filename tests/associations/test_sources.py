"""Where a change came from: stored as "<kind>:<detail>", read in Chinese on every page that
shows history, never as the raw value."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from associations import history, services, sources
from associations.models import Association, ChangeRecord, User
from associations.scope import Scope, activate
from associations.tasks import ScopedTask

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("command:seed_demo", "命令 seed_demo"),
        ("page:POST /nodes/12/edit/ #3f2a9c01b7de", "页面 /nodes/12/edit/"),
        ("api:PATCH /api/v1/associations/12/ #3f2a9c01b7de", "接口 PATCH /api/v1/associations/12/"),
        ("import:42 会员花名册.xlsx", "导入 会员花名册.xlsx"),
        ("import:42", "导入 #42"),
        (
            "task:households.refresh_categories_in_scope #9b1c",
            "后台任务 households.refresh_categories_in_scope",
        ),
        ("system", "系统"),
    ],
)
def test_each_kind_reads_in_chinese(stored, shown):
    assert sources.describe(stored) == shown


@pytest.mark.parametrize(
    "stored",
    ["", "command seed_demo", "request abc POST /nodes/1/", "webhook:x", "<script>:alert(1)", ":"],
)
def test_unknown_kinds_read_as_other_never_raw(stored):
    assert sources.describe(stored) == "其他"


def test_the_builders_and_describe_agree():
    assert sources.describe(sources.for_command("create_county")) == "命令 create_county"
    assert sources.describe(sources.for_request("POST", "/nodes/3/edit/", "ab12")) == (
        "页面 /nodes/3/edit/"
    )
    assert sources.describe(sources.for_request("DELETE", "/api/v1/seats/4/", "ab12")) == (
        "接口 DELETE /api/v1/seats/4/"
    )
    assert sources.describe(sources.for_task("members.build_roster", "uuid-1")) == (
        "后台任务 members.build_roster"
    )
    assert sources.describe(sources.for_import(7, "花名册 #2.xlsx")) == "导入 花名册 #2.xlsx"


def test_a_page_change_is_stored_as_page_and_shown_in_chinese(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    client.post(
        reverse("node-create", kwargs={"pk": a.villages[0].pk}),
        {"name": "第九组", "division_code": a.villages[0].division_code + "009"},
    )
    with a.scope():
        record = ChangeRecord.objects.get(object_label="第九组")
    assert record.source.startswith(
        f"page:POST {reverse('node-create', args=[a.villages[0].pk])} #"
    )
    body = client.get(reverse("node-history", kwargs={"pk": record.node_id})).content.decode()
    assert f"来源:页面 {reverse('node-create', args=[a.villages[0].pk])}" in body
    assert f">{record.source}<" not in body  # the raw value is only a tooltip


def test_an_api_change_is_stored_as_api(world):
    from rest_framework.test import APIClient

    a = world.a
    client = APIClient()
    client.force_authenticate(a.users["county_admin"])
    client.post(
        reverse("association-list"),
        {"parent": a.county.pk, "name": "新镇", "division_code": "130534199"},
        format="json",
    )
    with a.scope():
        record = ChangeRecord.objects.get(object_label="新镇")
    assert record.source.startswith("api:POST /api/v1/associations/ #")
    assert record.source_display == "接口 POST /api/v1/associations/"


def test_a_command_is_stored_as_command_and_every_history_page_shows_it(client, world, capsys):
    call_command("seed_demo", county="131127", name="景县", without_people=True)
    from associations.management.base import find_county

    county = find_county("131127")
    with activate(Scope.for_node(county)):
        village = Association.objects.filter(level="village").first()
        assert set(ChangeRecord.objects.values_list("source", flat=True)) == {"command:seed_demo"}
    client.force_login(User.objects.get(username="county_admin_131127"))
    for url in (
        reverse("node-detail", kwargs={"pk": village.pk}),
        reverse("node-history", kwargs={"pk": village.pk}),
    ):
        body = client.get(url).content.decode()
        assert "来源:命令 seed_demo" in body
        assert "来源:command" not in body


def _rename_village(pk, actor_pk):
    services.association_update(
        actor=User.objects.get(pk=actor_pk),
        association=Association.objects.get(pk=pk),
        name="任务改名",
    )


def test_a_task_is_stored_as_task(world):
    from config.celery_app import app

    a = world.a
    task = app.task(base=ScopedTask, name="tests.rename_village")(_rename_village)
    scope = asdict(Scope.for_node(a.county))
    task.apply(
        args=[a.villages[0].pk, a.users["county_admin"].pk], kwargs={"scope": scope}, task_id="t-1"
    ).get()
    with a.scope():
        record = ChangeRecord.objects.get(object_label="任务改名")
    assert record.source == "task:tests.rename_village #t-1"
    assert record.source_display == "后台任务 tests.rename_village"


def test_nothing_set_reads_system(world):
    a = world.a
    with a.scope():
        services.association_update(
            actor=a.users["county_admin"], association=a.villages[0], name="无来源"
        )
        record = ChangeRecord.objects.get(object_label="无来源")
    assert (record.source, record.source_display) == ("system", "系统")
    assert history.current_source() == "system"


def _migrate(targets=None) -> None:
    """Migrate the test database to `targets`, or back to the latest of every app. (The test's
    transaction rolls the schema and django_migrations back at its end anyway.)"""
    from django.db.migrations.executor import MigrationExecutor

    # Rows written in this transaction leave deferred foreign-key checks pending, and
    # PostgreSQL alters no table with pending trigger events: the checks run at once for the
    # rest of the test's transaction (the migrations' own data steps included).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_the_migration_rewrites_the_old_free_text(world):
    a = world.a
    old_and_new = {
        "request 3f2a9c01b7de POST /nodes/12/edit/": "page:POST /nodes/12/edit/ #3f2a9c01b7de",
        "request 3f2a9c01b7de PATCH /api/v1/associations/12/": (
            "api:PATCH /api/v1/associations/12/ #3f2a9c01b7de"
        ),
        "task members.import_commit 9b1c-77": "task:members.import_commit #9b1c-77",
        "command seed_demo": "command:seed_demo",
        "system": "system",
    }
    _migrate([("associations", "0005_file_retention")])
    try:
        with a.scope():
            ChangeRecord.objects.all().delete()
            for old in old_and_new:
                with history.change_source(old):
                    history.record_change(
                        actor=None,
                        node=a.villages[0],
                        obj=a.villages[0],
                        action="update",
                        before=None,
                        after=None,
                    )
    finally:
        _migrate()
    with a.scope():
        stored = sorted(ChangeRecord.objects.values_list("source", flat=True))
        assert stored == sorted(old_and_new.values())
        assert "其他" not in {r.source_display for r in ChangeRecord.objects.all()}
