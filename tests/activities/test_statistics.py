"""Activity statistics for a hand-worked 2025 in county A (nothing else of 2025 exists in the
shared world), set up below:

township 0, village 0: group 0  宣传 03-02, 40 people, 15 consultations, theme 婚育新风进万家,
                                themed day 3.8, 宣传资料 100 份, 横幅 2 幅
                       group 1  会议 (会员小组会) 03-10, 12 people
                       village  培训 04-05, 30 people, 30 trainees, theme 青春健康
township 0, village 1: group 2  服务 (义诊) 05-29, 25 people, 60 consultations, themed day
                                5.29, 避孕药具 50 盒, 宣传资料 200 份
township 0 itself:              志愿服务 06-01, 20 people, theme 关爱女孩
township 1, village 2: group 4  宣传 12-30 to 2026-01-05 (a campaign), 8 people
county A itself:                宣传 07-11, 100 people, 80 consultations, themed day 7.11,
                                宣传资料 500 份, 展板 4 块
outside the year:               village 0 宣传 2024-12-31, 7 people, 宣传资料 9 份
county B, its village 0:        宣传 2025-03-02, 999 people, 宣传资料 999 份

By hand, for 2025 (columns 宣传 会议 培训 服务 志愿服务 | 合计 | 人数 咨询 培训人数):
  village 0     1 1 1 0 0 | 3 |  82  15 30   宣传资料 100, 横幅 2
  village 1     0 0 0 1 0 | 1 |  25  60  0   宣传资料 200, 避孕药具(盒) 50
  乡镇本级       0 0 0 0 1 | 1 |  20   0  0
  小计 (t0)      1 1 1 1 1 | 5 | 127  75 30   宣传资料 300, 避孕药具(盒) 50, 横幅 2
  village 2     1 0 0 0 0 | 1 |   8   0  0
  village 3     0         | 0 |   0
  小计 (t1)      1 0 0 0 0 | 1 |   8   0  0
  县本级         1 0 0 0 0 | 1 | 100  80  0   宣传资料 500, 展板 4
  合计          3 1 1 1 1 | 7 | 235 155 30   宣传资料 800, 避孕药具(盒) 50, 横幅 2, 展板 4
Themes: 婚育新风进万家 1 (40), 关爱女孩 1 (20), 青春健康 1 (30), 未设主题 4 (12+25+8+100 = 145).
Themed days: 3.8 1 (40), 5.29 1 (25), 7.11 1 (100), the other three 0."""

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities import catalogues, services
from activities.periods import Period
from activities.statistics import KINDS, activity_statistics
from activities.statistics_export import figure_headers
from associations import services as association_services
from associations.scope import Scope, activate

pytestmark = pytest.mark.django_db
D = datetime.date
YEAR = Period.year(2025)
MATERIALS = ["宣传资料(份)", "避孕药具(盒)", "避孕药具(只)", "横幅(幅)", "展板(块)", "宣传品(个)"]


def _catalogue(county_id):
    themes = {t.name: t for t in catalogues.themes(county_id=county_id)}
    days = {(d.month, d.day): d for d in catalogues.themed_days(county_id=county_id)}
    materials = {f"{m.name}({m.unit})": m for m in catalogues.materials(county_id=county_id)}
    return themes, days, materials


@pytest.fixture
def year(world):
    a, b = world.a, world.b
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        themes, days, materials = _catalogue(a.county.pk)

        def activity(node, day, kind="publicity", materials_given=None, **fields):
            services.activity_create(
                actor=admin,
                association=node,
                kind=kind,
                date=day,
                materials={materials[k]: q for k, q in (materials_given or {}).items()},
                **fields,
            )

        activity(
            a.groups[0],
            D(2025, 3, 2),
            participants=40,
            consultations=15,
            theme=themes["婚育新风进万家"],
            themed_day=days[3, 8],
            materials_given={"宣传资料(份)": 100, "横幅(幅)": 2},
        )
        activity(
            a.groups[1], D(2025, 3, 10), "meeting", meeting_type="group_meeting", participants=12
        )
        activity(
            a.villages[0],
            D(2025, 4, 5),
            "training",
            participants=30,
            trainees=30,
            theme=themes["青春健康"],
        )
        activity(
            a.groups[2],
            D(2025, 5, 29),
            "service",
            service_type="free_clinic",
            participants=25,
            consultations=60,
            themed_day=days[5, 29],
            materials_given={"避孕药具(盒)": 50, "宣传资料(份)": 200},
        )
        activity(
            a.townships[0], D(2025, 6, 1), "volunteer", participants=20, theme=themes["关爱女孩"]
        )
        activity(a.groups[4], D(2025, 12, 30), end_date=D(2026, 1, 5), participants=8)
        activity(
            a.county,
            D(2025, 7, 11),
            participants=100,
            consultations=80,
            themed_day=days[7, 11],
            materials_given={"宣传资料(份)": 500, "展板(块)": 4},
        )
        activity(
            a.villages[0], D(2024, 12, 31), participants=7, materials_given={"宣传资料(份)": 9}
        )
    with activate(Scope.for_node(b.county)):
        _, _, b_materials = _catalogue(b.county.pk)
        services.activity_create(
            actor=b.users["county_admin"],
            association=b.villages[0],
            kind="publicity",
            date=D(2025, 3, 2),
            participants=999,
            materials={b_materials["宣传资料(份)"]: 999},
        )
    return a


def stats_of(world_county, node, period=YEAR):
    with activate(Scope.for_node(world_county.county)):
        return activity_statistics(node=node, period=period)


def numbers(line_or_total, stats) -> list[int]:
    figures = getattr(line_or_total, "figures", line_or_total)
    return figures.values(stats.materials)


def row(kinds, participants=0, consultations=0, trainees=0, **materials) -> list[int]:
    """A row as the table has it: 宣传 会议 培训 服务 志愿服务, 合计, 人数 咨询 培训人数, then the
    six default materials (keyword: 资料, 药盒, 药只, 横幅, 展板, 宣传品)."""
    order = ["资料", "药盒", "药只", "横幅", "展板", "宣传品"]
    return [
        *kinds,
        sum(kinds),
        participants,
        consultations,
        trainees,
        *(materials.get(key, 0) for key in order),
    ]


EXPECTED_COUNTY = [
    # (kind, township index, label, numbers)
    ("row", 0, "v0", row([1, 1, 1, 0, 0], 82, 15, 30, 资料=100, 横幅=2)),
    ("row", 0, "v1", row([0, 0, 0, 1, 0], 25, 60, 0, 资料=200, 药盒=50)),
    ("own", 0, "乡镇本级", row([0, 0, 0, 0, 1], 20)),
    ("subtotal", 0, "小计", row([1, 1, 1, 1, 1], 127, 75, 30, 资料=300, 药盒=50, 横幅=2)),
    ("row", 1, "v2", row([1, 0, 0, 0, 0], 8)),
    ("row", 1, "v3", row([0, 0, 0, 0, 0])),
    ("subtotal", 1, "小计", row([1, 0, 0, 0, 0], 8)),
    ("own", None, "县本级", row([1, 0, 0, 0, 0], 100, 80, 0, 资料=500, 展板=4)),
]
EXPECTED_TOTAL = row([3, 1, 1, 1, 1], 235, 155, 30, 资料=800, 药盒=50, 横幅=2, 展板=4)


def test_county_year_by_hand(year):
    a = year
    stats = stats_of(a, a.county)
    assert [f"{m.name}({m.unit})" for m in stats.materials] == MATERIALS
    assert stats.show_township
    labels = {"v0": a.villages[0].name, "v1": a.villages[1].name}
    labels |= {"v2": a.villages[2].name, "v3": a.villages[3].name}
    got = [(line.kind, line.township, line.label, numbers(line, stats)) for line in stats.lines]
    want = [
        (kind, a.townships[t].name if t is not None else "", labels.get(label, label), values)
        for kind, t, label, values in EXPECTED_COUNTY
    ]
    assert got == want
    assert numbers(stats.total, stats) == EXPECTED_TOTAL


def test_totals_are_the_sum_of_rows_and_subtotals_of_their_township(year):
    stats = stats_of(year, year.county)
    columns = list(zip(*(numbers(line, stats) for line in stats.rows), strict=True))
    assert [sum(column) for column in columns] == numbers(stats.total, stats)
    for township in year.townships:
        own = [line for line in stats.rows if line.township == township.name]
        (subtotal,) = [
            line
            for line in stats.lines
            if line.kind == "subtotal" and line.township == township.name
        ]
        sums = [sum(c) for c in zip(*(numbers(line, stats) for line in own), strict=True)]
        assert sums == numbers(subtotal, stats)


def test_themes_and_themed_days_by_hand(year):
    stats = stats_of(year, year.county)
    themes = {line.label: (line.activities, line.participants) for line in stats.themes}
    assert themes == {
        "婚育新风进万家": (1, 40),
        "关爱女孩": (1, 20),
        "青春健康": (1, 30),
        "预防艾滋病": (0, 0),
        "幸福家庭": (0, 0),
        "红五月": (0, 0),
        "生育关怀": (0, 0),
        "未设主题": (4, 145),
    }
    assert sum(n for n, _ in themes.values()) == stats.total.activities
    days = [(line.label, line.activities, line.participants) for line in stats.themed_days]
    assert days == [
        ("3.8 妇女节", 1, 40),
        ("5.29 会员活动日", 1, 25),
        ("7.11 世界人口日", 1, 100),
        ("9.25 公开信发表纪念日", 0, 0),
        ("10.28 男性健康日", 0, 0),
        ("12.1 世界艾滋病日", 0, 0),
    ]


def test_township_village_and_group_nodes(year):
    a = year
    township = stats_of(a, a.townships[0])
    assert not township.show_township
    assert [(line.label, numbers(line, township)) for line in township.lines] == [
        (a.villages[0].name, EXPECTED_COUNTY[0][3]),
        (a.villages[1].name, EXPECTED_COUNTY[1][3]),
        ("乡镇本级", EXPECTED_COUNTY[2][3]),
    ]
    assert numbers(township.total, township) == EXPECTED_COUNTY[3][3]

    village = stats_of(a, a.villages[0])
    assert [(line.label, numbers(line, village)) for line in village.lines] == [
        (a.groups[0].name, row([1, 0, 0, 0, 0], 40, 15, 0, 资料=100, 横幅=2)),
        (a.groups[1].name, row([0, 1, 0, 0, 0], 12)),
        ("村本级", row([0, 0, 1, 0, 0], 30, 0, 30)),
    ]
    assert numbers(village.total, village) == EXPECTED_COUNTY[0][3]

    group = stats_of(a, a.groups[0])
    assert [line.label for line in group.lines] == [a.groups[0].name]
    assert numbers(group.total, group) == row([1, 0, 0, 0, 0], 40, 15, 0, 资料=100, 横幅=2)
    # a village with nothing shows its groups with zeros and no 村本级 row
    empty = stats_of(a, a.villages[3])
    assert [line.label for line in empty.lines] == [a.groups[6].name, a.groups[7].name]
    assert empty.total.activities == 0


def test_period_is_the_start_date(year):
    a = year
    q1 = stats_of(a, a.county, Period.quarter(2025, 1))
    assert numbers(q1.total, q1) == row([1, 1, 0, 0, 0], 52, 15, 0, 资料=100, 横幅=2)
    # the campaign of 12-30 to 01-05 is a 2025 activity only
    january = stats_of(a, a.county, Period.month(2026, 1))
    assert january.total.activities == 0
    december = stats_of(a, a.county, Period.month(2025, 12))
    assert numbers(december.total, december) == row([1, 0, 0, 0, 0], 8)
    # 2024-12-31 is in 2024 (county A's world activities of 2023 are not)
    last = stats_of(a, a.county, Period.year(2024))
    assert numbers(last.total, last) == row([1, 0, 0, 0, 0], 7, 资料=9)


def test_other_county_never_counted(year, world):
    b = world.b
    stats = stats_of(b, b.county)
    assert numbers(stats.total, stats) == row([1, 0, 0, 0, 0], 999, 资料=999)
    mine = stats_of(year, year.county)
    assert 999 not in numbers(mine.total, mine)


def test_query_count_is_constant_when_villages_are_added(year):
    a = year
    admin = a.users["county_admin"]

    def count():
        with activate(Scope.for_node(a.county)), CaptureQueriesContext(connection) as queries:
            activity_statistics(node=a.county, period=YEAR)
        return len(queries)

    before = count()
    with activate(Scope.for_node(a.county)):
        for n in range(3):
            village = association_services.association_create(
                actor=admin,
                parent=a.townships[1],
                name=f"新村{n}",
                division_code=f"{a.townships[1].division_code}{300 + n:03d}",
            )
            group = association_services.association_create(
                actor=admin,
                parent=village,
                name=f"新村{n}第1组",
                division_code=f"{village.division_code}001",
            )
            services.activity_create(
                actor=admin, association=group, kind="publicity", date=D(2025, 8, 1)
            )
    assert count() == before <= 9
    stats = stats_of(a, a.county)
    assert stats.total.activities == 7 + 3
    assert [line.label for line in stats.lines].count("新村1") == 1


# --- the page and the sheet ------------------------------------------------------------------


def get(client, user, name, node, period="2025"):
    client.force_login(user)
    return client.get(reverse(name, args=[node.pk]), {"period": period})


def test_page_shows_the_table(client, year):
    a = year
    response = get(client, a.users["county_admin"], "node-activity-stats", a.county)
    assert response.status_code == 200
    html = response.content.decode()
    assert "活动次数" in html and "发放资料" in html and "宣传资料(份)" in html
    assert "乡镇本级" in html and "县本级" in html and "小计" in html
    assert 'class="table-scroll"' in html
    total = response.context["total_values"]
    assert total == EXPECTED_TOTAL
    assert "235" in html and "800" in html
    assert reverse("node-activity-stats-export", args=[a.county.pk]) in html


def test_page_links_from_duties_and_node(client, year):
    a = year
    url = reverse("node-activity-stats", args=[a.villages[0].pk])
    response = get(client, a.users["county_admin"], "node-duties", a.villages[0], "2025-03")
    assert f"{url}?period=2025-03" in response.content.decode()
    client.force_login(a.users["county_admin"])
    response = client.get(reverse("node-detail", args=[a.villages[0].pk]))
    assert url in response.content.decode()


@pytest.mark.parametrize("name", ["node-activity-stats", "node-activity-stats-export"])
@pytest.mark.parametrize("bad", ["2025-13", "abc", "2025-Q9", "1999"])
def test_bad_period_is_400_in_chinese(client, year, name, bad):
    response = get(client, year.users["county_admin"], name, year.county, bad)
    assert response.status_code == 400
    assert "统计期格式应为" in response.content.decode()


def test_sibling_village_and_other_county_are_404(client, year, world):
    a = year
    secretary = a.users["village_secretary"]  # of village 0
    for name in ("node-activity-stats", "node-activity-stats-export"):
        assert get(client, secretary, name, a.villages[1]).status_code == 404
        assert get(client, secretary, name, world.b.villages[0]).status_code == 404
    own = get(client, secretary, "node-activity-stats", a.villages[0])
    assert own.status_code == 200
    assert own.context["total_values"] == EXPECTED_COUNTY[0][3]


def test_sheet_read_back(client, year):
    a = year
    response = get(client, a.users["county_admin"], "node-activity-stats-export", a.county)
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert "activity_stats" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["活动统计", "按主题统计"]
    ws = book["活动统计"]
    assert ws["A1"].value == f"{a.county.name}2025年计生协活动统计表"
    assert ws["A2"].value.startswith("统计期:2025-01-01 至 2025-12-31")
    # grouped header on rows 3-4: township and village merged over both rows
    assert ws["A3"].value == "乡镇(街道)" and ws["B3"].value == "村(社区)"
    assert [ws.cell(3, c).value for c in (3, 9, 12)] == ["活动次数", "参与", "发放资料"]
    headers = [ws.cell(4, c).value for c in range(3, 3 + 9 + 6)]
    assert [h.replace("\n", "") for h in headers] == figure_headers(stats_of(a, a.county))
    assert headers[9] == "宣传资料\n(份)"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:B4", "C3:H3", "I3:K3", "L3:Q3", "A1:Q1"} <= merged
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=13)]

    def numbers_of(cells):
        return [v or 0 for v in cells[2:]]

    names = [a.townships[0].name, a.townships[1].name]
    assert [r[:2] for r in body] == [
        [names[0], a.villages[0].name],
        [names[0], a.villages[1].name],
        [names[0], "乡镇本级"],
        [names[0], "小计"],
        [names[1], a.villages[2].name],
        [names[1], a.villages[3].name],
        [names[1], "小计"],
        [None, "县本级"],
        ["合计", None],
    ]
    assert [numbers_of(r) for r in body[:8]] == [values for *_, values in EXPECTED_COUNTY]
    assert numbers_of(body[8]) == EXPECTED_TOTAL
    assert ws.cell(13, 1).font.b  # the total row is bold
    # print setup: A4 landscape, one page wide, header repeated, page numbers
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    themes = book["按主题统计"]
    rows = [[c.value for c in r] for r in themes.iter_rows(min_row=4)]
    assert ["婚育新风进万家", 1, 40] in rows and ["未设主题", 4, 145] in rows
    assert ["5.29 会员活动日", 1, 25] in rows
    totals = [r for r in rows if r[0] == "合计"]
    assert totals == [["合计", 7, 235], ["合计", 3, 165]]


def test_sheet_of_a_village_lists_groups(client, year):
    a = year
    response = get(client, a.users["county_admin"], "node-activity-stats-export", a.villages[0])
    ws = openpyxl.load_workbook(io.BytesIO(response.content))["活动统计"]
    assert ws["A3"].value == "会员小组"
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=8)]
    assert [r[0] for r in body] == [a.groups[0].name, a.groups[1].name, "村本级", "合计"]
    assert [v or 0 for v in body[3][1:]] == EXPECTED_COUNTY[0][3]
    assert len(KINDS) == 5


def test_group_leader_sees_own_group_totals(client, year):
    a = year
    leader = a.users["group_leader"]  # of group 0
    response = get(client, leader, "node-activity-stats", a.groups[0])
    assert response.status_code == 200
    assert response.context["total_values"] == row([1, 0, 0, 0, 0], 40, 15, 0, 资料=100, 横幅=2)
    assert get(client, leader, "node-activity-stats", a.groups[1]).status_code == 404
    assert get(client, leader, "node-activity-stats", a.villages[0]).status_code == 404


def test_page_defaults_to_this_month(client, year):
    client.force_login(year.users["county_admin"])
    response = client.get(reverse("node-activity-stats", args=[year.county.pk]))
    assert response.status_code == 200
    assert response.context["total_values"][len(KINDS)] == 0  # nothing recorded this month
