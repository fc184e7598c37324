"""Sheet 3 (活动统计表) of a run, read from its snapshot: the hand-worked run of test_runs.py
(county A, 2026 Q1) with three more activities, read back with openpyxl and printed through
LibreOffice.

Activities of 2026 Q1 (test_runs.py's and the three below; the world has nothing else then):
  v0 = t0v0: 会议 Feb 10 (理事会), 会议 Mar 3 (会员代表大会); its group g0: 宣传 Jan 12, Feb 12,
             Mar 12 (no theme, no people entered)
  v2 = t1v0: 会议 Mar 5 (会员代表大会); 宣传 Mar 8: theme 关爱女孩, themed day 3.8 妇女节,
             参加 40, 咨询 12, 宣传资料 100 份, 横幅 2 幅                        (added here)
  t0 itself: 培训 Feb 20: theme 婚育新风进万家, 参加 30, 培训 25                  (added here)
  v3 = t1v1: 服务 Apr 2 (next quarter: not counted)                              (added here)
By hand (宣传 会议 培训 服务 志愿服务 | 合计 | 参加 咨询 培训人数 | 婚育新风 关爱女孩 … 未设主题):
  v0        3 2 0 0 0 | 5 |  0  0  0 | 0 0 | 未设 5
  v1        0 …       | 0
  t0 乡镇本级 0 0 1 0 0 | 1 | 30  0 25 | 1 0 | 未设 0
  t0 小计    3 2 1 0 0 | 6 | 30  0 25 | 1 0 | 未设 5
  v2        1 1 0 0 0 | 2 | 40 12  0 | 0 1 | 未设 1 | 宣传资料 100, 横幅 2 | 妇女节 1
  v3        0 …       | 0
  t1 小计    1 1 0 0 0 | 2 | 40 12  0 | 0 1 | 未设 1 | 宣传资料 100, 横幅 2 | 妇女节 1
  合计       4 3 1 0 0 | 8 | 70 12 25 | 1 1 | 未设 6 | 宣传资料 100, 横幅 2 | 妇女节 1"""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from activities import catalogues
from activities import services as activity_services
from activities.models import Theme
from tests.libreoffice import print_to_pdf

from .test_runs import build, hand, rows  # noqa: F401  (hand: the hand-worked world, a fixture)

pytestmark = pytest.mark.django_db

THEMES = ["婚育新风进万家", "关爱女孩", "青春健康", "预防艾滋病", "幸福家庭", "红五月", "生育关怀"]
MATERIALS = ["宣传资料\n(份)", "避孕药具\n(盒)", "避孕药具\n(只)", "横幅\n(幅)", "展板\n(块)"]
MATERIALS += ["宣传品\n(个)"]


@pytest.fixture
def stats_run(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    admin = a.users["county_admin"]
    with a.scope():
        themes = {t.name: t for t in catalogues.themes(county_id=a.county.pk)}
        days = {d.name: d for d in catalogues.themed_days(county_id=a.county.pk)}
        materials = {m.unit: m for m in catalogues.materials(county_id=a.county.pk)}
        create = activity_services.activity_create
        create(
            actor=admin,
            association=a.villages[2],
            kind="publicity",
            date=datetime.date(2026, 3, 8),
            theme=themes["关爱女孩"],
            themed_day=days["妇女节"],
            participants=40,
            consultations=12,
            materials={materials["份"]: 100, materials["幅"]: 2},
        )
        create(
            actor=admin,
            association=a.townships[0],
            kind="training",
            date=datetime.date(2026, 2, 20),
            theme=themes["婚育新风进万家"],
            participants=30,
            trainees=25,
        )
        create(
            actor=admin,
            association=a.villages[3],
            kind="service",
            date=datetime.date(2026, 4, 2),
            service_type="free_clinic",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        run.refresh_from_db()
    assert run.state == "done"
    return a, run


def download(client, user, pk):
    client.force_login(user)
    return client.get(reverse("report-run-activities", args=[pk]))


def test_the_snapshot_keeps_the_activity_statistics(stats_run):
    a, run = stats_run
    snap = rows(a, run)
    v0, v1, v2, v3 = (snap[v.pk].activity_figures for v in a.villages)
    assert v0["kinds"] == {
        "publicity": 3,
        "meeting": 2,
        "training": 0,
        "service": 0,
        "volunteer": 0,
    }
    assert (v0["activities"], v0["themes"], v0["materials"]) == (5, {"none": 5}, {})
    assert v1["activities"] == 0 and v3["activities"] == 0  # v3's April service is not counted
    assert (v2["activities"], v2["participants"], v2["consultations"]) == (2, 40, 12)
    with a.scope():
        theme = Theme.objects.get(county_id=a.county.pk, name="关爱女孩")
    assert v2["themes"] == {str(theme.pk): 1, "none": 1}
    assert sorted(v2["materials"].values()) == [2, 100] and len(v2["themed_days"]) == 1
    t0 = snap[a.townships[0].pk].activity_figures
    assert (t0["own"]["activities"], t0["own"]["trainees"]) == (1, 25)
    assert (t0["total"]["activities"], t0["total"]["participants"]) == (6, 30)
    county = snap[a.county.pk].activity_figures
    assert (county["total"]["activities"], county["total"]["participants"]) == (8, 70)
    assert county["own"]["activities"] == 0
    assert [name for _pk, name in county["catalogue"]["themes"]] == THEMES


def test_the_sheet_reads_back(client, stats_run):
    a, run = stats_run
    # a theme renamed after the run: the sheet keeps the name the snapshot recorded
    with a.scope():
        Theme.objects.filter(county_id=a.county.pk, name="关爱女孩").update(name="关爱女孩行动")
    response = download(client, a.users["county_admin"], run.pk)
    assert response.status_code == 200
    assert "activity_stats" in response["Content-Disposition"]  # the ASCII fallback name
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["活动统计表", "主题日活动"]
    ws = book["活动统计表"]
    assert ws["A1"].value == f"{a.county.name}2026年第一季度计生协活动统计表"
    assert ws["A2"].value.startswith("统计期:2026-01-01 至 2026-03-31")
    # the two-row header: groups merged over their columns
    assert [ws.cell(3, c).value for c in (1, 2, 3, 9, 12, 20)] == [
        "乡镇(街道)", "村(社区)", "活动次数", "参与", "活动主题(次数)", "发放资料"
    ]  # fmt: skip
    assert [ws.cell(4, c).value for c in range(3, 12)] == [
        "宣传", "会议", "培训", "服务", "志愿服务", "合计", "参加人数", "咨询人次", "培训人数"
    ]  # fmt: skip
    assert [ws.cell(4, c).value for c in range(12, 20)] == [*THEMES, "未设主题"]
    assert [ws.cell(4, c).value for c in range(20, 26)] == MATERIALS
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"C3:H3", "I3:K3", "L3:S3", "T3:Y3", "A3:A4", "B3:B4"} <= merged
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=12, max_col=25)]
    t0, t1 = a.townships[0].name, a.townships[1].name
    v0, v1, v2, v3 = a.villages
    assert [r[:2] for r in body] == [
        [t0, v0.name], [t0, v1.name], [t0, "乡镇本级"], [f"{t0} 小计", "2个村"],
        [t1, v2.name], [t1, v3.name], [f"{t1} 小计", "2个村"], ["合计", None],
    ]  # fmt: skip
    z7 = [0] * 7
    #          kinds            合计 参加 咨询 培训 | themes (7)        未设 | materials (6)
    assert body[0][2:] == [3, 2, 0, 0, 0, 5, 0, 0, 0, *z7, 5, 0, 0, 0, 0, 0, 0]
    assert body[1][2:] == [0, 0, 0, 0, 0, 0, 0, 0, 0, *z7, 0, 0, 0, 0, 0, 0, 0]
    assert body[2][2:] == [0, 0, 1, 0, 0, 1, 30, 0, 25, 1, 0, 0, 0, 0, 0, 0, 0, *[0] * 6]
    assert body[3][2:] == [3, 2, 1, 0, 0, 6, 30, 0, 25, 1, 0, 0, 0, 0, 0, 0, 5, *[0] * 6]
    assert body[4][2:] == [1, 1, 0, 0, 0, 2, 40, 12, 0, 0, 1, 0, 0, 0, 0, 0, 1, 100, 0, 0, 2, 0, 0]
    assert body[6][2:] == body[4][2:]  # t1's 小计: v2 alone (v3's service is in Q2)
    assert body[7][2:] == [4, 3, 1, 0, 0, 8, 70, 12, 25, 1, 1, 0, 0, 0, 0, 0, 6, 100, 0, 0, 2, 0, 0]
    assert ws.cell(12, 1).font.b and not ws.cell(5, 1).font.b
    # print setup: A4 landscape, one page wide, header repeated, frozen panes, page numbers
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4"
    assert ws.freeze_panes == "C5"
    assert "&P" in ws.oddFooter.center.text
    # the themed days: a column per day of the calendar, 妇女节 (3.8) first
    days = book["主题日活动"]
    assert days.cell(4, 3).value == "3.8 妇女节"
    assert [days.cell(r, 3).value for r in range(5, 13)] == [0, 0, 0, 0, 1, 0, 1, 1]


def test_the_sheet_prints_with_chinese(client, stats_run, tmp_path):
    a, run = stats_run
    response = download(client, a.users["county_admin"], run.pk)
    printed = print_to_pdf(response.content, tmp_path, "activities.xlsx")
    assert printed.is_a4_landscape
    compact = printed.compact
    assert f"{a.county.name}2026年第一季度计生协活动统计表" in compact
    for name in ("活动次数", "关爱女孩", "乡镇本级", "小计", "合计", "宣传资料"):
        assert name in compact, name
    assert "第1页" in compact
    assert "3.8妇女节" in compact  # the second sheet prints too


def test_access_is_the_run_sheets(client, stats_run, world):
    a, run = stats_run
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("report-run", args=[run.pk]), follow=True)
    assert reverse("report-run-activities", args=[run.pk]) in page.content.decode()
    assert download(client, a.users["township_staff"], run.pk).status_code == 404
    assert download(client, world.b.users["county_admin"], run.pk).status_code == 404
    assert download(client, a.users["county_admin"], run.pk + 10_000).status_code == 404


def test_a_run_not_done_has_no_activity_sheet(client, hand):  # noqa: F811
    a, version = hand
    run = build(a, version)  # queued: the on-commit worker never runs
    assert download(client, a.users["county_admin"], run.pk).status_code == 404
