"""The duties pages, their Excel export and the drill-down list, for a hand-worked March 2025
in county A's first township (set up below; nothing else of 2025 exists in the world):

village 0: group 0 (leader: the village head's member from 2025-01-01) held 2 activities and
  its leader made 3 visits → 2 ✓ / 3 ✓; group 1 held none → 0 ✗ / 0 ✗. A council meeting on
  2025-02-15 meets the first quarter; group 0's training meets the village's training of
  2025 (a training at the village or any of its groups); no congress; no president linked
  (two groups, so two groups required: 0 ✗).
village 1: groups 2 and 3 held one activity each → 1 ✓ / 1 ✓; no leader visits in 2025.

The township's table: village 0 has 1/2 groups meeting each group duty (50.0%); village 1 2/2
activities (100.0%) and 0/2 visits (0.0%). Over both: activities 3/4 = 75.0%, visits 1/4 =
25.0%; council and training 1 of 2 villages (50.0%); president and congress 0 of 2."""

import datetime
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from activities import services
from activities.periods import PERIOD_ERROR, Period, parse_period, period_key, period_label
from associations.scope import Scope, activate
from members import services as member_services

pytestmark = pytest.mark.django_db
D = datetime.date
MARCH = "2025-03"


@pytest.fixture
def march(world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        head = a.members[0]
        member_services.group_role_assign(
            actor=admin, member=head, role="leader", starts_on=D(2025, 1, 1)
        )

        def activity(node, day, kind="publicity", **fields):
            services.activity_create(actor=admin, association=node, kind=kind, date=day, **fields)

        activity(a.groups[0], D(2025, 3, 2), title="婚育新风宣传")
        activity(a.groups[0], D(2025, 3, 20), "training", title="组长培训")
        activity(a.groups[2], D(2025, 3, 8))
        activity(a.groups[3], D(2025, 3, 9))
        activity(a.villages[0], D(2025, 2, 15), "meeting", meeting_type="council")
        for day in (1, 10, 25):
            services.visit_record(
                actor=admin,
                visitor=head,
                household=a.households[0],
                visited_on=D(2025, 3, day),
                purpose="policy",
            )
    return a


def get(client, user, name, node, period=MARCH):
    client.force_login(user)
    query = {} if period is None else {"period": period}
    return client.get(reverse(name, args=[node.pk]), query)


# --- periods ---------------------------------------------------------------------------------


def test_period_keys_round_trip():
    for key, label in (("2025-03", "2025年3月"), ("2025-Q1", "2025年第一季度"), ("2025", "2025年")):
        period = parse_period(key)
        assert period_key(period) == key
        assert period_label(period) == label
    assert parse_period("2025-q2") == Period.quarter(2025, 2)


@pytest.mark.parametrize(
    "bad", ["2025-13", "2025-00", "2025-Q5", "abc", "25-03", "2025-3", "１２３４"]
)
def test_bad_periods_do_not_parse(bad):
    with pytest.raises(ValueError, match="统计期格式"):
        parse_period(bad)


# --- a village: groups × months --------------------------------------------------------------


def test_village_page_marks_each_group_month(client, march):
    response = get(client, march.users["village_secretary"], "node-duties", march.villages[0])
    assert response.status_code == 200
    table = response.context["village_table"]
    cells = {line.group.name: line.cells for line in table.lines}
    g0, g1 = march.groups[0].name, march.groups[1].name
    assert [(k, a.count, a.met, v.count, v.met) for k, a, v in cells[g0]] == [
        (MARCH, 2, True, 3, True)
    ]
    assert [(k, a.count, a.met, v.count, v.met) for k, a, v in cells[g1]] == [
        (MARCH, 0, False, 0, False)
    ]
    body = response.content.decode()
    assert "2 ✓" in body and "3 ✓" in body and "0 ✗" in body
    # the cell links to the group's records of the month
    drill = reverse("node-activities", args=[march.groups[0].pk]) + f"?period={MARCH}#activities"
    assert drill in body
    notes = dict(table.notes)
    assert [(when, t.count, t.met) for when, _, t in notes["理事会"]] == [
        ("2025年第一季度", 1, True)
    ]
    assert [(t.count, t.required) for _, _, t in notes["会长深入小组"]] == [(0, 2)]
    assert [t.met for _, _, t in notes["会员代表大会"]] == [False]
    assert [t.met for _, _, t in notes["会员培训"]] == [True]


def test_a_quarter_has_a_column_pair_per_month(client, march):
    response = get(
        client, march.users["village_secretary"], "node-duties", march.villages[0], "2025-Q1"
    )
    table = response.context["village_table"]
    assert [k for k, _, _ in table.lines[0].cells] == ["2025-01", "2025-02", "2025-03"]
    assert "2025年第一季度" in response.content.decode()


def test_the_default_period_is_this_month(client, march):
    response = get(client, march.users["village_secretary"], "node-duties", march.villages[0], None)
    assert response.status_code == 200
    today = datetime.date.today()
    assert response.context["period"] == Period.month(today.year, today.month)


def test_group_leader_sees_their_own_group(client, march):
    leader = march.users["group_leader"]
    response = get(client, leader, "node-duties", march.groups[0])
    assert response.status_code == 200
    table = response.context["village_table"]
    assert [line.group.name for line in table.lines] == [march.groups[0].name]
    assert table.village is None
    assert get(client, leader, "node-duties", march.villages[0]).status_code == 404
    assert get(client, leader, "node-duties", march.groups[1]).status_code == 404


# --- a township and the county: villages × duties ---------------------------------------------


def test_township_shares_are_worked_by_hand(client, march):
    response = get(client, march.users["township_staff"], "node-duties", march.townships[0])
    assert response.status_code == 200
    table = response.context["area_table"]
    rows = {
        line.name: (
            (line.activities.met, line.activities.total, line.activities.percent),
            (line.leader_visits.met, line.leader_visits.total, line.leader_visits.percent),
            [share.mark for share in line.own_duties],
        )
        for line in table.lines
    }
    assert rows[march.villages[0].name] == ((1, 2, "50.0%"), (1, 2, "50.0%"), ["✗", "✓", "✗", "✓"])
    assert rows[march.villages[1].name] == ((2, 2, "100.0%"), (0, 2, "0.0%"), ["✗", "✗", "✗", "✗"])
    total = table.total
    assert (total.activities.met, total.activities.total, total.activities.percent) == (
        3,
        4,
        "75.0%",
    )
    assert (total.leader_visits.met, total.leader_visits.total) == (1, 4)
    assert [(s.met, s.total) for s in total.own_duties] == [(0, 2), (1, 2), (0, 2), (1, 2)]
    assert not table.show_township
    body = response.content.decode()
    assert "75.0%" in body and "25.0%" in body and "1/2 · 50.0%" in body
    assert reverse("node-duties", args=[march.villages[0].pk]) + f"?period={MARCH}" in body


def test_county_table_lists_every_village_with_its_township(client, march):
    response = get(client, march.users["county_viewer"], "node-duties", march.county)
    table = response.context["area_table"]
    assert [line.name for line in table.lines] == [v.name for v in march.villages]
    assert table.show_township
    assert table.lines[2].township == march.townships[1].name
    assert (table.total.activities.met, table.total.activities.total) == (3, 8)


def test_a_quarter_counts_a_group_only_if_every_month_was_met(client, march):
    response = get(
        client, march.users["township_staff"], "node-duties", march.townships[0], "2025-Q1"
    )
    total = response.context["area_table"].total
    assert (total.activities.met, total.activities.total) == (0, 4)
    line = response.context["area_table"].lines[0]
    assert line.own_duties[0].mark == "✗ 0/3"  # president: three months, none met
    assert line.own_duties[0].total == 3


# --- errors and isolation ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["node-duties", "node-duties-export", "node-activities"])
@pytest.mark.parametrize("bad", ["2025-13", "x", "2025-Q0"])
def test_a_bad_period_is_a_chinese_400(client, march, name, bad):
    response = get(client, march.users["county_admin"], name, march.villages[0], bad)
    assert response.status_code == 400
    assert PERIOD_ERROR in response.content.decode()


@pytest.mark.parametrize("name", ["node-duties", "node-duties-export", "node-activities"])
def test_other_counties_and_siblings_are_404(client, world, name):
    a, b = world.a, world.b
    cases = [
        ("county_admin", b.county),
        ("county_admin", b.villages[0]),
        ("township_staff", a.townships[1]),
        ("township_staff", a.villages[2]),
        ("village_secretary", a.villages[1]),
        ("village_secretary", a.townships[0]),
        ("group_leader", a.groups[1]),
    ]
    for role, node in cases:
        assert get(client, a.users[role], name, node).status_code == 404, (role, node.name)


@pytest.mark.parametrize(
    "role", ["county_admin", "county_viewer", "township_staff", "village_secretary"]
)
def test_every_role_opens_its_village(client, march, role):
    response = get(client, march.users[role], "node-duties", march.villages[0])
    assert response.status_code == 200
    assert get(client, march.users[role], "node-activities", march.villages[0]).status_code == 200


# --- the drill-down list -----------------------------------------------------------------------


def test_records_of_a_group_month(client, march):
    response = get(client, march.users["group_leader"], "node-activities", march.groups[0])
    assert response.status_code == 200
    assert [a.title for a in response.context["activities"]] == ["组长培训", "婚育新风宣传"]
    assert [v.visited_on.day for v in response.context["visits"]] == [25, 10, 1]
    other = get(client, march.users["group_leader"], "node-activities", march.groups[0], "2025-04")
    assert other.context["activities"] == [] and other.context["visits"] == []


def test_node_page_links_to_the_duties(client, march):
    for role, node in (("county_admin", march.county), ("group_leader", march.groups[0])):
        client.force_login(march.users[role])
        body = client.get(reverse("node-detail", args=[node.pk])).content.decode()
        assert reverse("node-duties", args=[node.pk]) in body
        assert "工作职责" in body


# --- the export ----------------------------------------------------------------------------------


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content))


def body_rows(ws, first):
    return [list(row) for row in ws.iter_rows(min_row=first, values_only=True)]


def test_township_export_reads_back(client, march):
    response = get(client, march.users["township_staff"], "node-duties-export", march.townships[0])
    disposition = response["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition and "duties_" in disposition
    assert re.search(r"%E5%B7%A5%E4%BD%9C%E8%81%8C%E8%B4%A3", disposition)  # 工作职责
    ws = workbook(response).active
    name = march.townships[0].name
    assert ws["A1"].value == f"{name}工作职责落实情况(2025年3月)"
    assert [c.value for c in ws[3]][:5] == ["村(社区)", "小组数", "小组活动", None, "组长入户"]
    assert [c.value for c in ws[4]][2:] == [
        "达标小组",
        "达标率",
        "达标小组",
        "达标率",
        "会长深入小组",
        "理事会",
        "会员代表大会",
        "会员培训",
    ]
    assert "C3:D3" in {str(r) for r in ws.merged_cells.ranges}
    rows = body_rows(ws, 5)
    assert rows[0] == [march.villages[0].name, 2, "1/2", 0.5, "1/2", 0.5, "✗", "✓", "✗", "✓"]
    assert rows[1] == [march.villages[1].name, 2, "2/2", 1, "0/2", 0, "✗", "✗", "✗", "✗"]
    assert rows[2] == ["合计", 4, "3/4", 0.75, "1/4", 0.25, "0/2", "1/2", "0/2", "1/2"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.print_title_rows == "$3:$4"  # the header repeats on every printed page
    assert "&P" in ws.oddFooter.center.text


def test_village_export_reads_back(client, march):
    response = get(
        client, march.users["village_secretary"], "node-duties-export", march.villages[0], "2025-Q1"
    )
    ws = workbook(response).active
    assert [c.value for c in ws[3]][:4] == ["会员小组", "组长", "2025年1月", None]
    assert [c.value for c in ws[4]][2:4] == ["小组活动", "组长入户"]
    rows = body_rows(ws, 5)
    leader = march.persons[0].name
    assert rows[0] == [march.groups[0].name, leader, "0 ✗", "0 ✗", "0 ✗", "0 ✗", "2 ✓", "3 ✓"]
    assert rows[1][2:] == ["0 ✗"] * 6
    notes = [row[0] for row in rows[2:] if row[0]]
    assert any(note.startswith("理事会:2025年第一季度 1 ✓") for note in notes)
    assert ws.page_setup.orientation == "landscape"


def test_a_years_village_sheet_has_short_month_labels(client, march):
    response = get(
        client, march.users["village_secretary"], "node-duties-export", march.villages[0], "2025"
    )
    ws = workbook(response).active
    assert [c.value for c in ws[3]][2:6] == ["1月", None, "2月", None]
    assert [c.value for c in ws[4]][2:4] == ["活动", "入户"]
    assert "入户:组长入户随访次数" in ws["A2"].value
    row = body_rows(ws, 5)[0]
    assert len(row) == 2 + 24 and row[2 + 2 * 2 : 2 + 2 * 3] == ["2 ✓", "3 ✓"]  # March
    assert ws.print_title_rows == "$3:$4"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
