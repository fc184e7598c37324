"""Target against achieved on sheet 1 (reports.sheet_targets) for the hand-worked run of
test_runs.py (county A, 2026 Q1: v0 一流, v1 不合格 in t0; v2 合格, v3 不合格 in t1).

Targets for 2026, set here: the county gives t0 一流 1, 合格 1, 五好 2 and t1 一流 1, 合格 2
(五有 given to nobody); t0 splits 一流 to v0, 合格 to v1 and one 五好 group to v0.
By hand (target / achieved / 差额):
          一流          合格           五好            五有
  t0      1 / 1 /  0    1 / 0 / -1     2 / — / ·       未下达 / — / ·
  t1      1 / 0 / -1    2 / 1 / -1     未下达 / — / ·  未下达 / — / ·
  合计     2 / 1 / -1    3 / 1 / -2     2 / — / ·       未下达 / — / ·
With the snapshot's t0 row counting one 五好 group (figures["group_ratings"]), t0's 五好 reads
2 / 1 / -1. The villages' 争创目标: v0 "一流 五好1", v1 "合格", v2 and v3 blank."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from reports.models import SnapshotNode
from tests.libreoffice import print_to_pdf

from .test_runs import build, hand, published_run  # noqa: F401  (hand: the hand-worked world, a fixture)
from .test_targets import county_sets, township_splits

pytestmark = pytest.mark.django_db


@pytest.fixture
def target_run(hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    county_sets(
        a,
        t0={"first_class": 1, "qualified": 1, "five_good": 2},
        t1={"first_class": 1, "qualified": 2},
    )
    v0, v1 = a.villages[0], a.villages[1]
    township_splits(a, {v0.pk: {"first_class": 1, "five_good": 1}, v1.pk: {"qualified": 1}})
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    with a.scope():
        run.refresh_from_db()
    assert run.state == "done"
    return a, run


def sheet(client, a, run):
    client.force_login(a.users["county_admin"])
    response = client.get(reverse("report-run-sheet", args=[run.pk]))
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.content))


def table(ws, rows: int) -> list[list]:
    return [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=4 + rows, max_col=13)]


def test_targets_against_achieved(client, target_run):
    a, run = target_run
    book = sheet(client, a, run)
    assert book.sheetnames == ["村级考核表", "指标完成情况"]
    ws = book["指标完成情况"]
    assert ws["A1"].value == f"{a.county.name}2026年第一季度村级计生协考核表指标完成情况(2026年度)"
    assert [ws.cell(3, c).value for c in (1, 2, 5, 8, 11)] == [
        "乡镇(街道)", "一流村协会", "合格村协会", "五好小组", "五有小组"
    ]  # fmt: skip
    assert [ws.cell(4, c).value for c in range(2, 5)] == ["目标", "完成", "差额"]
    assert {"B3:D3", "K3:M3", "A3:A4"} <= {str(r) for r in ws.merged_cells.ranges}
    t0, t1 = a.townships[0].name, a.townships[1].name
    assert table(ws, 3) == [
        # no group of this world is rated: 0 五好 / 五有 groups achieved (a count, not "—")
        [t0, 1, 1, 0, 1, 0, -1, 2, 0, -2, "未下达", 0, None],
        [t1, 1, 0, -1, 2, 1, -1, "未下达", 0, None, "未下达", 0, None],
        ["合计", 2, 1, -1, 3, 1, -2, 2, 0, -2, "未下达", 0, None],
    ]
    assert ws.cell(7, 1).font.b  # the 合计 row
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$4"
    # each village's 争创目标, at the right of the assessment table; blank on 小计 rows
    main = book["村级考核表"]
    assert main.cell(3, 14).value == "争创目标"
    assert [main.cell(r, 14).value for r in range(5, 12)] == [
        "一流 五好1", "合格", None, None, None, None, None
    ]  # fmt: skip


def test_group_counts_come_from_the_snapshot_when_it_has_them(client, target_run):
    a, run = target_run
    with a.scope():  # an unpublished run's rows may still change (as a later build would)
        row = SnapshotNode.objects.get(run=run, node_id_at=a.townships[0].pk)
        row.figures = {**row.figures, "group_ratings": {"five_good": 1}}
        row.save(update_fields=["figures"])
    ws = sheet(client, a, run)["指标完成情况"]
    assert table(ws, 1)[0][7:10] == [2, 1, -1]


def test_no_targets_split_no_column(client, hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    county_sets(a, t0={"first_class": 2})  # nothing given to the villages
    with django_capture_on_commit_callbacks(execute=True):
        run = build(a, version)
    book = sheet(client, a, run)
    assert book["村级考核表"].max_column == 13  # no 争创目标 column
    assert table(book["指标完成情况"], 1)[0][:4] == [a.townships[0].name, 2, 1, -1]


def test_the_targets_print(client, target_run, tmp_path):
    a, run = target_run
    client.force_login(a.users["county_admin"])
    response = client.get(reverse("report-run-sheet", args=[run.pk]))
    printed = print_to_pdf(response.content, tmp_path, "assessment.xlsx")
    assert printed.is_a4_landscape and printed.pages == 2
    compact = printed.compact
    for text in ("争创目标", "一流五好1", "指标完成情况", "未下达", "五好小组", "第2页共2页"):
        assert text in compact, text


def test_the_targets_page_links_the_sheet(client, hand, django_capture_on_commit_callbacks):  # noqa: F811
    a, version = hand
    run = published_run(a, version, django_capture_on_commit_callbacks)  # 2026-H1, the latest
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("node-targets", args=[a.county.pk]), {"year": 2026})
    assert reverse("report-run-sheet", args=[run.pk]) in page.content.decode()
    staff = a.users["township_staff"]
    client.force_login(staff)
    township = a.townships[0]
    page = client.get(reverse("node-targets", args=[township.pk]), {"year": 2026})
    link = reverse("report-township-sheet", args=[township.pk]) + f"?run={run.pk}"
    assert link in page.content.decode()
