"""A smoke test of the benchmark command on the test world's tiny data (one timed run), so it
cannot rot: it runs, its floors count what the product counts, and it prints the ratios."""

import re

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_benchmark_activities_runs_on_tiny_data(world, capsys):
    # county B's villages each have a 2023-06 group meeting and a home visit (tests/conftest.py)
    call_command(
        "benchmark_activities",
        county="130535",
        year=2023,
        month="2023-06",
        quarter="2023-Q2",
        runs=1,
    )
    out = capsys.readouterr().out
    assert "活动 4 次" in out
    lines = [line for line in out.splitlines() if "×" in line]
    assert [line.split()[0] for line in lines] == ["工作职责", "工作职责", "活动统计表"]
    assert all("一致" in line and "不一致" not in line for line in lines)
    assert "activities 4" in lines[0] and "activities 4" in lines[1]
    assert "活动 4," in lines[2]
    assert all(re.search(r"\d+\.\d\d×", line) for line in lines)


def test_benchmark_activities_refuses_bad_periods(world):
    with pytest.raises(CommandError, match="统计期格式"):
        call_command("benchmark_activities", county="130535", month="2023-13", runs=1)
    with pytest.raises(CommandError, match="应为一个月"):
        call_command(
            "benchmark_activities", county="130535", month="2023", quarter="2023-Q1", runs=1
        )
