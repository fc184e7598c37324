"""The assessment table per village (reports.sheets) on the hand-worked run of test_runs.py
(county A, 2026 Q1), read back with openpyxl and printed through LibreOffice.

Villages (from test_runs.py's docstring), indicator scores council / congress / archives:
  t0: v0 30 + 20 + 0 = 50 一流村协会, ranks 1 / 1;  v1 0 + 0 + 0 = 0 不合格, ranks 2 / 3
  t1: v2  0 + 20 + 0 = 20 合格村协会, ranks 1 / 2;  v3 0 + 0 + 0 = 0 不合格, ranks 2 / 3
All four are in the county's top three (v1 and v3 tie for third).
Subtotals by hand (average scores, average total, grade counts, top-three count):
  t0 小计: 2个村  15.00 10.00 0.00  25.00  一流1 合格0 不合格1  2
  t1 小计: 2个村   0.00 10.00 0.00  10.00  一流0 合格1 不合格1  2
  合计:    4个村   7.50 10.00 0.00  17.50  一流1 合格1 不合格2  4"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.libreoffice import print_to_pdf

from .test_runs import build, hand, published_run, rows  # noqa: F401  (hand: the hand-worked world, a fixture)

pytestmark = pytest.mark.django_db

KEYS = ["council_quarterly", "congress_held", "archives"]


@pytest.fixture
def done_run(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        run.refresh_from_db()
    assert run.state == "done"
    return a, run


def download(client, user, name, pk, **params):
    client.force_login(user)
    return client.get(reverse(name, args=[pk]), params)


def number(text):
    return None if text is None else float(text)


def test_the_county_sheet_reads_back(client, done_run):
    a, run = done_run
    response = download(client, a.users["county_admin"], "report-run-sheet", run.pk)
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert "assessment" in response["Content-Disposition"]  # the ASCII fallback name
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["村级考核表", "指标完成情况"]
    ws = book["村级考核表"]
    assert ws["A1"].value == f"{a.county.name}2026年第一季度村级计生协考核表"
    assert ws["A2"].value.startswith("统计期:2026-01-01 至 2026-03-31")
    with a.scope():
        version = str(run.version)
    assert f"考核细则:{version}" in ws["A2"].value
    assert ws["G2"].value.startswith("第1次生成(未发布)")  # the line's right half
    # the header: the three village indicators (group_activity_months is a group's) as the
    # snapshot recorded them, each name merged over 值 / 得分
    snap = rows(a, run)
    columns = snap[a.county.pk].figures["columns"]
    assert [c["key"] for c in columns] == KEYS
    assert [ws.cell(3, c).value for c in (1, 2, 3, 5, 7, 9, 10, 11, 12, 13)] == [
        "乡镇(街道)", "村(社区)", *(c["name"] for c in columns),
        "总分", "等级", "乡镇排名", "全县排名", "全县前三",
    ]  # fmt: skip
    assert all(ws.cell(3, c).value for c in (3, 5, 7))  # no indicator without a name
    assert [ws.cell(4, c).value for c in range(3, 9)] == ["值", "得分"] * 3
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:M1", "C3:D3", "E3:F3", "G3:H3"} <= merged
    assert {f"{col}3:{col}4" for col in "ABIJKLM"} <= merged
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=11, max_col=13)]
    t0, t1 = a.townships[0].name, a.townships[1].name
    v0, v1, v2, v3 = a.villages
    assert [r[:2] for r in body] == [
        [t0, v0.name], [t0, v1.name], [f"{t0} 小计", "2个村"],
        [t1, v2.name], [t1, v3.name], [f"{t1} 小计", "2个村"],
        ["合计", "4个村"],
    ]  # fmt: skip
    # each village's row is its snapshot row
    for line, village in zip([body[0], body[1], body[3], body[4]], a.villages, strict=True):
        row = snap[village.pk]
        cells = []
        for key in KEYS:
            cells += [number(row.indicators[key]["value"]), number(row.indicators[key]["score"])]
        assert line[2:8] == cells
        assert line[8:] == [
            float(row.total),
            row.get_grade_display(),
            row.rank_in_township,
            row.rank_in_county,
            "是" if row.top_three else None,
        ]
    # and the hand-worked figures
    assert [r[3] for r in (body[0], body[1], body[3], body[4])] == [30, 0, 0, 0]  # council
    assert [r[5] for r in (body[0], body[1], body[3], body[4])] == [20, 0, 20, 0]  # congress
    assert body[0][6] is None and body[0][7] == 0  # archives: 未评分, no value, 0 points
    assert [r[8:] for r in (body[0], body[1], body[3], body[4])] == [
        [50, "一流村协会", 1, 1, "是"],
        [0, "不合格", 2, 3, "是"],
        [20, "合格村协会", 1, 2, "是"],
        [0, "不合格", 2, 3, "是"],
    ]
    # subtotals and total, by hand
    assert body[2][2:] == [None, 15, None, 10, None, 0, 25, "一流1 合格0 不合格1", None, None, 2]
    assert body[5][2:] == [None, 0, None, 10, None, 0, 10, "一流0 合格1 不合格1", None, None, 2]
    assert body[6][2:] == [None, 7.5, None, 10, None, 0, 17.5, "一流1 合格1 不合格2", None, None, 4]
    assert ws.cell(11, 1).font.b and not ws.cell(5, 1).font.b  # the total rows are bold
    assert ws.cell(5, 4).number_format == "0.00" and ws.cell(5, 9).number_format == "0.00"
    assert ws.cell(13, 1).value == "说明"
    # print setup: A4 landscape, one page wide, header repeated, frozen panes, page numbers
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4"
    assert ws.freeze_panes == "C5"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_the_sheet_prints_on_a4_landscape(client, done_run, tmp_path):
    a, run = done_run
    response = download(client, a.users["county_admin"], "report-run-sheet", run.pk)
    printed = print_to_pdf(response.content, tmp_path, "assessment.xlsx")
    assert printed.is_a4_landscape
    assert printed.pages == 2  # the table, then 指标完成情况 (target against achieved)
    compact = printed.compact
    assert f"{a.county.name}2026年第一季度村级计生协考核表" in compact
    for village in a.villages:
        assert village.name in compact
    assert "小计" in compact and "合计" in compact and "一流1合格1不合格2" in compact
    assert "17.50" in compact and "第1页共2页" in compact


def test_the_run_page_links_the_sheet_and_other_runs_are_hidden(client, done_run, world):
    a, run = done_run
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("report-run", args=[run.pk]), follow=True)
    assert reverse("report-run-sheet", args=[run.pk]) in page.content.decode()
    # a township account does not see the county's run, nor another county's admin
    assert download(client, a.users["township_staff"], "report-run-sheet", run.pk).status_code == (
        404
    )
    other = world.b.users["county_admin"]
    assert download(client, other, "report-run-sheet", run.pk).status_code == 404


def test_a_run_not_done_has_no_sheet(client, hand):  # noqa: F811
    a, version = hand
    run = build(a, version)  # queued: the on-commit worker never runs
    response = download(client, a.users["county_admin"], "report-run-sheet", run.pk)
    assert response.status_code == 404


def test_the_townships_own_sheet(client, done_run, django_capture_on_commit_callbacks):
    a, run = done_run
    staff = a.users["township_staff"]
    township = a.townships[0]
    # the unpublished run: the township sees nothing of it
    response = download(client, staff, "report-township-sheet", township.pk, run=run.pk)
    assert response.status_code == 404
    # the world has a published 2026-Q1 already: publish a 2026-H1 run (the same records)
    with a.scope():
        version = run.version
    run = published_run(a, version, django_capture_on_commit_callbacks)
    page = download(client, staff, "report-run-list", township.pk, run=run.pk)
    link = reverse("report-township-sheet", args=[township.pk]) + f"?run={run.pk}"
    assert link in page.content.decode()
    response = download(client, staff, "report-township-sheet", township.pk, run=run.pk)
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value == f"{a.county.name}2026年上半年村级计生协考核表"
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=8, max_col=13)]
    assert [r[:2] for r in body] == [
        [township.name, a.villages[0].name],
        [township.name, a.villages[1].name],
        [f"{township.name} 小计", "2个村"],
        [None, None],  # the blank line before the remarks: no 合计 on a township's sheet
    ]
    # H1 by hand: one 理事会 in two quarters misses council_quarterly (50% < 100%), so
    # v0 20 合格 and v2 20 tie first in the county; v1, v3 0 tie third
    assert body[0][8:] == [20, "合格村协会", 1, 1, "是"]
    assert body[1][8:] == [0, "不合格", 2, 3, "是"]  # the county rank stays the county's
    assert body[2][2:] == [None, 0, None, 10, None, 0, 10, "一流0 合格1 不合格1", None, None, 2]
    # the sibling township's page and a bad run are 404
    sibling = a.townships[1]
    assert download(client, staff, "report-township-sheet", sibling.pk).status_code == 404
    for bad in ("x", "999999"):
        response = download(client, staff, "report-township-sheet", township.pk, run=bad)
        assert response.status_code == 404
    # the village level has no such sheet
    response = download(client, staff, "report-township-sheet", a.villages[0].pk)
    assert response.status_code == 404
