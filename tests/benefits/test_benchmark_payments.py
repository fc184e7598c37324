"""A smoke test of benchmark_payments on the shared world (county B, 临西县, one timed run),
so it cannot rot: it sets up its programme and enrolments, the product's batch and files agree
with the floors', both ratios are printed, and the benchmark leaves no batch behind."""

import re

import pytest
from django.core.management import call_command

from associations.scope import Scope, activate
from benefits.models import (
    DisbursementBatch,
    Enrollment,
    EnrollmentStatus,
    LineStatus,
    Program,
)

pytestmark = pytest.mark.django_db


def test_benchmark_payments_runs_and_its_floors_agree(world, capsys):
    call_command("benchmark_payments", county="130535", lines=6, runs=1)
    out = capsys.readouterr().out
    assert "在册对象 6 名" in out, out
    checks = [line for line in out.splitlines() if line.startswith("核对")]
    assert len(checks) == 2, out
    assert all("一致" in line and "不一致" not in line for line in checks), out
    assert "产品 6 条,底线 6 条" in checks[0], out
    # 6 beneficiaries, all with an account (the first inactive: one in fifty): the bank file
    # pays 5 × 960.00, leaves 1 out; the receipt sheets list all 6
    assert "代发 5 笔 4800.00 元,未列入代发 1 笔" in checks[1], out
    assert "产品 12 行,底线 12 行" in checks[1], out
    ratios = [line for line in out.splitlines() if "×" in line and not line.startswith(" ")]
    assert [line.split(":")[0] for line in ratios] == ["发放批次(生成+确认)", "代发文件+签收表"]
    assert all(re.search(r"\d+ 条查询.*比值 \d+\.\d\d×", line) for line in ratios), out
    # the floor's deferred foreign-key checks, timed apart, and the ratio without them
    assert re.search(
        r"外键检查.*中位 [\d,]+ ms;不计这些检查的底线中位 [\d,]+ ms,比值 \d+\.\d\d×", out
    )
    assert "本机负载" in out

    b = world.b.county
    with activate(Scope.for_node(b)):
        program = Program.objects.get(name="基准测试奖励扶助")
        # the benchmark's batches are gone; the year before's paid batch (setup) stays
        assert not DisbursementBatch.objects.filter(program=program, period="2026").exists()
        history = DisbursementBatch.objects.get(program=program, period="2025")
        assert history.lines.filter(status=LineStatus.PAID).count() == 6
        enrolled = Enrollment.objects.filter(program=program, status=EnrollmentStatus.ENROLLED)
        assert enrolled.count() == 6
    # a second run reuses the programme and the enrolments
    call_command("benchmark_payments", county="130535", lines=6, runs=1)
    out = capsys.readouterr().out
    assert "已写入" not in out and "已创建项目" not in out, out
    # the year before was paid, and this year's batch pays them again (another period)
    assert "产品 6 条,底线 6 条" in out, out
