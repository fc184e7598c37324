"""The households pages: lists (scope, masking, search, filters, peek pagination), the
household page and its forms, person pages, household create/edit/move, figures and the
hardship roster."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from associations.models import ChangeRecord
from associations.scope import Scope, activate
from households import services
from households.identity import mask_id_number
from households.models import AssistanceRecord, HardshipAssessment, Household, Person

from ..conftest import make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = timezone.localdate()


def years_ago(years: int, days: int = 0) -> datetime.date:
    return TODAY.replace(year=TODAY.year - years) - datetime.timedelta(days=days)


def get(client, user, name, query=None, **kwargs):
    client.force_login(user)
    return client.get(reverse(name, kwargs=kwargs or None), query or {})


def text(response) -> str:
    return response.content.decode()


def linked_ids(body: str, prefix: str) -> set[int]:
    return {int(pk) for pk in re.findall(rf'href="/{prefix}/(\d+)/"', body)}


def visible_text(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", body))


def add_person(world_a, village_index=0, **fields):
    village = world_a.villages[village_index]
    fields.setdefault("name", "王秀英")
    with activate(Scope.for_node(village)):
        return services.person_create(
            actor=world_a.users["county_admin"], village=village, **fields
        )


def add_daughters(world_a, household_index=0, count=2):
    household = world_a.households[household_index]
    with activate(Scope.for_node(world_a.county)):
        household = Household.objects.get(pk=household.pk)
        for n in range(count):
            services.person_create(
                actor=world_a.users["county_admin"],
                village=household.village,
                household=household,
                name=f"女儿{n + 1}",
                sex="female",
                birth_date=years_ago(10 + n),
                relation_to_head="daughter",
            )


# --- lists: scope and masking --------------------------------------------------------------

EXPECTED_HOUSEHOLDS = {
    "county_admin": [0, 1, 2, 3],
    "county_viewer": [0, 1, 2, 3],
    "township_staff": [0, 1],
    "village_secretary": [0],
    "group_leader": [0],  # the first household sits in the first village's first group
}


@pytest.mark.parametrize("role", sorted(EXPECTED_HOUSEHOLDS))
def test_lists_show_only_the_subtree_with_masked_ids(client, world, role):
    a = world.a
    user = a.users[role]
    indexes = EXPECTED_HOUSEHOLDS[role]
    body = text(get(client, user, "person-list"))
    expected_people = {
        p.pk for p in a.persons if p.household_id in {a.households[i].pk for i in indexes}
    }
    assert linked_ids(body, "people") == expected_people
    for person in [*a.persons, *world.b.persons]:
        assert person.id_number not in body  # lists are ALWAYS masked, whatever the role
    assert mask_id_number(a.persons[0].id_number) in body

    body = text(get(client, user, "household-list"))
    assert linked_ids(body, "households") == {a.households[i].pk for i in indexes}
    for person in a.persons:
        assert person.id_number not in body
    for household in world.b.households:
        assert f'href="/households/{household.pk}/"' not in body


def test_detail_pages_show_full_id_only_to_the_roles_allowed(client, world):
    a = world.a
    person, household = a.persons[0], a.households[0]
    secretary, township = a.users["village_secretary"], a.users["township_staff"]
    assert person.id_number in text(get(client, secretary, "person-detail", pk=person.pk))
    assert person.id_number in text(get(client, secretary, "household-detail", pk=household.pk))
    for name, pk in (("person-detail", person.pk), ("household-detail", household.pk)):
        body = text(get(client, township, name, pk=pk))
        assert person.id_number not in body
        assert mask_id_number(person.id_number) in body
        assert "已脱敏" in body


def test_foreign_rows_are_404(client, world):
    a, b = world.a, world.b
    secretary = a.users["village_secretary"]
    assert get(client, secretary, "person-detail", pk=a.persons[2].pk).status_code == 404
    assert get(client, secretary, "household-detail", pk=a.households[1].pk).status_code == 404
    admin = a.users["county_admin"]
    assert get(client, admin, "household-detail", pk=b.households[0].pk).status_code == 404
    client.force_login(admin)
    url = reverse("household-member-add", kwargs={"pk": b.households[0].pk})
    assert client.post(url, {"member-name": "越界"}).status_code == 404
    url = reverse("person-remove-from-household", kwargs={"pk": b.persons[0].pk})
    assert client.post(url).status_code == 404
    with activate(Scope.for_node(b.county)):
        assert Person.objects.get(pk=b.persons[0].pk).household_id == b.households[0].pk


# --- search and filters --------------------------------------------------------------------


def test_search_by_name_initials_and_household_number_never_a_full_number(client, world):
    a = world.a
    ouyang = add_person(a, name="欧阳娜娜", sex="female", birth_date=D(1990, 5, 1))
    admin = a.users["county_admin"]

    def people(q):
        return linked_ids(text(get(client, admin, "person-list", {"q": q})), "people")

    assert people("欧阳") == {ouyang.pk}
    assert people("oyn") == {ouyang.pk}
    assert people("OYNN") == {ouyang.pk}
    # A full ID number is refused in the URL (issue 12): the lookup is a POST.
    assert get(client, admin, "person-list", {"q": a.persons[2].id_number}).status_code == 400
    assert people("0003") == {a.persons[4].pk, a.persons[5].pk}

    def households(q):
        return linked_ids(text(get(client, admin, "household-list", {"q": q})), "households")

    assert households("0002") == {a.households[1].pk}
    response = get(client, admin, "household-list", {"q": a.persons[6].id_number})
    assert response.status_code == 400 and "网址中不能包含完整的身份证号码" in text(response)


def test_filters_residency_category_and_age(client, world):
    a = world.a
    admin = a.users["county_admin"]
    migrant = add_person(
        a, village_index=1, name="流入者", sex="male", birth_date=D(1995, 1, 1), residency="inflow"
    )
    body = text(get(client, admin, "person-list", {"residency": "inflow"}))
    assert linked_ids(body, "people") == {migrant.pk}
    assert '<option value="inflow" selected>' in body

    add_daughters(a, household_index=0)
    body = text(get(client, admin, "household-list", {"category": "two_daughters"}))
    assert linked_ids(body, "households") == {a.households[0].pk}
    assert "双女户" in body
    body = text(get(client, admin, "person-list", {"category": "two_daughters"}))
    assert len(linked_ids(body, "people")) == 4

    # Heads and spouses were born 1980-1985; the daughters are 10 and 11.
    body = text(get(client, admin, "person-list", {"age_min": 9, "age_max": 10}))
    with activate(Scope.for_node(a.county)):
        first = Person.objects.get(name="女儿1")
        second = Person.objects.get(name="女儿2")
    assert linked_ids(body, "people") == {first.pk}
    body = text(get(client, admin, "person-list", {"age_min": 10, "age_max": 11}))
    assert linked_ids(body, "people") == {first.pk, second.pk}
    body = text(get(client, admin, "person-list", {"age_min": 30}))
    assert first.pk not in linked_ids(body, "people")
    assert a.persons[0].pk in linked_ids(body, "people")


@pytest.mark.parametrize("bad", ["-1", "151", "3.8e16", "abc"])
def test_an_age_outside_0_to_150_is_shown_in_the_filter_panel(client, world, bad):
    """Like any filter that does not parse: the panel opens on the message, the age is not
    applied, the other filters are."""
    a = world.a
    response = get(client, a.users["county_admin"], "person-list", {"age_max": bad, "sex": "male"})
    assert response.status_code == 200
    body = text(response)
    assert '<details class="more-filters" open data-fold-on-phone>' in body
    assert '<p class="error">年龄应为 0 到 150 之间的整数。</p>' in body
    men = {p.pk for p in a.persons if p.sex == "male"}
    assert linked_ids(body, "people") == men


def test_a_group_leaders_linked_under_still_filters_his_list(client, world):
    """His panel offers no `under` (he has only his group), but a link's ?under= applies."""
    a = world.a
    leader = a.users["group_leader"]
    body = text(get(client, leader, "person-list", {"under": a.groups[0].pk}))
    assert linked_ids(body, "people") == {a.persons[0].pk, a.persons[1].pk}
    body = text(get(client, leader, "person-list", {"under": a.groups[1].pk}))
    assert linked_ids(body, "people") == set()


def test_under_offers_the_users_subtree(client, world):
    a = world.a
    body = text(get(client, a.users["township_staff"], "person-list"))
    assert f'<option value="{a.villages[0].pk}">{a.villages[0].name}</option>' in body
    assert f'<option value="{a.villages[2].pk}">' not in body  # another township's village
    body = text(get(client, a.users["township_staff"], "person-list", {"under": a.villages[1].pk}))
    assert linked_ids(body, "people") == {a.persons[2].pk, a.persons[3].pk}
    # A node out of scope filters to nothing rather than widening anything.
    body = text(get(client, a.users["township_staff"], "person-list", {"under": a.villages[2].pk}))
    assert linked_ids(body, "people") == set()


# --- peek pagination -----------------------------------------------------------------------


def test_pagination_peeks_and_never_counts(client, world):
    a = world.a
    for n in range(31):
        add_person(
            a,
            name=f"测试{n:02d}",
            sex="male",
            birth_date=D(2000, 1, 1) + datetime.timedelta(days=n),
        )
    user = a.users["village_secretary"]
    client.force_login(user)
    url = reverse("person-list")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"under": a.villages[0].pk, "sex": "male"})
    assert response.status_code == 200
    # The list is never counted whole: a small match is counted up to a cap, no further.
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 1001" in sql for sql in counts), counts
    body = text(response)
    assert "符合条件的共 32 条" in body
    assert "下一页" in body and "上一页" not in body
    page = response.context["page"]
    assert len(page.object_list) == 30 and page.has_next
    next_url = page.next_url
    assert (
        f"under={a.villages[0].pk}" in next_url and "sex=male" in next_url and "page=2" in next_url
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url + next_url)
    body = text(response)
    assert len(response.context["page"].object_list) == 2  # 31 men added, and the head
    # The last page counts itself: no COUNT, no estimate.
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() or "EXPLAIN" in q["sql"]]
    assert "符合条件的共 32 条" in body
    assert "上一页" in body and "下一页" not in body
    assert "第 31–32 条" in body
    # A page past the end says so instead of failing.
    response = client.get(url, {"page": 99})
    assert response.status_code == 200 and "没有更多记录了" in text(response)
    assert client.get(url, {"page": "abc"}).status_code == 200


def test_household_list_counts_members_for_the_page_only(client, world):
    a = world.a
    client.force_login(a.users["county_admin"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("household-list"))
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and " IN (" in counts[0]  # the page's households only
    assert [h.member_count for h in response.context["page"].object_list] == [2, 2, 2, 2]


# --- the household page --------------------------------------------------------------------


def member_data(**fields):
    data = {
        "member-name": "",
        "member-id_number": "",
        "member-sex": "",
        "member-birth_date": "",
        "member-relation_to_head": "",
        "member-ethnicity": "01",
        "member-residency": "registered",
        "member-marital_status": "unmarried",
    }
    data.update({f"member-{k}": v for k, v in fields.items()})
    return data


def test_add_member_with_a_bad_id_keeps_the_input(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["village_secretary"])
    good = make_id_number("130534", D(2015, 6, 1), 40, "female")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    url = reverse("household-member-add", kwargs={"pk": household.pk})
    response = client.post(
        url, member_data(name="张小红", id_number=bad, relation_to_head="daughter")
    )
    assert response.status_code == 400
    body = text(response)
    assert "身份证号码校验位不正确" in body
    assert 'value="张小红"' in body and f'value="{bad}"' in body
    assert '<details class="fold" id="member" open>' in body
    with activate(Scope.for_node(a.villages[0])):
        assert not Person.objects.filter(name="张小红").exists()


def test_add_two_daughters_then_remove_one(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["village_secretary"])
    url = reverse("household-member-add", kwargs={"pk": household.pk})
    page = reverse("household-detail", kwargs={"pk": household.pk})
    first = make_id_number("130534", D(2014, 3, 1), 41, "female")
    response = client.post(
        url, member_data(name="张大丫", id_number=first, relation_to_head="daughter")
    )
    assert response.status_code == 302 and response.url == page
    response = client.post(
        url,
        member_data(
            name="张二丫", sex="female", birth_date="2017-08-08", relation_to_head="daughter"
        ),
        follow=True,
    )
    body = text(response)
    assert "已将张二丫添加到本户" in body
    assert "张大丫" in body and first in body  # the secretary sees full ID numbers here
    assert '<span class="badge">双女户</span>' in body
    assert '<span class="badge alt">青春少年</span>' in body or "幸福" not in body

    with activate(Scope.for_node(a.villages[0])):
        second = Person.objects.get(name="张二丫")
    assert (second.sex, second.household_id) == ("female", household.pk)
    remove = reverse("person-remove-from-household", kwargs={"pk": second.pk})
    assert "确认移出" in text(client.get(remove))
    response = client.post(remove, follow=True)
    body = text(response)
    assert "已将张二丫移出本户" in body
    assert "双女户" not in body
    with activate(Scope.for_node(a.villages[0])):
        second.refresh_from_db()
        assert second.household_id is None and second.village_id == a.villages[0].pk
        assert ChangeRecord.objects.filter(
            object_type="households.Person", object_id=second.pk
        ).exists()


def test_member_edit_link_returns_to_the_household(client, world):
    a = world.a
    household, person = a.households[0], a.persons[1]
    client.force_login(a.users["village_secretary"])
    page = reverse("household-detail", kwargs={"pk": household.pk})
    body = text(client.get(page))
    edit = reverse("person-edit", kwargs={"pk": person.pk})
    assert f'href="{edit}?next=/households/{household.pk}/"' in body
    response = client.get(edit, {"next": page})
    assert response.status_code == 200 and person.id_number in text(response)
    data = {
        "name": "改名乙",
        "id_number": person.id_number,
        "sex": "female",
        "birth_date": "",
        "relation_to_head": "spouse",
        "ethnicity": "01",
        "residency": "registered",
        "marital_status": "married",
        "married_on": "2004-05-01",
        "mother": "",
        "disability_grade": "",
    }
    response = client.post(f"{edit}?next={page}", data)
    assert response.status_code == 302 and response.url == page
    response = client.post(f"{edit}?next=https://evil.example/", data)
    assert response.url == reverse("person-detail", kwargs={"pk": person.pk})
    with activate(Scope.for_node(a.villages[0])):
        assert Person.objects.get(pk=person.pk).name == "改名乙"


def test_edit_form_does_not_reveal_identity_to_masked_roles(client, world):
    a = world.a
    person = a.persons[0]
    with activate(Scope.for_node(a.villages[0])):
        services.person_update(
            actor=a.users["county_admin"],
            person=Person.objects.get(pk=person.pk),
            phone="13812345678",
        )
    client.force_login(a.users["township_staff"])
    edit = reverse("person-edit", kwargs={"pk": person.pk})
    body = text(client.get(edit))
    assert person.id_number not in body and "13812345678" not in body
    assert mask_id_number(person.id_number) in body and "138******78" in body
    response = client.post(
        edit,
        {
            "name": "新名字",
            "id_number": "",
            "phone": "",
            "sex": "",
            "birth_date": "",
            "relation_to_head": "head",
            "ethnicity": "01",
            "residency": "registered",
            "marital_status": "married",
            "married_on": "2004-05-01",
        },
    )
    assert response.status_code == 302
    with activate(Scope.for_node(a.villages[0])):
        saved = Person.objects.get(pk=person.pk)
    assert (saved.name, saved.id_number, saved.phone) == ("新名字", person.id_number, "13812345678")


def test_record_hardship_and_add_assistance(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["village_secretary"])
    url = reverse("household-hardship-record", kwargs={"pk": household.pk})
    response = client.post(url, {"hardship-year": TODAY.year, "hardship-status": "in_roster"})
    assert response.status_code == 400 and "困难原因" in text(response)
    response = client.post(
        url,
        {
            "hardship-year": TODAY.year,
            "hardship-reasons": ["illness", "poverty"],
            "hardship-status": "in_roster",
            "hardship-notes": "户主长期患病",
            "hardship-assessed_on": TODAY.isoformat(),
        },
        follow=True,
    )
    body = text(response)
    assert f"已登记{TODAY.year}年度困难家庭摸底情况" in body
    assert "因病、贫困" in body and "户主长期患病" in body
    with activate(Scope.for_node(a.villages[0])):
        entry = HardshipAssessment.objects.get(household_id=household.pk)
    assert (entry.year, sorted(entry.reasons)) == (TODAY.year, ["illness", "poverty"])

    url = reverse("household-assistance-add", kwargs={"pk": household.pk})
    base = {
        "assistance-kind": "visit",
        "assistance-given_on": TODAY.isoformat(),
        "assistance-given_by": "县计生协",
    }
    response = client.post(url, base)
    assert response.status_code == 400
    body = text(response)
    assert "请填写金额或物品" in body and 'value="县计生协"' in body
    response = client.post(
        url, {**base, "assistance-amount": "500", "assistance-goods": "米面油"}, follow=True
    )
    body = text(response)
    assert "已登记帮扶记录:慰问" in body and "500.00 元;米面油" in body
    with activate(Scope.for_node(a.villages[0])):
        assert AssistanceRecord.objects.filter(household_id=household.pk).count() == 1
        assert ChangeRecord.objects.filter(
            object_type="households.AssistanceRecord", node_id=a.groups[0].pk
        ).exists()


def test_read_only_roles_get_no_forms_and_403_on_post(client, world):
    a = world.a
    household = a.households[0]
    for role in ("group_leader", "county_viewer"):
        body = text(get(client, a.users[role], "household-detail", pk=household.pk))
        assert "添加成员" not in body and "移出本户" not in body and "登记" not in body
        assert reverse("household-edit", kwargs={"pk": household.pk}) not in body
        assert reverse("person-edit", kwargs={"pk": a.persons[0].pk}) not in body
        response = client.post(
            reverse("household-member-add", kwargs={"pk": household.pk}), member_data(name="无权")
        )
        assert response.status_code == 403
    assert (
        get(client, a.users["county_viewer"], "household-edit", pk=household.pk).status_code == 403
    )


def test_household_page_shows_its_change_records(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["village_secretary"])
    response = client.post(
        reverse("household-edit", kwargs={"pk": household.pk}),
        {
            "number": "0001",
            "group": a.groups[0].pk,
            "head": a.persons[0].pk,
            "address": "幸福路8号",
            "residency": "registered",
            "phone": "0319-8123456",
        },
    )
    assert response.status_code == 302
    body = text(client.get(reverse("household-detail", kwargs={"pk": household.pk})))
    assert "变更记录" in body and "幸福路8号" in body and "住址" in body
    assert "0319-8123456" in body  # the secretary sees the full phone on the detail page
    body = text(get(client, a.users["township_staff"], "household-detail", pk=household.pk))
    assert "0319-8123456" not in body and "0319-******6" in body  # the history diff too
    assert "幸福路8号" in body


# --- household create, edit, move ----------------------------------------------------------


def test_create_household_in_a_village(client, world):
    a = world.a
    village = a.villages[0]
    client.force_login(a.users["village_secretary"])
    url = reverse("household-create", kwargs={"pk": village.pk})
    response = client.get(url)
    assert response.context["form"].initial["number"] == "0002"
    body = text(response)
    assert f'<option value="{a.groups[1].pk}">' in body
    assert f'<option value="{a.groups[2].pk}">' not in body  # another village's group
    response = client.post(url, {"number": "0001", "residency": "registered"})
    assert response.status_code == 400 and "本村已有户编号为 0001 的家庭户" in text(response)
    response = client.post(
        url, {"number": "0002", "residency": "registered", "group": a.groups[2].pk}
    )
    assert response.status_code == 400  # not a group of this village
    response = client.post(url, {"number": "0002", "residency": "inflow", "group": a.groups[1].pk})
    assert response.status_code == 302
    with activate(Scope.for_node(village)):
        created = Household.objects.get(village=village, number="0002")
    assert created.group_id == a.groups[1].pk and "floating" in created.categories
    assert response.url == reverse("household-detail", kwargs={"pk": created.pk})
    # Only villages have households.
    assert client.get(reverse("household-create", kwargs={"pk": a.groups[0].pk})).status_code == 404
    client.force_login(a.users["group_leader"])
    assert client.get(url).status_code == 404  # the village is above the group leader


def test_household_move_by_county_admin_moves_its_persons(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["county_admin"])
    url = reverse("household-move", kwargs={"pk": household.pk})
    body = text(client.get(url))
    assert f'<option value="{a.villages[2].pk}">' in body
    assert f'<option value="{a.villages[0].pk}">' not in body  # where it is now
    response = client.post(url, {"to_village": a.villages[2].pk, "to_group": a.groups[3].pk})
    assert response.status_code == 400 and "会员小组不属于所选的村(社区)" in text(response)
    response = client.post(
        url, {"to_village": a.villages[2].pk, "to_group": a.groups[4].pk, "new_number": "0099"}
    )
    assert response.status_code == 302
    with activate(Scope.for_node(a.county)):
        moved = Household.objects.get(pk=household.pk)
        persons = list(Person.objects.filter(household=moved))
    assert (moved.village_id, moved.group_id, moved.number) == (
        a.villages[2].pk,
        a.groups[4].pk,
        "0099",
    )
    assert {p.village_id for p in persons} == {a.villages[2].pk}
    assert {p.township_id for p in persons} == {a.townships[1].pk}
    body = text(client.get(reverse("household-detail", kwargs={"pk": household.pk})))
    assert (
        "迁移记录" in body and f"从{a.villages[0].name}(原 0001户)迁入{a.villages[2].name}" in body
    )
    body = text(client.get(reverse("person-detail", kwargs={"pk": a.persons[0].pk})))
    assert f"从{a.villages[0].name}" in body and "随户迁移" in body


def test_household_move_needs_both_ends(client, world):
    a = world.a
    household = a.households[0]
    client.force_login(a.users["village_secretary"])
    assert client.get(reverse("household-move", kwargs={"pk": household.pk})).status_code == 403
    client.force_login(a.users["township_staff"])
    url = reverse("household-move", kwargs={"pk": household.pk})
    response = client.post(url, {"to_village": a.villages[2].pk})  # another township's village
    assert response.status_code == 400
    with activate(Scope.for_node(a.county)):
        assert Household.objects.get(pk=household.pk).village_id == a.villages[0].pk
    assert client.post(url, {"to_village": a.villages[1].pk}).status_code == 302


# --- persons -------------------------------------------------------------------------------


def test_register_a_person_without_household_with_upgrade_notice(client, world):
    a = world.a
    village = a.villages[0]
    client.force_login(a.users["village_secretary"])
    url = reverse("person-create", kwargs={"pk": village.pk})
    body = text(client.get(url))
    assert 'inputmode="tel"' in body and 'autocomplete="off"' in body
    assert "relation_to_head" not in body  # no household, no relation
    eighteen = make_id_number("130534", D(1965, 8, 1), 33, "male")
    fifteen = eighteen[:6] + eighteen[8:17]
    response = client.post(
        url,
        {
            "name": "赵老汉",
            "id_number": fifteen,
            "group": a.groups[1].pk,
            "ethnicity": "01",
            "residency": "registered",
            "marital_status": "widowed",
        },
        follow=True,
    )
    body = text(response)
    assert "已登记赵老汉" in body and "已自动升级为 18 位" in body
    assert eighteen in body and "1965年8月1日" in body and "未入户" in body
    with activate(Scope.for_node(village)):
        person = Person.objects.get(name="赵老汉")
    assert (person.sex, person.group_id, person.household_id) == ("male", a.groups[1].pk, None)


def test_person_form_refuses_disagreeing_sex(client, world):
    a = world.a
    client.force_login(a.users["village_secretary"])
    number = make_id_number("130534", D(1990, 3, 7), 21, "female")
    response = client.post(
        reverse("person-create", kwargs={"pk": a.villages[0].pk}),
        {
            "name": "李四",
            "id_number": number,
            "sex": "male",
            "ethnicity": "01",
            "residency": "registered",
            "marital_status": "unmarried",
        },
    )
    assert response.status_code == 400
    assert 'value="李四"' in text(response)


def test_marital_status_has_no_default_on_the_person_forms(client, world):
    a = world.a
    client.force_login(a.users["village_secretary"])
    create = reverse("person-create", kwargs={"pk": a.villages[0].pk})
    household = reverse("household-detail", kwargs={"pk": a.households[0].pk})
    for page, name in ((create, "marital_status"), (household, "member-marital_status")):
        tags = re.findall(rf'<input type="radio" name="{name}"[^>]*>', text(client.get(page)))
        assert len(tags) == 4 and not any("checked" in tag for tag in tags), page
    person = {"name": "未选", "sex": "female", "birth_date": "1990-01-01", "ethnicity": "01"}
    response = client.post(create, {**person, "residency": "registered"})
    assert response.status_code == 400
    assert "请选择婚姻状况。" in text(response) and 'value="未选"' in text(response)
    response = client.post(
        reverse("household-member-add", kwargs={"pk": a.households[0].pk}),
        {f"member-{k}": v for k, v in {**person, "relation_to_head": "daughter"}.items()},
    )
    assert response.status_code == 400 and "请选择婚姻状况。" in text(response)
    with activate(Scope.for_node(a.villages[0])):
        assert not Person.objects.filter(name="未选").exists()
    # Editing shows what is recorded.
    edit = text(client.get(reverse("person-edit", kwargs={"pk": a.persons[1].pk})))
    assert re.search(r'name="marital_status" value="married"[^>]*checked', edit)


def test_person_form_says_what_to_do_with_a_recorded_id_number(client, world):
    a = world.a
    client.force_login(a.users["village_secretary"])
    create = reverse("person-create", kwargs={"pk": a.villages[0].pk})
    data = {
        "name": "重复",
        "ethnicity": "01",
        "residency": "registered",
        "marital_status": "married",
    }
    response = client.post(create, {**data, "id_number": a.persons[1].id_number})
    assert response.status_code == 400
    body = text(response)
    assert "已登记为本村0001户的" in body and "无需重复登记" in body
    assert f'href="{reverse("person-detail", kwargs={"pk": a.persons[1].pk})}"' in body
    response = client.post(create, {**data, "id_number": a.persons[3].id_number})
    body = text(response)
    # A village secretary learns only that the number is registered elsewhere (issue 12).
    assert "该身份证号码已在本县其他村登记,请联系乡镇办理迁移" in body
    assert "查看已登记的此人" not in body


def test_mother_choices_are_women_of_the_household(client, world):
    a = world.a
    add_daughters(a, household_index=0, count=1)
    with activate(Scope.for_node(a.villages[0])):
        daughter = Person.objects.get(name="女儿1")
    client.force_login(a.users["village_secretary"])
    body = client.get(reverse("person-edit", kwargs={"pk": daughter.pk})).content.decode()
    # Read the choices as rendered: after the response the request's scope (and, under
    # row-level security, the rows) are gone.
    select = re.search(r'<select name="mother".*?</select>', body, re.S).group(0)
    mothers = {int(value) for value in re.findall(r'<option value="(\d+)"', select)}
    assert mothers == {a.persons[1].pk}  # not the head (male), not herself, not another household


# --- node pages: figures, hardship roster, links -------------------------------------------


def test_figures_page(client, world):
    a = world.a
    user = a.users["township_staff"]
    response = get(client, user, "node-figures", pk=a.villages[0].pk)
    assert response.status_code == 200
    total = response.context["total"]
    # households (合计, 常住, 流动), 户籍人口, 常住人口, 户籍常住: the head and spouse
    assert total.cells[:6] == [1, 1, 0, 2, 2, 2]
    body = text(response)
    assert "合计" in body and "出生性别比" in body and 'class="table-scroll"' in body
    assert '<main class="wide">' in body  # 33 columns: the page takes a wide screen's width
    assert response.context["period_key"].startswith(f"{TODAY.year}-Q")
    assert "未分小组" not in body
    response = get(client, user, "node-figures", {"period": str(TODAY.year)}, pk=a.townships[0].pk)
    lines = response.context["lines"]
    assert [line.label for line in lines] == [a.villages[0].name, a.villages[1].name]
    assert response.context["total"].cells[3] == 4  # 户籍人口 of two fixture households
    response = get(client, user, "node-figures", {"period": "2026-Q9"}, pk=a.villages[0].pk)
    assert response.status_code == 400
    assert "统计期格式应为" in text(response)


def test_figures_rows_without_a_group(client, world):
    a = world.a
    add_person(a, name="无组者", sex="male", birth_date=D(1970, 1, 1))
    response = get(client, a.users["village_secretary"], "node-figures", pk=a.villages[0].pk)
    labels = [line.label for line in response.context["lines"]]
    assert "未分小组" in labels and a.groups[0].name in labels


def test_hardship_roster_counts(client, world):
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        first, second = (Household.objects.get(pk=a.households[i].pk) for i in (0, 1))
        services.hardship_record(actor=admin, household=first, year=TODAY.year, reasons=["illness"])
        services.hardship_record(
            actor=admin, household=second, year=TODAY.year - 1, reasons=["poverty"]
        )
        services.hardship_record(
            actor=admin, household=second, year=TODAY.year, reasons=["poverty"], status="exited"
        )
    response = get(client, a.users["township_staff"], "node-hardship", pk=a.townships[0].pk)
    assert response.status_code == 200
    assert f"{TODAY.year}年:新增 1 户、退出 1 户、现有 1 户" in visible_text(text(response))
    assert linked_ids(text(response), "households") == {first.pk, second.pk}
    response = get(
        client,
        a.users["township_staff"],
        "node-hardship",
        {"year": TODAY.year - 1},
        pk=a.townships[0].pk,
    )
    assert "新增 1 户、退出 0 户、现有 1 户" in visible_text(text(response))
    response = get(
        client, a.users["township_staff"], "node-hardship", {"year": "20x6"}, pk=a.townships[0].pk
    )
    assert response.status_code == 400 and "年度应为" in text(response)


def test_node_page_links_and_village_buttons(client, world):
    a = world.a
    village = a.villages[0]
    body = text(get(client, a.users["village_secretary"], "node-detail", pk=village.pk))
    assert f'href="/people/?under={village.pk}"' in body
    assert f'href="/households/?under={village.pk}"' in body
    assert reverse("node-figures", kwargs={"pk": village.pk}) in body
    assert reverse("node-hardship", kwargs={"pk": village.pk}) in body
    assert "新建家庭户" in body and "登记人员" in body
    body = text(get(client, a.users["county_viewer"], "node-detail", pk=village.pk))
    assert "新建家庭户" not in body and "人口统计" in body
    body = text(get(client, a.users["county_admin"], "node-detail", pk=a.townships[0].pk))
    assert "新建家庭户" not in body  # only on a village
    assert '<a href="/people/">人员</a>' in body and '<a href="/households/">家庭</a>' in body


# --- isolation of the new routes (until tests/test_isolation.py lists them) ----------------

OBJECT_ROUTES = {
    "household-detail": "household",
    "household-edit": "household",
    "household-move": "household",
    "household-member-add": "household",
    "household-hardship-record": "household",
    "household-assistance-add": "household",
    "household-create": "node",
    "person-detail": "person",
    "person-edit": "person",
    "person-remove-from-household": "person",
    "person-create": "node",
    "node-figures": "node",
    "node-figures-export": "node",
    "node-hardship": "node",
}
READ_ONLY_ROUTES = {
    "household-detail",
    "person-detail",
    "node-figures",
    "node-figures-export",
    "node-hardship",
}


@pytest.mark.parametrize("role", sorted(EXPECTED_HOUSEHOLDS))
def test_foreign_objects_are_404_on_every_route(client, world, role):
    a, b = world.a, world.b
    user = a.users[role]
    own = {a.households[i].pk for i in EXPECTED_HOUSEHOLDS[role]}
    foreign = {
        "household": [b.households[0], *[h for h in a.households if h.pk not in own]],
        "person": [b.persons[0], *[p for p in a.persons if p.household_id not in own]],
        "node": [
            b.villages[0],
            *[v for v in a.villages if getattr(v, f"{user.node.level}_id") != user.node_id],
        ],
    }
    client.force_login(user)
    for route, kind in OBJECT_ROUTES.items():
        for obj in foreign[kind]:
            url = reverse(route, kwargs={"pk": obj.pk})
            assert client.get(url).status_code == 404, url
            if route not in READ_ONLY_ROUTES:
                response = client.post(url, {"name": "改名", "member-name": "改名"})
                assert response.status_code == 404, url
    with activate(Scope.for_node(a.county)):
        assert not Person.objects.filter(name="改名").exists()


def test_under_select_shows_a_linked_node_it_does_not_list(client, world):
    a = world.a
    body = text(get(client, a.users["county_admin"], "person-list", {"under": a.groups[0].pk}))
    assert f'<option value="{a.groups[0].pk}" selected>{a.groups[0].name}</option>' in body
    assert linked_ids(body, "people") == {a.persons[0].pk, a.persons[1].pk}
    assert '<option value="" selected>不限</option>' in body or "不限</option>" in body
