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
    assert "指标值 5 条" in out and "其余数字共 11 条" in out, out
    assert re.search(r"比值\(对指标值底线\)\d+\.\d\d×.*全部底线 \d+\.\d\d×", out), out
