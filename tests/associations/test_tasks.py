"""Background work: ScopedTask runs inside the sender's scope, on a real worker process over
the configured broker (Redis when REDIS_URL is set, as in CI; else kombu's filesystem)."""

import os
from dataclasses import asdict

import pytest
from django.conf import settings

from associations import services
from associations.models import ChangeRecord
from associations.scope import NoActiveScope, Scope, activate
from associations.tasks import ScopedTask, enqueue_in_scope, subtree_census
from config.celery_app import app

from ..conftest import PASSWORD
from ..workers import new_queue, start_worker


def test_scoped_task_refuses_to_run_without_a_scope():
    assert isinstance(subtree_census, ScopedTask)
    with pytest.raises(ValueError, match="needs a scope"):
        subtree_census(1)


@pytest.mark.django_db
def test_scoped_task_sees_only_the_senders_scope(world):
    a = world.a
    scope = asdict(Scope.for_node(a.townships[0]))
    result = subtree_census(a.townships[0].pk, scope=scope)
    assert result["census"] == {"township": 1, "village": 2, "group": 4}
    with pytest.raises(Exception) as caught:
        subtree_census(a.townships[1].pk, scope=scope)  # a sibling township: not found
    assert caught.type.__name__ == "DoesNotExist"


@pytest.mark.django_db
def test_enqueue_waits_for_commit_and_carries_the_scope(world, django_capture_on_commit_callbacks):
    a = world.a
    with activate(Scope.for_node(a.villages[0])):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue_in_scope(subtree_census, a.villages[0].pk)
        assert len(callbacks) == 1  # nothing is sent before the transaction commits
    with pytest.raises(ValueError):
        enqueue_in_scope(subtree_census, a.villages[0].pk)


def test_task_body_outside_a_scope_would_raise():
    with pytest.raises(NoActiveScope):
        subtree_census.run(1)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_in_scope():
    county, admin = services.county_create(
        name="景县", division_code="131127", admin_username="w_admin", admin_password=PASSWORD
    )
    with activate(Scope.for_node(county)):
        services.association_create(
            actor=admin, parent=county, name="景州镇", division_code="131127100"
        )
    queue = new_queue()
    worker = start_worker(queue)
    app.conf.task_always_eager = False
    try:
        result = subtree_census.apply_async(
            args=[county.pk], kwargs={"scope": asdict(Scope.for_node(county))}, queue=queue
        )
        census = result.get(timeout=60)
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert census == {
        "node": county.pk,
        "county": county.pk,
        "census": {"county": 1, "township": 1},
    }, output
    with activate(Scope.for_node(county)):
        assert ChangeRecord.objects.count() == 3


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (set in CI)")
def test_redis_is_the_broker_when_configured():
    import redis

    assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL
    assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
