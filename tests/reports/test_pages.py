"""The scheme pages: county staff read them, the county admin changes them; everyone else is
turned away the way the project does it (404 out of scope, 403 in scope but not allowed);
bad input is a 400 with the Chinese message."""

import pytest
from django.urls import reverse

from reports.models import AssessmentScheme, SchemeIndicator, SchemeVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(world):
    return world.a


@pytest.fixture
def version(a):
    with a.scope():
        return a.schemes[0].versions.get()


def as_user(client, a, role="county_admin"):
    client.force_login(a.users[role])
    return client


def test_the_county_admin_sees_the_schemes_and_the_way_to_them(client, a, version):
    as_user(client, a)
    body = client.get(reverse("node-detail", args=[a.county.pk])).content.decode()
    assert reverse("scheme-list", args=[a.county.pk]) in body
    response = client.get(reverse("scheme-list", args=[a.county.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "村级计生协会考核细则" in body and reverse("scheme-version", args=[version.pk]) in body
    assert "新建考核细则" in body


def test_the_version_page_lists_indicators_rules_and_totals(client, a, version):
    as_user(client, a)
    body = client.get(reverse("scheme-version", args=[version.pk])).content.decode()
    assert "会员占常住人口比例" in body and "按完成目标值 10 的比例计分" in body
    assert "应达 9 项,每缺一项扣 1 分" in body and "人工评分" in body
    assert "统计期末在册会员数 ÷ 常住人口" in body  # the registry's definition
    assert body.count("满分合计 100.00 分") == 2  # village and group indicators
    assert "启用" in body and "添加指标" in body


def test_the_county_viewer_reads_but_cannot_change(client, a, version):
    as_user(client, a, "county_viewer")
    body = client.get(reverse("scheme-version", args=[version.pk])).content.decode()
    assert "会员占常住人口比例" in body and "添加指标" not in body
    assert client.get(reverse("scheme-list", args=[a.county.pk])).status_code == 200
    assert client.get(reverse("scheme-create", args=[a.county.pk])).status_code == 403
    assert client.post(reverse("scheme-version-activate", args=[version.pk])).status_code == 403
    assert client.get(reverse("scheme-version-edit", args=[version.pk])).status_code == 403


@pytest.mark.parametrize("role", ["township_staff", "village_secretary", "group_leader"])
def test_below_the_county_schemes_are_not_there(client, a, version, role):
    as_user(client, a, role)
    user = a.users[role]
    assert client.get(reverse("scheme-list", args=[a.county.pk])).status_code == 404
    assert client.get(reverse("scheme-list", args=[user.node_id])).status_code == 404
    assert client.get(reverse("scheme-version", args=[version.pk])).status_code == 404


def test_a_county_admin_asking_for_a_village_gets_404(client, a):
    as_user(client, a)
    assert client.get(reverse("scheme-list", args=[a.villages[0].pk])).status_code == 404


def test_creating_a_scheme_and_its_chinese_errors(client, a):
    as_user(client, a)
    url = reverse("scheme-create", args=[a.county.pk])
    fields = {"year": 2027, "name": "二〇二七细则", "first_class_min": "85", "qualified_min": "60"}
    bad = client.post(url, {**fields, "first_class_min": "50"})
    assert bad.status_code == 400 and "一流村协会分数线应高于合格分数线。" in bad.content.decode()
    bad = client.post(url, {**fields, "year": "1999"})
    assert bad.status_code == 400
    bad = client.post(url, {**fields, "qualified_min": "abc"})
    assert bad.status_code == 400 and "输入一个数字" in bad.content.decode()
    response = client.post(url, fields)
    assert response.status_code == 302
    with a.scope():
        created = AssessmentScheme.objects.get(year=2027).versions.get()
    assert created.first_class_min == 85
    assert response.url == reverse("scheme-version", args=[created.pk])
    duplicate = client.post(url, fields)
    assert duplicate.status_code == 400 and "2027年已有名为" in duplicate.content.decode()


def test_the_default_scheme_from_the_page(client, a):
    as_user(client, a)
    url = reverse("scheme-create-default", args=[a.county.pk])
    assert client.post(url, {"year": "2027"}).status_code == 302
    again = client.post(url, {"year": "2026"})  # the world has 2026's
    assert again.status_code == 400 and "2026年已有名为" in again.content.decode()
    assert client.post(url, {"year": "x"}).status_code == 400


# the form's three 计分考核 boxes come ticked: a browser posts them as "on"
EVERY_EVALUATION = {"in_quarter": "on", "in_half": "on", "in_year": "on"}
INDICATOR = {
    "computed": "council_model", "max_score": "5", "rule": "met", "threshold": "1",
    **EVERY_EVALUATION,
}  # fmt: skip


def test_adding_editing_and_deleting_indicators(client, a):
    as_user(client, a)
    client.post(
        reverse("scheme-create", args=[a.county.pk]),
        {"year": 2028, "name": "空白", "first_class_min": "9", "qualified_min": "6"},
    )
    with a.scope():
        draft = SchemeVersion.objects.get(scheme__year=2028)
    url = reverse("scheme-indicator-create", args=[draft.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, INDICATOR).status_code == 302
    manual = {"key": "archives", "name": "资料档案", "max_score": "5", "rule": "deduction"}
    manual |= {"in_year": "on"}  # a year-only indicator: the two other boxes unticked
    missing = client.post(url, manual)
    assert missing.status_code == 400 and "需要填写应达数量" in missing.content.decode()
    assert client.post(url, {**manual, "threshold": "9", "step": "1"}).status_code == 302
    zero = client.post(url, {**INDICATOR, "computed": "training_held", "max_score": "0"})
    assert zero.status_code == 400 and "满分应大于 0。" in zero.content.decode()
    with a.scope():
        indicators = {i.key: i for i in SchemeIndicator.objects.filter(version=draft)}
    assert set(indicators) == {"council_model", "archives"}
    assert indicators["archives"].manual and not indicators["council_model"].manual
    archives = indicators["archives"]
    assert (archives.in_quarter, archives.in_half, archives.in_year) == (False, False, True)
    body = client.get(reverse("scheme-version", args=[draft.pk])).content.decode()
    assert "仅年度" in body and "季度、半年、年度" in body
    edit = reverse("scheme-indicator-edit", args=[indicators["council_model"].pk])
    assert client.get(edit).status_code == 200
    flipped = client.post(edit, {**INDICATOR, "rule": "linear", "low": "3", "high": "1"})
    assert flipped.status_code == 400 and "上限应大于下限。" in flipped.content.decode()
    no_evaluation = {k: v for k, v in INDICATOR.items() if k not in EVERY_EVALUATION}
    none = client.post(edit, no_evaluation)
    assert none.status_code == 400 and "请至少选择一种考核" in none.content.decode()
    saved = client.post(edit, {**INDICATOR, "max_score": "7"})
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    delete = reverse("scheme-indicator-delete", args=[indicators["archives"].pk])
    assert client.post(delete).status_code == 302
    with a.scope():
        left = list(SchemeIndicator.objects.filter(version=draft).values_list("key", "max_score"))
    assert left == [("council_model", 7)]


def test_put_in_use_then_frozen_then_copied(client, a, version):
    as_user(client, a)
    response = client.post(reverse("scheme-version-activate", args=[version.pk]))
    assert response.status_code == 302
    body = client.get(reverse("scheme-version", args=[version.pk])).content.decode()
    assert "使用中" in body and "复制为新版本" in body and "添加指标" not in body
    with a.scope():
        indicator = SchemeIndicator.objects.filter(version=version).first()
    refused = client.post(
        reverse("scheme-indicator-edit", args=[indicator.pk]),
        {**INDICATOR, "computed": indicator.key, "max_score": "1"},
    )
    assert refused.status_code == 400 and "复制为新版本" in refused.content.decode()
    refused = client.post(reverse("scheme-indicator-delete", args=[indicator.pk]))
    assert refused.status_code == 400
    copied = client.post(reverse("scheme-version-copy", args=[version.pk]))
    assert copied.status_code == 302
    with a.scope():
        draft = SchemeVersion.objects.get(scheme=version.scheme, number=2)
    assert copied.url == reverse("scheme-version", args=[draft.pk])
    again = client.post(reverse("scheme-version-copy", args=[version.pk]))
    assert again.status_code == 400 and "已有草稿(第2版)" in again.content.decode()


def test_an_empty_draft_cannot_be_put_in_use(client, a):
    as_user(client, a)
    client.post(
        reverse("scheme-create", args=[a.county.pk]),
        {"year": 2029, "name": "空", "first_class_min": "90", "qualified_min": "70"},
    )
    with a.scope():
        draft = SchemeVersion.objects.get(scheme__year=2029)
    response = client.post(reverse("scheme-version-activate", args=[draft.pk]))
    assert response.status_code == 400 and "还没有村级指标" in response.content.decode()
