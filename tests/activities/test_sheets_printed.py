"""The activity statistics sheet and the duties sheet as LibreOffice prints them: A4
landscape, Chinese text rendered (extractable from the PDF, so drawn with a CJK font), the
figures worked out by hand in test_statistics.py on the page, page numbers in the footer."""

import pytest
from django.urls import reverse

from tests.libreoffice import print_to_pdf

from .test_statistics import year  # noqa: F401  (the hand-worked year, a fixture)

pytestmark = pytest.mark.django_db


def export(client, user, name, node, period):
    client.force_login(user)
    response = client.get(reverse(name, args=[node.pk]), {"period": period})
    assert response.status_code == 200
    return response.content


def test_the_statistics_sheet_prints_on_a4_landscape(client, year, tmp_path):  # noqa: F811
    a = year
    content = export(
        client, a.users["county_admin"], "node-activity-stats-export", a.county, "2025"
    )
    printed = print_to_pdf(content, tmp_path, "activity_stats.xlsx")
    assert printed.is_a4_landscape
    assert printed.pages == 2  # the table, then the themes sheet
    text = printed.text
    assert f"{a.county.name}2025年计生协活动统计表" in text
    assert "乡镇本级" in text and "县本级" in text and "小计" in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("合计"))
    assert "235" in total_line.split() and "800" in total_line.split()  # participants, 宣传资料
    assert "第1页共2页" in printed.compact and "第2页共2页" in printed.compact
    assert "婚育新风进万家" in text  # the themes sheet is printed too


def test_the_duties_sheet_prints_on_one_a4_landscape_page(client, year, tmp_path):  # noqa: F811
    a = year
    content = export(client, a.users["county_admin"], "node-duties-export", a.county, "2025-Q1")
    printed = print_to_pdf(content, tmp_path, "duties.xlsx")
    assert printed.is_a4_landscape
    assert printed.pages == 1
    assert f"{a.county.name}工作职责落实情况(2025年第一季度)" in printed.text
    for village in a.villages:
        assert village.name in printed.text
    assert "职责要求" in printed.text and "第1页共1页" in printed.compact
