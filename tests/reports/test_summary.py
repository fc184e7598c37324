"""The 工作总结 figures paragraphs drafted from a run's snapshot (reports.summary), their page,
the Word documents read back with python-docx, and who may draft what. Figures worked out by
hand in conftest.population_world (2026-H1: 上半年)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn

from households import services as household_services
from reports import runs, summary
from reports.models import SnapshotNode
from tests.reports.conftest import build_run

pytestmark = pytest.mark.django_db


def county_text(a) -> str:
    t0, t1 = a.townships
    v0, v1, v2, v3 = a.villages
    # top three by county rank then code: v0 1, v2 1, v1 3, v3 3 (four: a tie for third)
    top = f"{t0.name}{v0.name}、{t1.name}{v2.name}、{t0.name}{v1.name}、{t1.name}{v3.name}"
    return "\n\n".join(
        [
            "1、出生情况:上半年全县共出生2人,其中一孩1人;二孩1人。",
            "2、出生人口性别比:上半年共出生2人,其中:男孩1人,女孩1人,出生人口性别比为1.00:1。",
            "3、人口情况:截至2026年6月30日,全县常住人口12人,户籍人口11人,其中流入人口1人、"
            "流出人口0人;共有4户;育龄妇女5人,其中已婚育龄妇女5人。上半年全县共死亡1人。",
            # 5 members ÷ 12 residents = 41.666… → 41.67%
            "4、会员情况:全县共有村级计生协会4个,会员5人,占常住人口的41.67%;上半年新发展会员1人。",
            # council_quarterly: v0 50 (Q1 of two quarters), others 0: (50+0+0+0)/4 = 12.50
            "5、活动与随访:上半年全县各村“理事会按季召开”平均为12.50%。",
            "6、考核结果:上半年全县4个村级计生协会参加考核,其中一流村协会0个、合格村协会2个、"
            f"不合格村协会2个;全县前三名(含并列)为{top}。",
        ]
    )


def test_the_countys_paragraphs(client, population_world, django_capture_on_commit_callbacks):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_viewer"])
    response = client.get(reverse("report-run-summary", args=[run.pk]))
    assert response.status_code == 200
    assert response.context["text"] == county_text(a)
    assert response.context["title_text"] == "清河县2026年上半年计生协工作总结"
    assert "<textarea" in response.content.decode()


def test_a_townships_paragraphs(client, population_world, django_capture_on_commit_callbacks):
    """Township t1 (第2镇): v2 and v3, from its staff, on the published run."""
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks, publish=True)
    t1 = a.townships[1]
    v2, v3 = a.villages[2], a.villages[3]
    client.force_login(a.users["township_staff_sibling"])
    response = client.get(reverse("report-run-summary", args=[run.pk]) + f"?node={t1.pk}")
    assert response.status_code == 200, response.content[:300]
    assert response.context["text"] == "\n\n".join(
        [
            "1、出生情况:上半年全镇共出生1人,其中一孩1人;二孩0人。",
            "2、出生人口性别比:上半年共出生1人,其中:男孩0人,女孩1人,出生人口性别比为0:1。",
            "3、人口情况:截至2026年6月30日,全镇常住人口5人,户籍人口5人,其中流入人口0人、"
            "流出人口0人;共有2户;育龄妇女2人,其中已婚育龄妇女2人。上半年全镇共死亡1人。",
            # 3 members ÷ 5 = 60.00%
            "4、会员情况:全镇共有村级计生协会2个,会员3人,占常住人口的60.00%;上半年新发展会员1人。",
            "5、活动与随访:上半年全镇各村“理事会按季召开”平均为0.00%。",
            "6、考核结果:上半年全镇2个村级计生协会参加考核,其中一流村协会0个、合格村协会1个、"
            f"不合格村协会1个;{v2.name}、{v3.name}进入全县前三。",
        ]
    )


def test_a_villages_paragraphs(population_world, django_capture_on_commit_callbacks):
    """v0 on its own row: a boy (no girls: no ratio), its council value, its result."""
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    with a.scope():
        row = SnapshotNode.objects.get(run=run, node_id_at=a.villages[0].pk)
        drafted = summary.draft(run, row, [row])
    assert drafted.paragraphs == [
        "1、出生情况:上半年全村共出生1人,其中一孩0人;二孩1人。",
        "2、出生人口性别比:上半年共出生1人,其中:男孩1人,女孩0人,无女婴出生,不计算出生人口性别比。",
        "3、人口情况:截至2026年6月30日,全村常住人口4人,户籍人口4人,其中流入人口0人、"
        "流出人口0人;共有1户;育龄妇女1人,其中已婚育龄妇女1人。上半年全村无死亡人口。",
        # 1 ÷ 4 = 25.00%
        "4、会员情况:会员1人,占常住人口的25.00%;上半年无新发展会员。",
        "5、活动与随访:上半年全村“理事会按季召开”为50.00%。",
        "6、考核结果:上半年本村考核总分20.00分,评为合格村协会,排名全镇第1名、全县第1名,进入全县前三。",
    ]


@pytest.mark.parametrize(
    ("key", "words"),
    [("2026-Q1", "一季度"), ("2026-Q3", "三季度"), ("2026-H1", "上半年"), ("2026-H2", "下半年"),
     ("2026", "全年")],
)  # fmt: skip
def test_period_words(key, words):
    assert summary.period_words(key) == words


def test_the_summary_reads_the_snapshot_only(
    client, population_world, django_capture_on_commit_callbacks
):
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
    client.force_login(a.users["county_admin"])
    response = client.get(reverse("report-run-summary", args=[run.pk]))
    assert response.context["text"] == county_text(a)


def docx_paragraphs(content: bytes) -> list:
    return Document(io.BytesIO(content)).paragraphs


def test_word_documents(client, population_world, django_capture_on_commit_callbacks):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_admin"])
    url = reverse("report-run-summary", args=[run.pk])
    drafted = client.get(reverse("report-run-summary-docx", args=[run.pk]))
    assert drafted.status_code == 200
    assert drafted["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".docx" in drafted["Content-Disposition"]
    paragraphs = docx_paragraphs(drafted.content)
    assert paragraphs[0].text == "清河县2026年上半年计生协工作总结"
    assert paragraphs[0].runs[0].bold
    assert [p.text for p in paragraphs[1:]] == county_text(a).split("\n\n")
    fonts = paragraphs[1].runs[0].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    # the edited text: its non-empty lines, the edited title
    edited = client.post(
        url, {"title": "清河县上半年总结", "text": "第一段改过了。\r\n\r\n  第二段。  \n"}
    )
    assert edited.status_code == 200
    paragraphs = docx_paragraphs(edited.content)
    assert [p.text for p in paragraphs] == ["清河县上半年总结", "第一段改过了。", "第二段。"]
    # no title: the drafted one
    untitled = client.post(url, {"title": "", "text": "只有一段。"})
    assert docx_paragraphs(untitled.content)[0].text == "清河县2026年上半年计生协工作总结"


def test_bad_text_is_refused_in_chinese_and_kept(
    client, population_world, django_capture_on_commit_callbacks
):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks)
    client.force_login(a.users["county_admin"])
    url = reverse("report-run-summary", args=[run.pk])
    empty = client.post(url, {"title": "标题", "text": "  \n  "})
    assert empty.status_code == 400 and "总结内容不能为空" in empty.content.decode()
    long_text = "字" * (summary.MAX_TEXT + 1)
    too_long = client.post(url, {"title": "我的标题", "text": long_text})
    assert too_long.status_code == 400
    assert too_long.context["text"] == long_text and too_long.context["title_text"] == "我的标题"
    assert "不能超过" in too_long.content.decode()
    assert client.post(url, {"title": "题" * 101, "text": "一段"}).status_code == 400
    for bad in ("abc", "-1", "9" * 30):
        assert client.get(f"{url}?node={bad}").status_code == 404


def test_who_may_draft_what(client, world, population_world, django_capture_on_commit_callbacks):
    a, version = population_world
    unpublished = build_run(a, version, django_capture_on_commit_callbacks)
    t0, t1 = a.townships
    staff = a.users["township_staff"]  # of t0
    client.force_login(staff)
    url = reverse("report-run-summary", args=[unpublished.pk])
    # not published: nothing below the county
    assert client.get(f"{url}?node={t0.pk}").status_code == 404
    with a.scope():
        published = runs.publish(actor=a.users["county_admin"], run=unpublished)
    url = reverse("report-run-summary", args=[published.pk])
    docx_url = reverse("report-run-summary-docx", args=[published.pk])
    assert client.get(f"{url}?node={t0.pk}").status_code == 200
    assert client.get(f"{docx_url}?node={t0.pk}").status_code == 200
    assert client.get(f"{url}?node={a.villages[0].pk}").status_code == 200  # own village
    assert client.get(url).status_code == 404  # the county's
    assert client.get(f"{url}?node={t1.pk}").status_code == 404  # the sibling township
    assert client.get(f"{url}?node={a.villages[2].pk}").status_code == 404
    assert client.post(f"{url}?node={t1.pk}", {"text": "x"}).status_code == 404
    assert client.get(f"{url}?node={a.groups[0].pk}").status_code == 404  # groups: none
    # another county's nodes, for the county's own admin
    client.force_login(a.users["county_admin"])
    for node in (world.b.county, world.b.townships[0]):
        assert client.get(f"{url}?node={node.pk}").status_code == 404
    secretary = a.users["village_secretary"]  # of v0
    client.force_login(secretary)
    assert client.get(f"{url}?node={a.villages[0].pk}").status_code == 200
    assert client.get(f"{url}?node={a.villages[1].pk}").status_code == 404
    assert client.get(f"{url}?node={t0.pk}").status_code == 404


def test_the_township_page_offers_the_summary(
    client, population_world, django_capture_on_commit_callbacks
):
    a, version = population_world
    run = build_run(a, version, django_capture_on_commit_callbacks, publish=True)
    t0 = a.townships[0]
    client.force_login(a.users["township_staff"])
    page = client.get(reverse("report-run-list", args=[t0.pk]) + f"?run={run.pk}")
    assert f"{reverse('report-run-summary', args=[run.pk])}?node={t0.pk}" in page.content.decode()


@pytest.mark.parametrize(
    ("level", "name", "word"),
    [("county", "清河县", "全县"), ("county", "某某区", "全区"), ("township", "城关镇", "全镇"),
     ("township", "王官庄乡", "全乡"), ("township", "新华街道", "全街道"),
     ("village", "东村", "全村"), ("village", "幸福社区", "全社区")],
)  # fmt: skip
def test_place_words(level, name, word):
    assert summary.place_word(SnapshotNode(level=level, name=name)) == word
    if level == "township":
        assert summary.township_word(name) == word
