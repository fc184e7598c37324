"""A smoke test of benchmark_reports on the hand-worked world (one timed run), so it cannot
rot: it runs as the product does, its floor counts what the run stored, and it prints the
ratio. The world's 2026-Q1 posts (tests/reports/test_group_pay.py): the four villages'
presidents and g0's leader, five in all."""

import re

import pytest
from django.core.management import call_command

from associations import jobs

from .test_group_pay import pay_run  # noqa: F401  (a fixture)
from .test_runs import hand  # noqa: F401  (the fixture pay_run builds on)

pytestmark = pytest.mark.django_db


def test_benchmark_reports_runs_and_its_floor_counts_what_the_run_stored(
    pay_run,  # noqa: F811
    capsys,
    monkeypatch,
):
    a, _run = pay_run
    # The command runs in autocommit, where a job is published as its request commits; the
    # test's transaction never commits, so publish at once as autocommit would.
    monkeypatch.setattr(jobs.transaction, "on_commit", lambda publish, **_: publish())
    call_command("benchmark_reports", county=a.county.division_code, period="2026-Q1", runs=1)
    out = capsys.readouterr().out
    check = next(line for line in out.splitlines() if line.startswith("核对"))
    assert "一致(" in check and "不一致" not in check, out
    assert "posts 5" in check, out
    # every value of every indicator of the four villages and eight groups but those the
    # period does not assess: the floor computes the values themselves, not only the counts
    assert "全部 20 个指标值" in check, out
    assert "指标值 6 条" in out and "其余数字共 17 条" in out, out
    assert re.search(r"比值\(对指标值底线\)\d+\.\d\d×.*全部底线 \d+\.\d\d×", out), out


def test_the_floor_check_names_a_value_the_run_stored_differently(pay_run):  # noqa: F811
    """The check compares every value: a snapshot cell changed after the run no longer
    agrees with the floor, and the check says which."""
    from associations.periods import parse_period
    from reports.management.commands.benchmark_reports import _check, floor
    from reports.models import SnapshotNode

    a, run = pay_run
    with a.scope():
        values = floor(a.county, parse_period(run.period_key), run.version)
        assert "不一致" not in _check(run, values)

        row = SnapshotNode.objects.filter(run=run, level="village").order_by("id").first()
        key = next(k for k, cell in row.indicators.items() if cell["value"] is not None)
        row.indicators[key]["value"] = "12345.00"
        SnapshotNode.objects.filter(pk=row.pk).update(indicators=row.indicators)
        check = _check(run, values)
    assert "不一致" in check and f"{key}@{row.node_id_at}" in check, check
