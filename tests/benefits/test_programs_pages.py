"""The programme, candidates and re-confirmation pages: who may do what, and what they show."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from benefits.models import Enrollment, EnrollmentStatus, Program, ProgramTemplate, Reconfirmation
from tests.conftest import login

from .factories_programs import WORLD_PROGRAM, families, program_from_template, this_year

pytestmark = pytest.mark.django_db

ROLES = ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]


def _program_form(**overrides) -> dict:
    data = {
        "name": "农村部分计划生育家庭奖励扶助",
        "kind": "allowance",
        "frequency": "yearly",
        "beneficiary_kind": "person",
        "standard_amount": "720.00",
        "funding_source": "中央和地方财政",
        "needs_notice": "on",
        "notice_days": "7",
        "is_active": "on",
        "rule_categories": ["one_child", "two_daughters", "bereaved"],
        "rule_relations": ["head", "spouse"],
        "rule_min_age": "60",
        "rule_age_on": "year_end",
        "rule_residencies": ["registered", "outflow"],
        "rule_registration_kind": "agricultural",
        "rule_child_disability_max_grade": "3",
        "form_token": str(uuid.uuid4()),
        "rates-TOTAL_FORMS": "2",
        "rates-INITIAL_FORMS": "0",
        "split-TOTAL_FORMS": "3",
        "split-INITIAL_FORMS": "0",
        "split-0-source": "中央财政",
        "split-0-percent": "50",
        "split-1-source": "省级财政",
        "split-1-percent": "30",
        "split-2-source": "县级财政",
        "split-2-percent": "20",
    }
    data.update(overrides)
    return data


# --- programmes ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_the_programmes_only_the_admin_configures(client, world, role):
    program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    login(client, world.a.users[role])
    page = client.get(reverse("benefit-program-list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "农村部分计划生育家庭奖励扶助" in body
    assert "年满 60 周岁(以当年 12 月 31 日计)" in body
    assert "中央财政 50%" in body
    create = client.get(reverse("benefit-program-create") + "?template=reward_assistance")
    assert create.status_code == (200 if role == "county_admin" else 403)
    assert ("按国家项目模板新建" in body) == (role == "county_admin")


def test_creating_from_a_template_through_the_page(client, world):
    login(client, world.a.users["county_admin"])
    url = reverse("benefit-program-create") + "?template=reward_assistance"
    form = client.get(url).content.decode()
    assert 'value="720.00"' in form and "农村部分计划生育家庭奖励扶助" in form
    assert re.search(r'name="rule_min_age"[^>]*value="60"', form)
    response = client.post(url, _program_form())
    assert response.status_code == 302
    with world.a.scope():
        program = Program.objects.get(name="农村部分计划生育家庭奖励扶助")
    assert program.template == "reward_assistance"
    assert program.rule == {
        "version": 1,
        "categories": ["one_child", "two_daughters", "bereaved"],
        "relations": ["head", "spouse"],
        "min_age": 60,
        "residencies": ["registered", "outflow"],
        "registration_kind": "agricultural",
    }
    assert program.funding_split[0] == {"source": "中央财政", "percent": 50}


def test_the_page_shows_clear_errors_and_keeps_what_was_typed(client, world):
    login(client, world.a.users["county_admin"])
    url = reverse("benefit-program-create") + "?template=reward_assistance"
    response = client.post(url, _program_form(**{"split-2-percent": "10", "rule_max_age": "50"}))
    assert response.status_code == 400
    body = response.content.decode()
    assert "最高年龄(50 周岁)不能小于最低年龄(60 周岁)。" in body
    response = client.post(url, _program_form(**{"split-2-percent": "10"}))
    body = response.content.decode()
    assert "各出资方比例之和须为 100%,现为 90%。" in body
    assert 'value="省级财政"' in body
    with world.a.scope():
        assert not Program.objects.filter(name="农村部分计划生育家庭奖励扶助").exists()


def test_a_form_sent_twice_creates_one_programme(client, world):
    login(client, world.a.users["county_admin"])
    url = reverse("benefit-program-create") + "?template=reward_assistance"
    data = _program_form()
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    with world.a.scope():
        assert Program.objects.filter(name="农村部分计划生育家庭奖励扶助").count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("county_admin", 200),
        ("county_viewer", 403),
        ("township_staff", 404),
        ("village_secretary", 404),
        ("group_leader", 404),
    ],
)
def test_a_programmes_own_page_is_the_countys(client, world, role, status):
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    login(client, world.a.users[role])
    assert client.get(reverse("benefit-program-edit", args=[program.pk])).status_code == status


def test_editing_rates_through_the_page(client, world):
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    login(client, world.a.users["county_admin"])
    url = reverse("benefit-program-edit", args=[program.pk])
    form = client.get(url).content.decode()
    assert 'value="1200.00"' in form and 'value="死亡"' in form
    data = _program_form(
        name=program.name,
        standard_amount="960.00",
        rule_categories=["bereaved", "disabled_child"],
        rule_min_age="",
        rule_mother_min_age="49",
        rule_registration_kind="",
        **{
            "rates-TOTAL_FORMS": "2",
            "rates-0-category": "disabled_child",
            "rates-0-label": "伤残",
            "rates-0-amount": "1080.00",
            "rates-1-category": "bereaved",
            "rates-1-label": "死亡",
            "rates-1-amount": "1440.00",
        },
    )
    del data["form_token"]
    assert client.post(url, data).status_code == 302
    with world.a.scope():
        rates = {r.category: r.amount for r in Program.objects.get(pk=program.pk).rates.all()}
    assert rates == {"disabled_child": Decimal("1080.00"), "bereaved": Decimal("1440.00")}


# --- candidates and applying ---------------------------------------------------------------


def test_candidates_page_counts_and_masks(client, world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    login(client, world.a.users["county_admin"])
    url = reverse("benefit-candidates", args=[world.a.villages[0].pk])
    body = client.get(url, {"program": program.pk, "show": "all"}).content.decode()
    for label, number in (("候选", 8), ("符合条件", 3), ("可申报", 3), ("不符合", 5)):
        assert f"{label} <strong>{number}</strong>" in body
    assert "未满 60 周岁(59 周岁)" in body and "非农业户口" in body
    assert "独生子女户;本人为户主;本人 60 周岁;户籍常住;农业户口" in body
    with world.a.scope():
        full = found["0101"].persons["head"].id_number
    assert full not in body and full[:6] + "*" * 12 in body
    excluded = client.get(url, {"program": program.pk, "show": "excluded"}).content.decode()
    assert "钱秀兰" in excluded and "赵大山" not in excluded


@pytest.mark.parametrize("role", ROLES)
def test_everyone_of_the_subtree_reads_candidates_but_only_appliers_see_the_buttons(
    client, world, role
):
    families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    user = world.a.users[role]
    login(client, user)
    response = client.get(
        reverse("benefit-candidates", args=[user.node_id]), {"program": program.pk}
    )
    assert response.status_code == 200
    body = response.content.decode()
    can_apply = role in ("county_admin", "township_staff", "village_secretary")
    assert ('name="keys"' in body) == can_apply
    expected = {"group_leader": 1}.get(role, 3)  # the first group holds only 0101
    assert f"可申报 <strong>{expected}</strong>" in body


def test_a_sibling_village_or_another_countys_node_is_404(client, world):
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    login(client, world.a.users["village_secretary"])
    for node in (world.a.villages[1], world.b.villages[0]):
        url = reverse("benefit-candidates", args=[node.pk])
        assert client.get(url, {"program": program.pk}).status_code == 404
        apply_url = reverse("benefit-candidates-apply", args=[node.pk])
        assert (
            client.post(apply_url, {"program": program.pk, "year": this_year()}).status_code == 404
        )


@pytest.mark.parametrize(
    ("role", "applies"),
    [
        ("county_admin", True),
        ("township_staff", True),
        ("village_secretary", True),
        ("county_viewer", False),
        ("group_leader", False),
    ],
)
def test_applying_from_a_row(client, world, role, applies):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]
    login(client, world.a.users[role])
    node = world.a.villages[0] if role != "group_leader" else world.a.groups[0]
    response = client.post(
        reverse("benefit-candidates-apply", args=[node.pk]),
        {
            "program": program.pk,
            "year": this_year(),
            "key": head.pk,
            "form_token": str(uuid.uuid4()),
            "back_program": program.pk,
        },
    )
    with world.a.scope():
        created = Enrollment.objects.filter(program=program, person=head).count()
    if applies:
        assert response.status_code == 302
        assert response["Location"].endswith(f"?program={program.pk}")
        assert created == 1
    else:
        assert response.status_code == 403
        assert created == 0


def test_applying_for_the_ticked_rows_and_a_resend(client, world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    login(client, world.a.users["village_secretary"])
    url = reverse("benefit-candidates-apply", args=[world.a.villages[0].pk])
    keys = [found["0103"].persons["head"].pk, found["0103"].persons["spouse"].pk,
            found["0105"].persons["head"].pk]  # fmt: skip
    data = {"program": program.pk, "year": this_year(), "keys": keys,
            "form_token": str(uuid.uuid4()), "note": "村委会评议通过"}  # fmt: skip
    response = client.post(url, data, follow=True)
    body = response.content.decode()
    assert "已申报“计划生育家庭特别扶助”:" in body
    assert (
        "冯志刚未申报:冯志刚不符合“计划生育家庭特别扶助”的条件:女方未满 49 周岁(48 周岁)。" in body
    )
    with world.a.scope():
        rows = Enrollment.objects.filter(program=program).order_by("person__name")
        assert [(r.person.name, r.amount, r.category) for r in rows] == [
            ("吴玉珍", Decimal("1200.00"), "bereaved"),
            ("周德明", Decimal("1200.00"), "bereaved"),
        ]
        assert {e.reason for r in rows for e in r.events.all()} == {"村委会评议通过"}
    again = client.post(url, data, follow=True).content.decode()
    assert "这张申报表已经提交过,没有重复申报。" in again
    with world.a.scope():
        assert Enrollment.objects.filter(program=program).count() == 2


# --- the annual re-confirmation ------------------------------------------------------------


def _world_row(world, county="b", village=0):
    side = getattr(world, county)
    with side.scope():
        return Reconfirmation.objects.select_related("enrollment").get(
            village=side.villages[village], enrollment__program__name=WORLD_PROGRAM
        )


@pytest.mark.parametrize("role", ROLES)
def test_reconfirmation_list_shows_the_subtree(client, world, role):
    user = world.a.users[role]
    login(client, user)
    program = _world_row(world, "a", village=1).enrollment.program_id
    url = reverse("benefit-reconfirmation-list")
    body = client.get(url, {"program": program}).content.decode()
    names = {v.name: v for v in world.a.villages}
    shown = {name for name in names if name in body}
    expected = {
        "county_admin": set(list(names)[1:]),  # the first village stays bare
        "county_viewer": set(list(names)[1:]),
        "township_staff": {world.a.villages[1].name},
        "village_secretary": set(),
        "group_leader": set(),
    }[role]
    assert shown >= expected
    assert world.b.villages[1].name not in body
    assert ("按户籍登记核查" in body) == (role == "county_admin")


def test_the_admin_runs_decides_and_confirms_through_the_pages(client, world):
    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    zhao, zhou = found["0101"].persons["head"], found["0103"].persons["head"]
    login(client, admin)
    apply_url = reverse("benefit-candidates-apply", args=[a.villages[0].pk])
    client.post(apply_url, {"program": program.pk, "year": y, "keys": [zhao.pk, zhou.pk]})
    with a.scope():
        Enrollment.objects.filter(program=program).update(status=EnrollmentStatus.ENROLLED)
        zhao.is_deceased = True
        zhao.save(update_fields=["is_deceased"])
    run = client.post(reverse("benefit-reconfirmation-run"), {"program": program.pk, "year": y})
    assert run.status_code == 302
    listing = client.get(run["Location"]).content.decode()
    assert "有疑点待确认 <strong>1</strong>" in listing and "本人已去世" in listing
    with a.scope():
        flagged = Reconfirmation.objects.get(enrollment__person=zhao, year=y)
    detail_url = reverse("benefit-reconfirmation", args=[flagged.pk])
    detail = client.get(detail_url).content.decode()
    assert "本人已去世" in detail
    assert re.search(r'value="exited"[^>]*checked', detail)
    refused = client.post(detail_url, {"decision": "exited", "reason": ""})
    assert refused.status_code == 400 and "请填写退出原因。" in refused.content.decode()
    assert client.post(detail_url, {"decision": "exited", "reason": "本人去世"}).status_code == 302
    confirm = client.post(
        reverse("benefit-reconfirmation-confirm-unflagged"), {"program": program.pk, "year": y}
    )
    assert confirm.status_code == 302
    with a.scope():
        states = {
            r.enrollment.person_id: (r.decision, r.enrollment.status)
            for r in Reconfirmation.objects.filter(enrollment__program=program, year=y)
        }
    assert states == {zhao.pk: ("exited", "exited"), zhou.pk: ("confirmed", "enrolled")}


@pytest.mark.parametrize("role", ["county_viewer", "township_staff", "village_secretary"])
def test_only_the_admin_reconfirms(client, world, role):
    user = world.a.users[role]
    login(client, user)
    row = _world_row(world, "a", village=1)
    program_id = row.enrollment.program_id
    data = {"program": program_id, "year": this_year()}
    assert client.post(reverse("benefit-reconfirmation-run"), data).status_code == 403
    url = reverse("benefit-reconfirmation-confirm-unflagged")
    assert client.post(url, data).status_code == 403
    detail = reverse("benefit-reconfirmation", args=[row.pk])
    expected = 404 if role == "village_secretary" else 200  # the second village is a sibling's
    assert client.get(detail).status_code == expected
    response = client.post(detail, {"decision": "exited", "reason": "试图退出"})
    assert response.status_code == (404 if role == "village_secretary" else 403)
    with world.a.scope():
        assert Reconfirmation.objects.get(pk=row.pk).decision == "pending"


def test_home_links_to_the_parts(client, world):
    login(client, world.a.users["village_secretary"])
    body = client.get(reverse("benefits-home")).content.decode()
    assert reverse("benefit-program-list") in body
    assert reverse("benefit-candidates", args=[world.a.villages[0].pk]) in body
    assert reverse("benefit-reconfirmation-list") in body


def test_a_stored_rule_this_version_cannot_read_is_said_not_failed(client, world):
    """A programme whose stored rule is not of the rule language (written by hand, or by an
    older version): the pages say so and refuse to judge instead of failing."""
    families(world)
    with world.a.scope():
        program = Program.objects.create(
            county=world.a.county, name="手写条件的项目", kind="grant", frequency="one_off",
            standard_amount=Decimal("100"), rule={"all": [{"fact": "age", ">=": 60}]},
        )  # fmt: skip
    login(client, world.a.users["county_admin"])
    listing = client.get(reverse("benefit-program-list")).content.decode()
    assert "该项目保存的资格条件无法识别" in listing
    edit = client.get(reverse("benefit-program-edit", args=[program.pk]))
    assert edit.status_code == 200 and "资格条件无法识别" in edit.content.decode()
    url = reverse("benefit-candidates", args=[world.a.villages[0].pk])
    page = client.get(url, {"program": program.pk})
    assert page.status_code == 200
    assert "“手写条件的项目”:该项目保存的资格条件无法识别" in page.content.decode()
    applied = client.post(
        reverse("benefit-candidates-apply", args=[world.a.villages[0].pk]),
        {"program": program.pk, "year": this_year(), "key": world.a.persons[0].pk},
        follow=True,
    )
    assert "资格条件无法识别" in applied.content.decode()
    with world.a.scope():
        assert not Enrollment.objects.filter(program=program).exists()
