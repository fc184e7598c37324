"""Report runs and their snapshots on a hand-worked scheme, county A, 2026 Q1.

The scheme "生成测试" (lines: 一流 ≥ 50, 合格 ≥ 20), put in use:
  village  council_quarterly   met ≥ 100  max 30
           congress_held       met ≥ 1    max 20
           archives (manual)   met ≥ 1    max 50   (no submissions yet: 0, 未评分)
  group    group_activity_months met ≥ 100 max 10
Records (2026 Q1; the world has nothing else then):
  v0 = t0v0: 理事会 Feb 10, 会员代表大会 Mar 3      → 30 + 20 + 0 = 50  一流村协会
  v1 = t0v1: nothing                               →  0                不合格
  v2 = t1v0: 会员代表大会 Mar 5                     → 20                合格村协会
  v3 = t1v1: nothing                               →  0                不合格
  g0 (v0's first group): an activity each month    → 10; every other group 0
Ranks (standard competition, ties share): county v0 1, v2 2, v1 3, v3 3 (all four in the
top three: v1 and v3 tie for third); township t0: v0 1, v1 2; t1: v2 1, v3 2."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from activities import services as activity_services
from associations import services as association_services
from associations.models import Job
from reports import runs, services
from reports.models import ReportRun, SnapshotNode

pytestmark = pytest.mark.django_db


def day(month: int, d: int) -> datetime.date:
    return datetime.date(2026, month, d)


def make_scheme(a):
    admin = a.users["county_admin"]
    scheme = services.scheme_create(
        actor=admin,
        county=a.county,
        year=2026,
        name="生成测试",
        first_class_min=D("50"),
        qualified_min=D("20"),
    )
    version = scheme.versions.get()
    add = lambda **f: services.indicator_add(actor=admin, version=version, **f)  # noqa: E731
    add(key="council_quarterly", name="", max_score=D("30"), rule="met", threshold=D("100"))
    add(key="congress_held", name="", max_score=D("20"), rule="met", threshold=D("1"))
    add(key="archives", name="资料档案", manual=True, max_score=D("50"), rule="met", threshold=1)
    add(key="group_activity_months", name="", max_score=D("10"), rule="met", threshold=D("100"))
    return services.scheme_version_activate(actor=admin, version=version)


@pytest.fixture
def hand(world):
    a = world.a
    admin = a.users["county_admin"]
    v0, v2, g0 = a.villages[0], a.villages[2], a.groups[0]
    with a.scope():
        version = make_scheme(a)

        def activity(node, date, kind="publicity", **fields):
            activity_services.activity_create(
                actor=admin, association=node, kind=kind, date=date, **fields
            )

        activity(v0, day(2, 10), "meeting", meeting_type="council")
        activity(v0, day(3, 3), "meeting", meeting_type="congress")
        activity(v2, day(3, 5), "meeting", meeting_type="congress")
        for month in (1, 2, 3):
            activity(g0, day(month, 12))
    return a, version


def build(a, version, period="2026-Q1"):
    """Ask for a run as the county admin and let the (eager) worker build it on commit."""
    with a.scope():
        run, _created = runs.request_run(
            actor=a.users["county_admin"], county=a.county, period_key=period, version=version
        )
    return run


def rows(a, run) -> dict[int, SnapshotNode]:
    with a.scope():
        return {r.node_id_at: r for r in SnapshotNode.objects.filter(run=run)}


def test_the_hand_worked_scheme(hand, django_capture_on_commit_callbacks):
    a, version = hand
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        run.refresh_from_db()
        job = Job.objects.get(pk=run.job_id)
    assert (run.state, job.state, job.kind) == ("done", "done", "report.assessment")
    assert run.number == 1 and run.query_count > 0 and run.finished_at
    snap = rows(a, run)
    v0, v1, v2, v3 = (snap[v.pk] for v in a.villages)
    assert [v.total for v in (v0, v1, v2, v3)] == [D("50"), D("0"), D("20"), D("0")]
    assert [v.grade for v in (v0, v1, v2, v3)] == [
        "first_class", "unqualified", "qualified", "unqualified"
    ]  # fmt: skip
    assert [v.rank_in_county for v in (v0, v1, v2, v3)] == [1, 3, 2, 3]
    assert [v.rank_in_township for v in (v0, v1, v2, v3)] == [1, 2, 1, 2]
    assert all(v.top_three for v in (v0, v1, v2, v3))
    assert v0.indicators["council_quarterly"] == {"value": "100.00", "score": "30.00", "reason": ""}
    assert v0.indicators["congress_held"]["score"] == "20.00"
    assert v1.indicators["council_quarterly"]["score"] == "0.00"
    assert v1.indicators["council_quarterly"]["reason"].startswith("未达标")
    assert v0.indicators["archives"] == {"value": None, "score": "0.00", "reason": "未评分"}
    groups = [snap[g.pk] for g in a.groups]
    assert [g.total for g in groups] == [D("10")] + [D("0")] * 7
    assert groups[0].rank_in_county == 1 and groups[1].rank_in_county == 2
    assert groups[0].grade == "" and not groups[0].top_three
    # as they were: names, codes, parents, township
    assert (v2.name, v2.division_code, v2.parent_node_id) == (
        a.villages[2].name, a.villages[2].division_code, a.townships[1].pk
    )  # fmt: skip
    assert v2.township_name == a.townships[1].name
    # the period's figures, and the aggregates
    assert v0.population is not None and v0.members is not None
    county_row = snap[a.county.pk]
    assert county_row.figures["villages"] == 4
    assert county_row.figures["grades"] == {"first_class": 1, "qualified": 1, "unqualified": 2}
    assert county_row.figures["average_total"] == "17.50"
    assert county_row.population == sum(snap[v.pk].population for v in a.villages)
    t0 = snap[a.townships[0].pk]
    assert t0.figures["average_total"] == "25.00" and t0.figures["villages"] == 2


def test_asking_twice_while_one_runs_joins_it(hand, django_capture_on_commit_callbacks):
    a, version = hand
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = build(a, version)
        second = build(a, version)
    assert first.pk == second.pk
    assert len(callbacks) == 1  # one message for the worker
    for callback in callbacks:
        callback()
    with a.scope():
        assert ReportRun.objects.filter(version=version).count() == 1
        assert SnapshotNode.objects.filter(run=first).count() == len(a.nodes)
        assert Job.objects.filter(kind="report.assessment", params__version=version.pk).count() == 1
    # done: asking again makes run number 2
    with django_capture_on_commit_callbacks(execute=True):
        third = build(a, version)
    assert third.pk != first.pk and third.number == 2


def test_the_database_keeps_one_live_run_per_key(hand):
    a, version = hand
    run = build(a, version)  # queued: the capture fixture is not used, nothing is sent
    with a.scope():
        job = Job(kind="report.assessment", node=a.county, owner=a.users["county_admin"])
        job.place_under(a.county)
        job.save()
        twin = ReportRun(
            period_key="2026-Q1", version=version, job=job, number=9, created_by=run.created_by
        )
        twin.place_under(a.county)
        with pytest.raises(IntegrityError), transaction.atomic():
            twin.save()


def test_a_rolled_back_request_enqueues_nothing(hand, django_capture_on_commit_callbacks):
    a, version = hand
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        build(a, version)
        raise RuntimeError("the request failed after asking")
    assert callbacks == []
    with a.scope():
        assert not ReportRun.objects.filter(version=version).exists()
        assert not Job.objects.filter(kind="report.assessment", params__version=version.pk)


def test_bad_period_and_draft_version_are_refused(world):
    a = world.a
    with a.scope():
        draft = a.schemes[0].versions.get()
        with pytest.raises(ValidationError) as error:
            runs.request_run(
                actor=a.users["county_admin"], county=a.county, period_key="2026-Q5", version=draft
            )
        assert "统计期格式" in str(error.value)
        with pytest.raises(ValidationError, match="尚未启用"):
            runs.request_run(
                actor=a.users["county_admin"], county=a.county, period_key="2026-Q1", version=draft
            )


def test_query_count_does_not_grow_with_villages(hand, django_capture_on_commit_callbacks):
    a, version = hand
    admin = a.users["county_admin"]

    def count():
        with django_capture_on_commit_callbacks(execute=True):
            run = build(a, version)
        with a.scope():
            run.refresh_from_db()
        return run.query_count

    count()  # catalogues read and seeded once
    before = count()
    with a.scope():
        for n in range(4):
            village = association_services.association_create(
                actor=admin,
                parent=a.townships[1],
                name=f"新村{n}",
                division_code=f"{a.townships[1].division_code}{300 + n:03d}",
            )
            group = association_services.association_create(
                actor=admin,
                parent=village,
                name=f"新村{n}第1组",
                division_code=f"{village.division_code}001",
            )
            activity_services.activity_create(
                actor=admin, association=group, kind="publicity", date=day(2, 1)
            )
    after = count()
    assert before == after, (before, after)


def test_the_default_scheme_costs_the_same_queries_in_a_small_and_a_larger_county(
    world, django_capture_on_commit_callbacks
):
    """Every default indicator (benchmark_province builds 100 counties of 16 to 42 villages
    with it): county B as the world has it (4 villages, 8 groups) and county A grown by 6
    villages of 3 groups (10 villages, 26 groups), each new village with a council meeting and
    a congress in the quarter and an activity in each of its groups, cost the same queries."""

    def count(w, version):
        with django_capture_on_commit_callbacks(execute=True):
            run = build(w, version, "2026-H1")
        with w.scope():
            run.refresh_from_db()
        assert run.state == ReportRun.State.DONE, run.job.error
        return run.query_count

    versions = {}
    for w in (world.a, world.b):
        with w.scope():
            versions[w.county.pk] = services.scheme_version_activate(
                actor=w.users["county_admin"], version=w.schemes[-1].versions.get()
            )
        count(w, versions[w.county.pk])  # catalogues read and seeded once
    small = count(world.b, versions[world.b.county.pk])
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        for n in range(6):
            village = association_services.association_create(
                actor=admin,
                parent=a.townships[n % 2],
                name=f"新村{n}",
                division_code=f"{a.townships[n % 2].division_code}{300 + n:03d}",
            )
            for meeting in ("council", "congress"):
                activity_services.activity_create(
                    actor=admin,
                    association=village,
                    kind="meeting",
                    meeting_type=meeting,
                    date=day(3, 2 + n),
                )
            for g in range(3):
                group = association_services.association_create(
                    actor=admin,
                    parent=village,
                    name=f"新村{n}第{g + 1}组",
                    division_code=f"{village.division_code}{g + 1:03d}",
                )
                activity_services.activity_create(
                    actor=admin, association=group, kind="publicity", date=day(4, 1 + g)
                )
    larger = count(a, versions[a.county.pk])
    with a.scope():
        villages = SnapshotNode.objects.filter(run__county=a.county, level="village")
        assert villages.values("node_id_at").distinct().count() == 10
    assert small == larger, (small, larger)


# --- publishing and immutability -----------------------------------------------------------


def published_run(a, version, callbacks_fixture):
    """A published 2026-H1 run (the world has published 2026-Q1 already)."""
    with callbacks_fixture(execute=True):
        run = build(a, version, "2026-H1")
    with a.scope():
        run.refresh_from_db()
        return runs.publish(actor=a.users["county_admin"], run=run)


def test_publishing_one_run_per_period(hand, django_capture_on_commit_callbacks):
    a, version = hand
    first = published_run(a, version, django_capture_on_commit_callbacks)
    assert first.is_published and first.published_by == a.users["county_admin"]
    with django_capture_on_commit_callbacks(execute=True):
        second = build(a, version, "2026-H1")
    with a.scope():
        second.refresh_from_db()
        assert second.state == "done"
        with pytest.raises(ValidationError, match="不能撤销或替换"):
            runs.publish(actor=a.users["county_admin"], run=second)
        with pytest.raises(Exception, match="只有县级管理员"):
            runs.publish(actor=a.users["county_viewer"], run=second)


def app_role_cursor(test):
    """Run `test(cursor)` as a non-owner, non-superuser role (as production connects): the
    all-counties one, in jsx_all_counties, for which 'all' admits every county's rows."""
    import uuid

    from django.core.management import call_command

    from associations.rls import SETTING

    role = f"jsx_probe_all_{uuid.uuid4().hex[:8]}"
    call_command("grant_app_role", role=f"{role}_app", all_counties=role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {role} TO CURRENT_USER")
        cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            cursor.execute("SELECT set_config(%s, 'all', false)", [SETTING])
            test(cursor)
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT set_config(%s, '', false)", [SETTING])


def test_published_snapshots_refuse_update_and_delete(hand, django_capture_on_commit_callbacks):
    a, version = hand
    run = published_run(a, version, django_capture_on_commit_callbacks)

    def probe(cursor):
        statements = [
            ("UPDATE reports_snapshotnode SET total = 99 WHERE run_id = %s", [run.pk]),
            ("UPDATE reports_snapshotnode SET name = 'x' WHERE run_id = %s", [run.pk]),
            ("DELETE FROM reports_snapshotnode WHERE run_id = %s", [run.pk]),
            (
                "INSERT INTO reports_snapshotnode (county_id, run_id, node_id_at, level, name, "
                "division_code, township_name, indicators, grade, top_three, figures, "
                "population_figures) "
                "VALUES (%s, %s, -1, 'village', 'x', 'x', '', '{}', '', false, '{}', '{}')",
                [a.county.pk, run.pk],
            ),
            ("UPDATE reports_reportrun SET published_at = NULL WHERE id = %s", [run.pk]),
            ("UPDATE reports_reportrun SET number = 7 WHERE id = %s", [run.pk]),
            ("DELETE FROM reports_reportrun WHERE id = %s", [run.pk]),
        ]
        for sql, params in statements:
            cursor.execute("SAVEPOINT probe")
            with pytest.raises(Exception, match="cannot be changed"):
                cursor.execute(sql, params)
            cursor.execute("ROLLBACK TO SAVEPOINT probe")
        cursor.execute("SELECT count(*) FROM reports_snapshotnode WHERE run_id = %s", [run.pk])
        assert cursor.fetchone()[0] == len(a.nodes)

    app_role_cursor(probe)


def test_an_unpublished_snapshot_may_be_rebuilt(hand, django_capture_on_commit_callbacks):
    a, version = hand
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        assert SnapshotNode.objects.filter(run=run).update(total=1) == len(a.nodes)
        assert SnapshotNode.objects.filter(run=run).delete()[0] == len(a.nodes)


def test_redistricting_after_publishing_changes_nothing(hand, django_capture_on_commit_callbacks):
    a, version = hand
    run = published_run(a, version, django_capture_on_commit_callbacks)
    v1 = a.villages[1]
    with a.scope():
        association_services.association_move(
            actor=a.users["county_admin"], association=v1, new_parent=a.townships[1]
        )
        row = SnapshotNode.objects.get(run=run, node_id_at=v1.pk)
    assert row.township_node_id == a.townships[0].pk
    assert row.parent_node_id == a.townships[0].pk
    assert row.township_name == a.townships[0].name
    assert row.rank_in_township == 2
    # the row's scope key follows the village (its own staff keep its history); township
    # pages and the API read it by the township it was in (test_results_by_role)
    assert row.township_id == a.townships[1].pk


# --- a worker killed mid-run -------------------------------------------------------------------


def wait_until(predicate, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_gives_exactly_one_snapshot(
    settings, client, tmp_path, monkeypatch
):
    """kill -9 of the worker while the run waits before storing its snapshot: nothing is
    stored, the job's heartbeat goes stale, its page re-queues it, and the second attempt
    stores the one snapshot."""
    import os
    import signal
    import time
    from dataclasses import asdict

    from associations import jobs
    from associations.scope import Scope, activate
    from associations.tasks import run_job
    from config.celery_app import app

    from ..conftest import PASSWORD
    from ..workers import new_queue, start_worker

    settings.MEDIA_ROOT = tmp_path
    settings.JOB_STALE_SECONDS = 1
    county, admin = association_services.county_create(
        name="武邑县", division_code="131122", admin_username="kw_admin", admin_password=PASSWORD
    )
    scope = Scope.for_node(county)
    with activate(scope):
        township = association_services.association_create(
            actor=admin, parent=county, name="武邑镇", division_code="131122100"
        )
        for n in range(3):
            association_services.association_create(
                actor=admin, parent=township, name=f"东关{n}村", division_code=f"131122100{201 + n}"
            )
        scheme = services.scheme_create(actor=admin, county=county, year=2026, name="测试")
        version = scheme.versions.get()
        services.indicator_add(
            actor=admin,
            version=version,
            key="council_quarterly",
            name="",
            max_score=D("100"),
            rule="met",
            threshold=D("100"),
        )
        version = services.scheme_version_activate(actor=admin, version=version)
        monkeypatch.setattr(jobs, "send", lambda job, step: jobs._queue(job, step))
        run, _ = runs.request_run(actor=admin, county=county, period_key="2026-Q1", version=version)
    monkeypatch.setenv(runs.PAUSE_ENV, "60")
    queue = new_queue()
    worker = start_worker(queue, media=tmp_path, quiet=True)
    monkeypatch.delenv(runs.PAUSE_ENV)
    app.conf.task_always_eager = False
    try:
        run_job.apply_async(args=[run.job_id], kwargs={"scope": asdict(scope)}, queue=queue)

        def storing() -> bool:
            with activate(scope):
                job = Job.objects.get(pk=run.job_id)
            return job.state == "running" and job.result.get("stage") == "保存结果"

        assert wait_until(storing, timeout=60), "the worker never reached the storing step"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        app.conf.task_always_eager = True
        if worker.poll() is None:
            worker.kill()
    with activate(scope):
        job = Job.objects.get(pk=run.job_id)
        assert (job.state, job.attempts) == ("running", 1)
        assert not SnapshotNode.objects.filter(run=run).exists()
        assert ReportRun.objects.get(pk=run.pk).state == "running"
    time.sleep(1.5)  # the heartbeat goes stale
    client.force_login(admin)
    client.get(reverse("job", kwargs={"pk": run.job_id}))  # notices, re-queues, runs (eager)
    with activate(scope):
        job = Job.objects.get(pk=run.job_id)
        assert (job.state, job.attempts) == ("done", 2), job.error
        assert ReportRun.objects.get(pk=run.pk).state == "done"
        assert SnapshotNode.objects.filter(run=run).count() == 5  # county, township, 3 villages
        assert ReportRun.objects.filter(county_id=county.pk).count() == 1


def test_a_failed_run_sent_again_while_another_runs_stays_failed_saying_why(
    hand, client, django_capture_on_commit_callbacks
):
    from associations import jobs

    a, version = hand
    first = build(a, version)  # queued, never sent (no capture: on_commit does not run)
    with a.scope():
        jobs.fail(first.job, jobs.FAILED_MESSAGE)
        first.refresh_from_db()
        assert first.state == "failed"
        second = build(a, version)  # a new live run of the same key
        assert second.pk != first.pk and second.state == "queued"
    client.force_login(a.users["county_admin"])
    response = client.post(reverse("job-resend", args=[first.job_id]))
    assert response.status_code == 302
    with a.scope():
        job = Job.objects.get(pk=first.job_id)
        first.refresh_from_db()
    assert (job.state, first.state) == ("failed", "failed")
    assert "已有正在生成的考核" in job.error


def test_a_run_whose_worker_died_twice_fails_with_a_reason(hand, client):
    import datetime as dt

    from django.utils import timezone

    from associations import jobs

    a, version = hand
    run = build(a, version)  # queued, never sent
    long_ago = timezone.now() - dt.timedelta(hours=1)
    with a.scope():
        Job.objects.filter(pk=run.job_id).update(
            state="running", attempts=2, started_at=long_ago, heartbeat_at=long_ago
        )
        assert ReportRun.objects.get(pk=run.pk).state == "running"
        assert jobs.sweep_stale() == {"requeued": 0, "failed": 1}
        run.refresh_from_db()
        job = Job.objects.get(pk=run.job_id)
    assert (run.state, job.failure) == ("failed", "interrupted")
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    assert "后台处理中断" in page and "重试" in page


def test_manual_indicators_count_the_townships_accepted_scores(
    world, django_capture_on_commit_callbacks
):
    """The world's 2026-Q1 period of county A (scheme in use: council 4 points; 资料档案 and
    阵地标示牌 manual, 3 points each). Village 0 proposes 3 and 3; the township accepts with
    3 and 1.5: those count. Village 1 submits but is not reviewed yet: 未评分, 0 points."""
    from reports import submissions
    from reports.models import Submission

    a = world.a
    period = a.periods[0]
    with a.scope():
        first, second = (
            Submission.objects.get(period=period, expected__unit=v) for v in a.villages[:2]
        )
        secretary, staff = a.users["village_secretary"], a.users["township_staff"]
        score_of = {r.indicator.key: r for r in submissions.score_rows(first)}
        submissions.submission_save(
            actor=secretary,
            submission=first,
            scores={score_of["archives"].pk: ("3", "档案齐全"), score_of["sign"].pk: ("3", "")},
        )
        submissions.submission_submit(actor=secretary, submission=first)
        submissions.submission_accept(
            actor=staff,
            submission=first,
            scores={
                score_of["archives"].pk: ("3", ""),
                score_of["sign"].pk: ("1.5", "标示牌缺一块"),
            },
        )
        second_secretary = type(secretary).objects.get(node=a.villages[1], role=secretary.role)
        submissions.submission_submit(actor=second_secretary, submission=second)
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, period.version)
    snap = rows(a, run)
    v0, v1 = snap[a.villages[0].pk], snap[a.villages[1].pk]
    assert v0.indicators["archives"] == {"value": "3.00", "score": "3.00", "reason": ""}
    assert v0.indicators["sign"] == {"value": "1.50", "score": "1.50", "reason": ""}
    assert v1.indicators["archives"] == {"value": None, "score": "0.00", "reason": "未评分"}
    assert v0.total == D("4.50") + D(v0.indicators["council_quarterly"]["score"])
