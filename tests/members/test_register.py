"""新增会员: a new person and their membership in one form, the person search, the one-time
form token, the duplicate-person guidance, the kept group and the phone keyboards."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse

from associations.models import ChangeRecord, FormSubmission
from households.identity import mask_id_number, mask_name
from households.models import Person
from members import services
from members.models import Member
from tests.conftest import make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date


def register_url(village, **params) -> str:
    url = reverse("member-register", kwargs={"pk": village.pk})
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def body_of(response) -> str:
    return response.content.decode()


def new_person_data(a, **fields) -> dict:
    data = {
        "name": "王秀英",
        "id_number": make_id_number("130534", D(1985, 6, 15), 201, "female"),
        "phone": "138 1234 5678",
        "marital_status": "married",
        "residency": "registered",
        "ethnicity": "01",
        "group": a.groups[1].pk,
        "categories": ["fertile_activist"],
        "joined_on": "2026-01-05",
        "form_token": str(uuid.uuid4()),
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def secretary(client, world):
    client.force_login(world.a.users["village_secretary"])
    return world.a


def members_of(a, id_number) -> list[Member]:
    with a.scope():
        return list(Member.objects.filter(person__id_number=id_number).select_related("person"))


# --- one pass ---------------------------------------------------------------------------------


def test_one_post_creates_the_person_and_the_membership(client, secretary):
    a = secretary
    data = new_person_data(a)
    response = client.post(register_url(a.villages[0]), data)
    assert response.status_code == 302, body_of(response)[:2000]
    [member] = members_of(a, data["id_number"])
    assert response.url == reverse("member-detail", kwargs={"pk": member.pk}) + "?registered=1"
    person = member.person
    # Sex and birth date come from the ID number.
    assert (person.sex, person.birth_date) == ("female", D(1985, 6, 15))
    assert (person.name, person.phone, person.marital_status) == (
        "王秀英",
        "13812345678",
        "married",
    )
    assert (person.village_id, person.group_id) == (a.villages[0].pk, a.groups[1].pk)
    assert (member.association_id, member.group_id) == (a.villages[0].pk, a.groups[1].pk)
    assert member.categories == ["fertile_activist"] and member.joined_on == D(2026, 1, 5)
    with a.scope():
        created = set(
            ChangeRecord.objects.filter(action="create", actor=a.users["village_secretary"])
            .filter(object_id__in=[person.pk, member.pk])
            .values_list("object_type", flat=True)
        )
    assert created == {"households.Person", "members.Member"}
    # The result page names the member and opens the form again with the same group.
    detail = body_of(client.get(response.url))
    assert f"已登记会员 王秀英,会员证号 {member.member_number}。" in detail
    continue_url = register_url(a.villages[0], group=a.groups[1].pk)
    assert f'href="{continue_url}">继续新增' in detail


def test_the_group_is_kept_for_the_next_member(client, secretary):
    a = secretary
    page = body_of(client.get(register_url(a.villages[0], group=a.groups[1].pk)))
    assert re.search(rf'value="{a.groups[1].pk}"[^>]*checked', page)
    assert not re.search(rf'value="{a.groups[0].pk}"[^>]*checked', page)
    # Another village's group in the link is not offered, let alone chosen.
    page = body_of(client.get(register_url(a.villages[0], group=a.groups[2].pk)))
    assert f'value="{a.groups[2].pk}"' not in page
    # Without the parameter no group is chosen for the user.
    page = body_of(client.get(register_url(a.villages[0])))
    assert not re.search(rf'value="{a.groups[1].pk}"[^>]*checked', page)


def test_marital_status_is_required_with_nothing_chosen_beforehand(client, secretary):
    a = secretary
    page = body_of(client.get(register_url(a.villages[0])))
    marital = re.findall(r'<input type="radio" name="marital_status"[^>]*>', page)
    assert len(marital) == 4 and not any("checked" in tag for tag in marital)
    data = new_person_data(a, marital_status=None)
    response = client.post(register_url(a.villages[0]), data)
    assert response.status_code == 400
    body = body_of(response)
    assert "请选择婚姻状况。" in body
    assert 'value="王秀英"' in body and f'value="{data["id_number"]}"' in body  # typed, kept
    assert re.search(rf'value="{a.groups[1].pk}"[^>]*checked', body)
    assert members_of(a, data["id_number"]) == []
    with a.scope():
        assert not Person.objects.filter(id_number=data["id_number"]).exists()


def test_a_person_without_an_id_number_gives_sex_and_birth_date(client, secretary):
    a = secretary
    data = new_person_data(a, id_number="", name="无证")
    response = client.post(register_url(a.villages[0]), data)
    assert response.status_code == 400
    assert "请填写出生日期或身份证号码。" in body_of(response)
    data.update(sex="male", birth_date="1950-02-03")
    response = client.post(register_url(a.villages[0]), data)
    assert response.status_code == 302
    with a.scope():
        person = Person.objects.get(name="无证")
    assert (person.sex, person.birth_date, person.id_number) == ("male", D(1950, 2, 3), None)


# --- the one-time token -----------------------------------------------------------------------


def test_a_form_sent_twice_registers_once(client, secretary):
    a = secretary
    data = new_person_data(a)
    first = client.post(register_url(a.villages[0]), data)
    second = client.post(register_url(a.villages[0]), data)
    [member] = members_of(a, data["id_number"])
    assert first.status_code == second.status_code == 302
    assert (
        first.url
        == second.url
        == reverse("member-detail", kwargs={"pk": member.pk}) + ("?registered=1")
    )
    assert "这张表单已经提交过" in body_of(client.get(second.url))
    with a.scope():
        submission = FormSubmission.objects.get(token=data["form_token"])
    assert (submission.object_type, submission.object_id) == ("members.Member", member.pk)
    assert submission.user_id == a.users["village_secretary"].pk
    assert submission.village_id == a.villages[0].pk


def test_a_refused_sending_leaves_the_token_free(client, secretary):
    a = secretary
    data = new_person_data(a, marital_status=None)
    assert client.post(register_url(a.villages[0]), data).status_code == 400
    data["marital_status"] = "widowed"
    assert client.post(register_url(a.villages[0]), data).status_code == 302
    assert len(members_of(a, data["id_number"])) == 1


def test_the_service_returns_the_first_member_for_a_used_token(world):
    a = world.a
    token = uuid.uuid4()
    person = {
        "name": "李桂兰",
        "id_number": make_id_number("130534", D(1970, 1, 2), 202, "female"),
        "marital_status": "married",
    }
    with a.scope():
        first = services.member_register_new_person(
            actor=a.users["county_admin"],
            association=a.villages[0],
            person_fields=person,
            form_token=token,
        )
        again = services.member_register_new_person(
            actor=a.users["county_admin"],
            association=a.villages[0],
            person_fields={**person, "name": "别的名字"},
            form_token=token,
        )
        assert again.pk == first.pk and again.replayed
        assert Person.objects.filter(id_number=person["id_number"]).count() == 1
        # Without a token (API clients, imports) nothing is remembered.
        assert not FormSubmission.objects.filter(object_id=first.pk).exclude(token=token).exists()


def test_the_existing_person_form_is_protected_too(client, secretary):
    a = secretary
    spouse = a.persons[1]
    data = {"joined_on": "2026-01-05", "form_token": str(uuid.uuid4())}
    url = register_url(a.villages[0], person=spouse.pk)
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    with a.scope():
        assert Member.objects.filter(person=spouse).count() == 1


def test_the_person_form_creates_once(client, secretary):
    a = secretary
    data = {
        "name": "单身",
        "sex": "male",
        "birth_date": "1990-01-01",
        "ethnicity": "01",
        "residency": "registered",
        "marital_status": "unmarried",
        "form_token": str(uuid.uuid4()),
    }
    url = reverse("person-create", kwargs={"pk": a.villages[0].pk})
    first, second = client.post(url, data), client.post(url, data)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    with a.scope():
        assert Person.objects.filter(name="单身").count() == 1


# --- the duplicate person ---------------------------------------------------------------------


def test_an_id_number_of_this_village_offers_that_person(client, secretary):
    a = secretary
    spouse = a.persons[1]  # recorded in village 0, not a member
    data = new_person_data(a, id_number=spouse.id_number, name="重复")
    response = client.post(register_url(a.villages[0]), data)
    assert response.status_code == 400
    body = body_of(response)
    assert (
        f"身份证号码 {mask_id_number(spouse.id_number)} 已登记为本村0001户的“{spouse.name}”" in body
    )
    offer = register_url(a.villages[0], person=spouse.pk, group=a.groups[1].pk)
    assert f'href="{offer.replace("&", "&amp;")}">登记此人为会员' in body
    with a.scope():
        assert not Person.objects.filter(name="重复").exists()
    # Following the offer: the person is chosen and registers in one more tap.
    page = client.get(offer)
    assert page.status_code == 200 and spouse.name in body_of(page)
    assert client.post(offer, {"joined_on": "2026-01-05"}).status_code == 302


def test_an_id_number_of_a_member_here_links_to_the_member(client, secretary):
    a = secretary
    head, member = a.persons[0], a.members[0]
    response = client.post(
        register_url(a.villages[0]), new_person_data(a, id_number=head.id_number)
    )
    assert response.status_code == 400
    body = body_of(response)
    assert "此人已是本会会员(会员证号 0001)" in body
    assert reverse("member-detail", kwargs={"pk": member.pk}) in body


def test_an_id_number_elsewhere_in_the_county_says_only_elsewhere(client, secretary):
    a = secretary
    elsewhere = a.persons[3]  # village 1's spouse, outside the secretary's village
    response = client.post(
        register_url(a.villages[0]), new_person_data(a, id_number=elsewhere.id_number)
    )
    assert response.status_code == 400
    body = body_of(response)
    # Issue 12: a village secretary learns only that the number is registered elsewhere.
    message = "该身份证号码已在本县其他村登记,请联系乡镇办理迁移,不要重复登记。"
    assert f'<p class="error">{message}</p>' in body
    assert "0002户" not in body and f"姓名“{mask_name(elsewhere.name)}”" not in body
    assert elsewhere.name not in body and "登记此人为会员" not in body
    assert str(elsewhere.pk) not in re.findall(r"person=(\d+)", body)


# --- the person search ------------------------------------------------------------------------


def search(client, village, q, **params):
    url = reverse("member-candidates", kwargs={"pk": village.pk})
    return client.get(url, {"q": q, **params})


def test_search_by_name_and_initials_never_by_id_digits(client, secretary):
    a = secretary
    admin = a.users["county_admin"]
    from households import services as household_services

    with a.scope():
        zhang = household_services.person_create(
            actor=admin,
            village=a.villages[0],
            name="张桂芳",
            id_number=make_id_number("130534", D(1966, 3, 3), 303, "female"),
            marital_status="married",
        )
    register = register_url(a.villages[0], person=zhang.pk)
    for query in (zhang.id_number[-4:], zhang.id_number[-6:]):  # no partial matches (issue 12)
        assert register.replace("&", "&amp;") not in body_of(search(client, a.villages[0], query))
    for query in ("张桂", "zgf", "ZG"):
        response = search(client, a.villages[0], query)
        assert response.status_code == 200
        body = body_of(response)
        assert register.replace("&", "&amp;") in body, query
        assert mask_id_number(zhang.id_number) in body and zhang.id_number not in body
    # The group already chosen on the form rides along to the chosen person's form.
    body = body_of(search(client, a.villages[0], "张桂", group=a.groups[1].pk))
    assert f"person={zhang.pk}&amp;group={a.groups[1].pk}" in body
    # Members of the association are not offered again.
    body = body_of(search(client, a.villages[0], a.persons[0].name))
    assert f"person={a.persons[0].pk}" not in body and "没有找到" in body
    # Without the script the page itself answers (?find=).
    page = body_of(client.get(register_url(a.villages[0]), {"find": "zgf"}))
    assert register.replace("&", "&amp;") in page


def test_search_never_reaches_another_village_or_county(client, world):
    a, b = world.a, world.b
    sibling_person, other_county_person = a.persons[3], b.persons[1]
    for role in ("village_secretary", "county_admin"):
        client.force_login(a.users[role])
        for query in (
            sibling_person.name,
            sibling_person.id_number,
            other_county_person.name,
            other_county_person.id_number,
        ):
            body = body_of(search(client, a.villages[0], query))
            assert f"person={sibling_person.pk}" not in body, (role, query)
            assert f"person={other_county_person.pk}" not in body, (role, query)
    client.force_login(a.users["village_secretary"])
    assert search(client, a.villages[1], "乙").status_code == 404  # a sibling village
    assert search(client, b.villages[0], "乙").status_code == 404  # another county
    assert search(client, a.groups[0], "乙").status_code == 404  # not a village
    client.force_login(a.users["county_viewer"])
    assert search(client, a.villages[0], "乙").status_code == 403
    client.force_login(a.users["group_leader"])
    assert search(client, a.villages[0], "乙").status_code == 404


# --- drafts and phone keyboards ---------------------------------------------------------------


def test_the_draft_is_named_on_the_form_and_dropped_after_the_save(client, secretary):
    a = secretary
    user = a.users["village_secretary"]
    key = f"{register_url(a.villages[0])}#u{user.pk}"
    page = body_of(client.get(register_url(a.villages[0], group=a.groups[0].pk)))
    assert f'data-draft="{key}"' in page and "data-draft-bound" not in page
    assert re.search(r'name="form_token" value="[0-9a-f-]{36}"', page)
    refused = body_of(client.post(register_url(a.villages[0]), new_person_data(a, name="")))
    assert f'data-draft="{key}"' in refused and "data-draft-bound" in refused
    response = client.post(register_url(a.villages[0]), new_person_data(a), follow=True)
    assert f'<meta name="draft-saved" content="{key}">' in body_of(response)
    assert "draft-saved" not in body_of(client.get(reverse("member-list")))  # said once


def test_phone_keyboards_on_identity_fields(client, secretary):
    a = secretary
    for url in (
        register_url(a.villages[0]),
        reverse("person-create", kwargs={"pk": a.villages[0].pk}),
    ):
        page = body_of(client.get(url))
        [id_input] = re.findall(r'<input[^>]*name="id_number"[^>]*>', page)
        assert 'inputmode="numeric"' in id_input and 'autocomplete="off"' in id_input
        assert 'pattern="[0-9]{17}[0-9Xx]|[0-9]{15}"' in id_input and "data-id-number" in id_input
        [phone] = re.findall(r'<input[^>]*name="phone"[^>]*>', page)
        assert 'type="tel"' in phone and 'inputmode="tel"' in phone
        assert 'autocomplete="off"' in phone
        assert "js/forms.js" in page
