"""The period's population and member figures in a run's snapshot, and sheet 2 (人口与会员统计
表) read from it: figures worked out by hand in conftest.population_world."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from associations import services as association_services
from households import services as household_services
from households.figures import TABLE_COLUMNS
from reports.models import SnapshotNode
from tests.libreoffice import print_to_pdf
from tests.reports.conftest import build_run
from tests.reports.test_runs import app_role_cursor

pytestmark = pytest.mark.django_db


def snapshot(a, run) -> dict[int, SnapshotNode]:
    with a.scope():
        return {r.node_id_at: r for r in SnapshotNode.objects.filter(run=run)}


def test_the_snapshot_keeps_the_periods_figures(
    population_world, django_capture_on_commit_callbacks
):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    snap = snapshot(a, run)
    v0, v1, v2, v3 = (snap[v.pk].population_figures for v in a.villages)
    t0, t1 = (snap[t.pk].population_figures for t in a.townships)
    county = snap[a.county.pk].population_figures
    # every column of the figures table is stored, and the members who joined
    assert {c.key for c in TABLE_COLUMNS} | {"members_joined"} == set(county)
    # v0: 4 alive, a son born 02-10, his mother's second child
    assert (v0["registered"], v0["births"], v0["births_male"], v0["births_order_2"]) == (4, 1, 1, 1)
    assert (v0["sex_ratio"], v0["sex_ratio_per_100"]) == ("—", None)  # no girls
    # v1: the inflow woman: 户籍 2, 常住 3, women 2 (1 floating), both married
    assert (v1["hukou_population"], v1["resident_population"], v1["inflow"]) == (2, 3, 1)
    assert (v1["women_15_49"], v1["women_15_49_floating"], v1["married_women_15_49"]) == (2, 1, 2)
    # v2: a daughter, 一孩; the spouse joined on 02-01
    assert (v2["births_female"], v2["births_order_1"], v2["members_joined"]) == (1, 1, 1)
    assert v2["sex_ratio"] == "0:1"
    assert (v3["deaths"], v3["deaths_male"], v3["resident_population"]) == (1, 1, 2)
    assert (t0["resident_population"], t0["hukou_population"], t0["births"]) == (7, 6, 1)
    assert (t1["resident_population"], t1["deaths"], t1["members_joined"]) == (5, 1, 1)
    assert county["resident_population"] == 12 and county["hukou_population"] == 11
    assert (county["households"], county["women_15_49"], county["married_women_15_49"]) == (4, 5, 5)
    assert (county["births"], county["births_male"], county["births_female"]) == (2, 1, 1)
    assert (county["sex_ratio"], county["sex_ratio_per_100"]) == ("1.00:1", "100.0")
    assert (county["births_order_1"], county["births_order_2"]) == (1, 1)
    assert county["members_joined"] == 1
    assert [snap[v.pk].members for v in a.villages] == [1, 1, 2, 1]
    assert snap[a.county.pk].members == 5
    # groups carry no figures
    assert snap[a.groups[0].pk].population_figures == {}


def test_published_figures_do_not_follow_the_roster(
    population_world, django_capture_on_commit_callbacks
):
    """A birth recorded after publishing changes nothing in the snapshot; the database
    refuses to change its figures."""
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks, publish=True)
    with a.scope():
        household_services.person_create(
            actor=a.users["county_admin"],
            village=a.villages[3],
            name="补录",
            sex="male",
            birth_date=datetime.date(2026, 4, 1),
            marital_status="unmarried",
        )
    assert snapshot(a, run)[a.county.pk].population_figures["births"] == 2

    def probe(cursor):
        cursor.execute("SAVEPOINT probe")
        with pytest.raises(Exception, match="cannot be changed"):
            cursor.execute(
                "UPDATE reports_snapshotnode SET population_figures = '{}' WHERE run_id = %s",
                [run.pk],
            )
        cursor.execute("ROLLBACK TO SAVEPOINT probe")

    app_role_cursor(probe)


def test_the_figures_add_no_query_per_village(population_world, django_capture_on_commit_callbacks):
    """Villages with people, households, births and members added: the run's query count is
    the same."""
    a, version = population_world
    admin = a.users["county_admin"]
    build_run(a, version, django_capture_on_commit_callbacks, period="2026-Q1")
    before = build_run(a, version, django_capture_on_commit_callbacks, period="2026-Q1")
    with a.scope():
        for n in range(3):
            village = association_services.association_create(
                actor=admin,
                parent=a.townships[n % 2],
                name=f"人口村{n}",
                division_code=f"{a.townships[n % 2].division_code}{400 + n:03d}",
            )
            home = household_services.household_create(
                actor=admin, village=village, number=f"9{n:03d}"
            )
            for born in (datetime.date(1985, 1, 1), datetime.date(2026, 2, 1)):
                household_services.person_create(
                    actor=admin,
                    village=village,
                    household=home,
                    name="新人",
                    sex="female",
                    birth_date=born,
                    marital_status="unmarried",
                )
    after = build_run(a, version, django_capture_on_commit_callbacks, period="2026-Q1")
    assert before.query_count == after.query_count, (before.query_count, after.query_count)
    assert snapshot(a, after)[a.county.pk].population_figures["births"] == 2 + 3


def sheet_rows(content: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_sheet_two_reads_the_snapshot(client, population_world, django_capture_on_commit_callbacks):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_viewer"])
    response = client.get(reverse("report-run-population", args=[run.pk]))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.title == "人口与会员统计表"
    rows = sheet_rows(response.content)
    assert rows[0][0] == "清河县2026年上半年人口与会员统计表"
    # two header rows: the figures table's groups, then their columns, then 会员
    header_top, header = rows[2], rows[3]
    assert header_top[0] == "乡镇(街道)" and header_top[2] == "户数" and header_top[-3] == "会员"
    assert header[2] == "合计" and header[-3:] == ["会员数", "新增\n会员", "会员\n占比"]
    assert sheet.freeze_panes == "C5"
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in sheet.oddFooter.center.text
    keys = [c.key for c in TABLE_COLUMNS]
    col = {key: 2 + i for i, key in enumerate(keys)}
    body = {(r[0], r[1]): r for r in rows[4:] if r[1]}
    t0, t1 = a.townships
    v1 = body[(t0.name, a.villages[1].name)]
    assert (v1[col["resident_population"]], v1[col["inflow"]]) == (3, 1)
    # members 1 of 常住 3: 33.33%
    assert v1[-3:] == [1, 0, "33.33%"]
    subtotal = body[(f"{t1.name} 小计", "2个村")]
    # t1: v2 + v3: 常住 5, a girl (0:1), a death; members 3 of 5 = 60.00%, 1 joined
    assert subtotal[col["resident_population"]] == 5 and subtotal[col["deaths"]] == 1
    assert subtotal[col["sex_ratio"]] == "0:1" and subtotal[col["sex_ratio_per_100"]] == 0
    assert subtotal[-3:] == [3, 1, "60.00%"]
    total = body[("合计", "4个村")]
    assert total[col["births"]] == 2 and total[col["sex_ratio"]] == "1.00:1"
    assert total[col["sex_ratio_per_100"]] == 100
    assert total[-3:] == [5, 1, "41.67%"]  # 5 ÷ 12


def test_sheet_two_is_the_countys(client, population_world, django_capture_on_commit_callbacks):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks, publish=True)
    client.force_login(a.users["township_staff"])
    assert client.get(reverse("report-run-population", args=[run.pk])).status_code == 404


def test_the_run_page_links_sheet_two_and_the_summary(
    client, population_world, django_capture_on_commit_callbacks
):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_admin"])
    page = client.get(reverse("job", args=[run.job_id])).content.decode()
    assert reverse("report-run-population", args=[run.pk]) in page
    assert reverse("report-run-summary", args=[run.pk]) in page


def test_the_figures_page_of_a_published_period_shows_the_snapshot(
    client, population_world, django_capture_on_commit_callbacks
):
    """A girl recorded in v1 after publishing: the registry's figures page for 2026-H1 says
    the period is published, shows the snapshot's figures (2 births) first and today's
    recount (3 births) only as a check, and links to the published run and sheet 2."""
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks, publish=True)
    with a.scope():
        household_services.person_create(
            actor=a.users["county_admin"],
            village=a.villages[1],
            name="补录",
            sex="female",
            birth_date=datetime.date(2026, 5, 1),
            marital_status="unmarried",
        )
    births = [c.key for c in TABLE_COLUMNS].index("births")
    client.force_login(a.users["county_viewer"])
    response = client.get(reverse("node-figures", args=[a.county.pk]) + "?period=2026-H1")
    page = response.content.decode()
    published = response.context["published"]
    assert published["total"]["cells"][births] == 2
    assert response.context["total"].cells[births] == 3
    # the townships as recorded: t0 one birth (v0's boy), t1 one (v2's girl)
    assert [(line["label"], line["cells"][births]) for line in published["lines"]] == [
        (a.townships[0].name, 1),
        (a.townships[1].name, 1),
    ]
    assert "已发布的本期数字" in page and "按当前名册计算" in page
    assert reverse("report-run-population", args=[run.pk]) in page
    assert reverse("report-run", args=[run.pk]) in page
    # a township's staff: its villages as recorded, and its 考核结果 page
    t0 = a.townships[0]
    client.force_login(a.users["township_staff"])
    response = client.get(reverse("node-figures", args=[t0.pk]) + "?period=2026-H1")
    published = response.context["published"]
    assert [(line["label"], line["cells"][births]) for line in published["lines"]] == [
        (a.villages[0].name, 1),
        (a.villages[1].name, 0),
    ]
    assert published["sheet_url"] == ""
    assert f"{reverse('report-run-list', args=[t0.pk])}?run={run.pk}" in response.content.decode()
    # a period not published: no such section
    response = client.get(reverse("node-figures", args=[t0.pk]) + "?period=2026-Q2")
    assert response.context["published"] is None
    assert "已发布的本期数字" not in response.content.decode()


def test_sheet_two_prints_in_libreoffice(
    client, population_world, django_capture_on_commit_callbacks, tmp_path
):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_admin"])
    content = client.get(reverse("report-run-population", args=[run.pk])).content
    printed = print_to_pdf(content, tmp_path)
    assert printed.is_a4_landscape and printed.pages == 1
    assert "清河县2026年上半年人口与会员统计表" in printed.compact
    assert "出生性别比" in printed.compact and "会员占比" in printed.compact
    assert "41.67%" in printed.compact and "第1页共1页" in printed.compact
