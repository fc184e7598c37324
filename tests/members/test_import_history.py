"""An import's changes say they came from that import (导入 and the file's name), whether
the commit ran within the request or on the worker."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from associations import jobs
from associations.imports import jobs as import_jobs
from associations.models import ChangeRecord, Job
from associations.scope import Scope, activate
from associations.tasks import run_job

from .test_import import media_root, person_row, xlsx  # noqa: F401 (media_root: a fixture)

pytestmark = pytest.mark.django_db


def _member_sources(node) -> set[str]:
    with activate(Scope.for_node(node)):
        return set(
            ChangeRecord.objects.filter(
                object_type="members.Member", action="create", object_label__contains="新会员"
            ).values_list("source", flat=True)
        )


def test_a_commit_within_the_request_is_recorded_as_the_import(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    client.post(
        reverse("import-upload", kwargs={"pk": user.node_id}),
        {"kind": "members", "file": SimpleUploadedFile("会员花名册.xlsx", xlsx([person_row(1)]))},
    )
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    client.post(reverse("import-commit", kwargs={"pk": job.pk}))
    assert _member_sources(user.node) == {f"import:{job.pk} 会员花名册.xlsx"}
    history = client.get(reverse("node-history", kwargs={"pk": world.a.groups[0].pk}))
    assert "来源:导入 会员花名册.xlsx" in history.content.decode()


def test_a_commit_on_the_worker_is_recorded_as_the_import(world):
    user = world.a.users["village_secretary"]
    scope = asdict(Scope.for_node(user.node))
    with activate(Scope.for_node(user.node)):
        job = import_jobs.job_create(
            actor=user,
            node=user.node,
            kind="members",
            upload=SimpleUploadedFile("大名单.xlsx", xlsx([person_row(1), person_row(2)])),
        )
        jobs.send(job, step=import_jobs.VALIDATE)
    assert run_job(job.pk, scope=scope)["state"] == "ready"
    with activate(Scope.for_node(user.node)):
        Job.objects.filter(pk=job.pk).update(step=import_jobs.COMMIT)
        jobs.send(job, step=import_jobs.COMMIT)
    assert run_job(job.pk, scope=scope)["state"] == "done"
    assert _member_sources(user.node) == {f"import:{job.pk} 大名单.xlsx"}
