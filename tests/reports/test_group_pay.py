"""Performance pay (reports.pay) worked by hand, the pay terms of a scheme version (edited on
its page, frozen once in use), and sheets 4 (五好/五有小组及表彰名单) and 5 (绩效工资发放表)
read back with openpyxl and printed through LibreOffice.

The run of the sheets is the hand-worked 2026-Q1 run of test_runs.py (lines 一流 ≥ 50, 合格
≥ 20): v0 50 一流 (county rank 1), v2 20 合格 (2), v1 and v3 0 不合格 (3, tied): all four
in the county's top three. Pay terms are the defaults: 会长 50 元 and 小组长 10 元 a month,
合格 80 %, no bonus. Q1 is 3 months. Presidents: every village's council (2024-2029);
leaders on 31 March: only g0's (member 0, from 1 January; the world's other leaders start
today, after the quarter).
  t0: v0 会长 150 → 150.00 (一流);  v0 小组长 30 → 30.00;  v1 会长 150 → 0 (不合格)
      小计 held 330, paid 180
  t1: v2 会长 150 → 120.00 (合格 80 %);  v3 会长 150 → 0    小计 held 300, paid 120
  合计 held 630, paid 300.
Group ratings of Q1: g0 all ten criteria (五好 and 五有), g1 none ticked; v1..v3's groups not
rated. v0 小计: 2 groups, 1 per criterion, 五好 1, 五有 1; 合计: 8 groups, 五好 1, 五有 1."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal as D

import openpyxl
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from associations.models import CouncilPosition, CouncilSeat, Level
from associations.periods import parse_period
from households.models import Person
from members import services as member_services
from reports import group_ratings, pay, services
from reports.models import Grade, SchemeVersion, SnapshotNode
from tests.libreoffice import print_to_pdf

from .test_runs import build, hand  # noqa: F401  (hand: the hand-worked world, a fixture)

pytestmark = pytest.mark.django_db


# --- the pure function, by hand ------------------------------------------------------------


def village(name, grade, top=False, president="会长甲", leaders=()):
    return pay.Village("一镇", name, grade, top, president, list(leaders))


def test_pay_of_a_year_by_hand():
    """50 元 × 12 = 600 for a president, 10 × 12 = 120 for a leader. 一流 100 %, 合格 80 %,
    不合格 0, ungraded 0; a top-three village's people get the 200 元 bonus each."""
    terms = pay.Terms(D("50"), D("10"), D("80"), D("200"))
    lines = pay.pay_lines(
        [
            village("一流村", Grade.FIRST_CLASS, top=True, leaders=[("一组", "组长甲")]),
            village("合格村", Grade.QUALIFIED, leaders=[("一组", "组长乙"), ("二组", "组长丙")]),
            village("不合格村", Grade.UNQUALIFIED, leaders=[("一组", "组长丁")]),
            village("未评村", "", president=None),
        ],
        terms,
        pay.months_held("2026"),
    )
    got = [(x.village, x.role, x.name, x.months, x.held, x.share, x.paid, x.bonus) for x in lines]
    assert got == [
        ("一流村", "会长", "会长甲", 12, D("600.00"), D(100), D("600.00"), D("200.00")),
        ("一流村", "会员小组长", "组长甲", 12, D("120.00"), D(100), D("120.00"), D("200.00")),
        ("合格村", "会长", "会长甲", 12, D("600.00"), D(80), D("480.00"), D("0.00")),
        ("合格村", "会员小组长", "组长乙", 12, D("120.00"), D(80), D("96.00"), D("0.00")),
        ("合格村", "会员小组长", "组长丙", 12, D("120.00"), D(80), D("96.00"), D("0.00")),
        ("不合格村", "会长", "会长甲", 12, D("600.00"), D(0), D("0.00"), D("0.00")),
        ("不合格村", "会员小组长", "组长丁", 12, D("120.00"), D(0), D("0.00"), D("0.00")),
    ]  # the ungraded village has no president registered: no line
    assert lines[0].total == D("800.00")
    assert not pay.is_estimate("2026") and pay.is_estimate("2026-Q1")


def test_quarter_estimate_and_rounding():
    """A quarter: 3 months, 50 × 3 = 150 → 合格 80 % 120.00; a share of 33.33 % on a leader's
    30: 9.999 → 10.00 (half up); a president's 150 × 33.33 % = 49.995 → 50.00."""
    assert pay.months_held("2026-Q1") == 3 and pay.months_held("2026-H2") == 6
    lines = pay.pay_lines(
        [village("合格村", Grade.QUALIFIED, leaders=[("一组", "组长")])],
        pay.Terms(D("50"), D("10"), D("80"), D("0")),
        3,
    )
    assert [x.paid for x in lines] == [D("120.00"), D("24.00")]
    lines = pay.pay_lines(
        [village("合格村", Grade.QUALIFIED, leaders=[("一组", "组长")])],
        pay.Terms(D("50"), D("10"), D("33.33"), D("0")),
        3,
    )
    assert [x.paid for x in lines] == [D("50.00"), D("10.00")]


# --- the version's terms -------------------------------------------------------------------


def test_terms_edited_on_a_draft_copied_and_frozen_in_use(client, world):
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        draft = a.schemes[0].versions.get()
        assert (draft.qualified_pay_share, draft.commendation_bonus) == (D(80), D(0))
    client.force_login(admin)
    edit = reverse("scheme-version-edit", args=[draft.pk])
    fields = {
        "first_class_min": "90",
        "qualified_min": "70",
        "president_pay_held": "50",
        "leader_pay_held": "10",
        "note": "",
    }
    bad = client.post(edit, {**fields, "qualified_pay_share": "120", "commendation_bonus": "0"})
    assert bad.status_code == 400 and "100" in bad.content.decode()
    ok = client.post(edit, {**fields, "qualified_pay_share": "75", "commendation_bonus": "200"})
    assert ok.status_code == 302
    page = client.get(reverse("scheme-version", args=[draft.pk])).content.decode()
    assert "合格村协会 75.00%" in page and "每人 200.00 元" in page
    in_use = a.periods[0].version
    with a.scope():
        copy = services.scheme_new_version(actor=admin, version=in_use)
        assert copy.qualified_pay_share == in_use.qualified_pay_share
        # a version in use refuses a change of its pay terms (the trigger of migration 0002
        # compares the whole row)
        with pytest.raises(IntegrityError), transaction.atomic():
            SchemeVersion.objects.filter(pk=in_use.pk).update(qualified_pay_share=50)
        with pytest.raises(IntegrityError), transaction.atomic():
            SchemeVersion.objects.filter(pk=in_use.pk).update(commendation_bonus=1)


# --- the run's sheets ------------------------------------------------------------------------


@pytest.fixture
def pay_run(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    admin = a.users["county_admin"]
    g0, g1 = a.groups[0], a.groups[1]
    with a.scope():
        member_services.group_role_assign(
            actor=admin, member=a.members[0], role="leader", starts_on=datetime.date(2026, 1, 1)
        )
        all_ten = {key: True for key in group_ratings.KEYS}
        group_ratings.ratings_save(
            actor=a.users["township_staff"],
            village=a.villages[0],
            period=a.periods[0],
            ratings={g0.pk: all_ten, g1.pk: {}},
        )
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        run.refresh_from_db()
    assert run.state == "done"
    return a, run


def test_pay_of_the_run(pay_run):
    a, run = pay_run
    with a.scope():
        lines = pay.run_pay(run)
    v0, v1, v2, v3 = (v.name for v in a.villages)
    got = [(x.village, x.role, x.held, x.grade, x.paid) for x in lines]
    assert got == [
        (v0, "会长", D("150.00"), "first_class", D("150.00")),
        (v0, "会员小组长", D("30.00"), "first_class", D("30.00")),
        (v1, "会长", D("150.00"), "unqualified", D("0.00")),
        (v2, "会长", D("150.00"), "qualified", D("120.00")),
        (v3, "会长", D("150.00"), "unqualified", D("0.00")),
    ]
    assert lines[0].name == f"{v0}会长" and lines[1].name == a.persons[0].name


def test_pay_names_the_post_holders_the_run_recorded(pay_run):
    """The run stores who held the posts at the period's end; renaming the leader or the
    president afterwards changes nothing on a built run's pay sheet."""
    a, run = pay_run
    leader = a.persons[0]
    with a.scope():
        before = [(x.village, x.role, x.name) for x in pay.run_pay(run)]
        Person.objects.filter(pk=leader.pk).update(name="改名后组长")
        CouncilSeat.objects.filter(
            council__association=a.villages[0], position=CouncilPosition.PRESIDENT
        ).update(person_name="新任会长")
        after = [(x.village, x.role, x.name) for x in pay.run_pay(run)]
    assert after == before
    assert (a.villages[0].name, "会员小组长", leader.name) in after


def test_a_run_built_before_posts_were_recorded_reads_them_live(pay_run):
    a, run = pay_run
    period = parse_period(run.period_key)
    with a.scope():
        villages = list(SnapshotNode.objects.filter(run=run, level=Level.VILLAGE))
        for village in villages:
            village.figures.pop("posts")
        CouncilSeat.objects.filter(
            council__association=a.villages[0], position=CouncilPosition.PRESIDENT
        ).update(person_name="新任会长")
        posts = pay._recorded_posts(run, villages, period)
    assert posts[a.villages[0].pk]["president"] == "新任会长"
    assert posts[a.villages[0].pk]["leaders"] == [[a.groups[0].name, a.persons[0].name]]


def sheet_of(client, user, name, pk):
    client.force_login(user)
    return client.get(reverse(name, args=[pk]))


def values(ws):
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def test_groups_sheet_reads_back_and_prints(client, pay_run, tmp_path):
    a, run = pay_run
    response = sheet_of(client, a.users["county_admin"], "report-run-groups-sheet", run.pk)
    assert response.status_code == 200 and "groups" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(response.content))["五好五有小组"]
    assert ws["A1"].value == f"{a.county.name}2026年第一季度五好/五有小组及表彰名单"
    assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$4" and ws.freeze_panes == "D5"
    assert "&P" in ws.oddFooter.center.text
    rows = values(ws)
    assert rows[2][3] == "五好标准" and rows[3][3] == "带头作用好" and rows[3][12] == "有文体器材"
    g0, g1 = a.groups[0].name, a.groups[1].name
    by_group = {r[2]: r for r in rows if r[2] in (g0, g1, a.groups[2].name)}
    assert list(by_group[g0][3:15]) == ["✓"] * 10 + ["五好", "五有"]
    assert list(by_group[g1][3:15]) == [None] * 12
    assert by_group[a.groups[2].name][13] == "未评定"
    v0_total = next(r for r in rows if r[1] == f"{a.villages[0].name} 小计")
    assert v0_total[2] == "2个小组" and list(v0_total[3:15]) == [1] * 12
    t0_total = next(r for r in rows if r[0] == f"{a.townships[0].name} 小计")
    assert t0_total[1] == "2个村" and t0_total[2] == "4个小组" and t0_total[13:15] == (1, 1)
    total = next(r for r in rows if r[0] == "合计")
    assert total[1] == "4个村" and total[2] == "8个小组" and total[13:15] == (1, 1)
    texts = [r[0] for r in rows if r[0]]
    assert "表彰名单(全县前三名)" in texts
    first = next(t for t in texts if t.startswith("第1名"))
    assert a.villages[0].name in first and "50.00" in first and "一流" in first
    assert sum(1 for t in texts if t.startswith("第3名")) == 2  # v1 and v3 tie for third

    printed = print_to_pdf(response.content, tmp_path, "groups.xlsx")
    # fitted to the width; 8 groups, 7 subtotal rows, the list and the remarks take 2 pages,
    # the title and the header repeated on the second
    assert printed.is_a4_landscape and printed.pages == 2
    compact = printed.compact
    assert compact.count("五好/五有小组及表彰名单") == 2 and compact.count("五有标准") == 2
    assert a.groups[7].name in compact and "第1页共2页" in compact and "第2页共2页" in compact
    (tmp_path.parent / "groups_sheet.xlsx").write_bytes(response.content)


def test_pay_sheet_reads_back_and_prints(client, pay_run, tmp_path):
    a, run = pay_run
    response = sheet_of(client, a.users["county_admin"], "report-run-pay-sheet", run.pk)
    assert response.status_code == 200 and "pay" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(response.content))["绩效工资发放表"]
    assert ws["A1"].value == (
        f"{a.county.name}2026年第一季度村级会长、会员小组长绩效工资发放表(预估)"
    )
    assert ws.print_title_rows == "$1:$4" and ws.freeze_panes == "F5"
    rows = values(ws)
    assert rows[3][:6] == ("乡镇(街道)", "村(社区)", "职务", "会员小组", "姓名", "月数")
    v0 = a.villages[0].name
    leader = next(r for r in rows if r[2] == "会员小组长")
    assert leader[1] == v0 and leader[3] == a.groups[0].name and leader[5] == 3
    assert leader[6:12] == (30, "一流", 100, 30, 0, 30)
    t0 = next(r for r in rows if r[0] == f"{a.townships[0].name} 小计")
    assert t0[1:3] == ("2个村", "3人") and (t0[6], t0[9], t0[11]) == (330, 180, 180)
    t1 = next(r for r in rows if r[0] == f"{a.townships[1].name} 小计")
    assert (t1[6], t1[9]) == (300, 120)
    total = next(r for r in rows if r[0] == "合计")
    assert total[1:3] == ("4个村", "5人") and (total[6], total[9], total[10]) == (630, 300, 0)
    notes = [r[0] for r in rows if r[0]]
    assert any("随所在村协会的考核等级" in n for n in notes)
    assert any("预估" in n for n in notes)

    (tmp_path.parent / "pay_sheet.xlsx").write_bytes(response.content)
    printed = print_to_pdf(response.content, tmp_path, "pay.xlsx")
    assert printed.is_a4_landscape and printed.pages == 1
    compact = printed.compact
    assert "绩效工资发放表" in compact and "630.00" in compact and "第1页共1页" in compact


def test_sheets_for_county_accounts_only(client, pay_run, world):
    a, run = pay_run
    for name in ("report-run-groups-sheet", "report-run-pay-sheet"):
        assert sheet_of(client, a.users["county_viewer"], name, run.pk).status_code == 200
        for role in ("township_staff", "village_secretary", "group_leader"):
            assert sheet_of(client, a.users[role], name, run.pk).status_code == 404
        assert sheet_of(client, world.b.users["county_admin"], name, run.pk).status_code == 404


def test_run_page_links_the_sheets(client, pay_run):
    a, run = pay_run
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    assert reverse("report-run-groups-sheet", args=[run.pk]) in page
    assert reverse("report-run-pay-sheet", args=[run.pk]) in page
