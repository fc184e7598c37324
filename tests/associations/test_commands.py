import pytest
from django.core.management import CommandError, call_command

from associations.demo import DEMO_PASSWORD, account_table
from associations.management.base import find_county
from associations.models import Association, ChangeRecord, Council, CouncilSeat, Role, User
from associations.scope import Scope, activate
from associations.selectors import council_model_check

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_believable_county_and_is_idempotent(capsys):
    # 131127 (景县): the test world already holds the default demo code 130534.
    call_command("seed_demo", county="131127", name="景县")
    out = capsys.readouterr().out
    county = find_county("131127")
    assert county.name == "景县"
    for role in Role:
        assert role.label in out
    assert DEMO_PASSWORD in out
    # the care subsidies' line (benefits.demo), seeded before the assessment's
    assert "关爱扶助:项目 3 个、基金 3 个" in out
    assert out.index("关爱扶助:") < out.index("考核:")
    with activate(Scope.for_node(county)):
        counts = {
            level: Association.objects.filter(level=level).count()
            for level in ("township", "village", "group")
        }
        nodes = Association.objects.count()
        records = ChangeRecord.objects.count()
        checks = [council_model_check(council=c) for c in Council.objects.prefetch_related("seats")]
        assert all(
            n.division_code.startswith(n.parent.division_code)
            for n in Association.objects.exclude(level="county").select_related("parent")
        )
    assert counts == {"township": 4, "village": 14, "group": 60}
    assert records >= nodes  # every inserted node has its change record
    assert any(c.is_met for c in checks) and any(not c.is_met for c in checks)
    users = {u.role: u for u in User.objects.filter(county=county)}
    assert set(users) == set(Role.values)
    assert users[Role.GROUP_LEADER].node_level == "group"
    assert users[Role.VILLAGE_SECRETARY].check_password(DEMO_PASSWORD)

    call_command("seed_demo", county="131127", name="景县")
    assert "已存在,未做修改" in capsys.readouterr().out
    with activate(Scope.for_node(county)):
        assert Association.objects.count() == nodes
        assert ChangeRecord.objects.count() == records


def test_seed_demo_large_scale(capsys):
    # The tree alone: the 500,000 persons are the benchmark's, not the test suite's.
    call_command("seed_demo", county="131128", name="阜城县", scale="large", without_people=True)
    county = find_county("131128")
    with activate(Scope.for_node(county)):
        assert Association.objects.filter(level="township").count() == 25
        assert Association.objects.filter(level="village").count() == 600
        assert Association.objects.filter(level="group").count() == 5000
        assert CouncilSeat.objects.count() > 5000
        assert "county_admin_131128" in account_table(county)


def test_create_county_command(capsys):
    call_command(
        "create_county",
        code="131126",
        name="故城县",
        admin_username="gc",
        admin_password="Strong@pass2026",
    )
    assert "已开通 131126 故城县" in capsys.readouterr().out
    with pytest.raises(CommandError, match="已在平台上开通"):
        call_command(
            "create_county",
            code="131126",
            name="故城县",
            admin_username="gc2",
            admin_password="Strong@pass2026",
        )


def test_scoped_commands_need_a_known_county():
    with pytest.raises(CommandError, match="没有区划代码为 999999 的县"):
        call_command("check_worker", county="999999")
