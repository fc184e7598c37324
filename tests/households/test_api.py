"""/api/v1/persons/, /api/v1/households/ and /api/v1/figures/: scope, masking by role, writes
through the services with the project's error format, filters, pagination and query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from associations import services as association_services
from households import identity, services
from households.api.views import LOOKUP_FORBIDDEN
from households.models import Household, Person, Relocation

from ..conftest import PASSWORD, make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date
ROLES = ["county_admin", "county_viewer", "township_staff", "village_secretary", "group_leader"]


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def person_url(person, name="api-person-detail") -> str:
    return reverse(name, kwargs={"pk": person.pk})


def household_url(household, name="api-household-detail") -> str:
    return reverse(name, kwargs={"pk": household.pk})


def field_errors(response, field: str) -> list[dict]:
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    return body["fields"][field]


def field_codes(response, field: str) -> set[str]:
    return {e["code"] for e in field_errors(response, field)}


@pytest.fixture
def with_phone(world):
    """Give the first person of county A a mobile phone (to check its masking)."""
    a = world.a
    with a.scope():
        return services.person_update(
            actor=a.users["county_admin"], person=a.persons[0], phone="13812345678"
        )


# --- authentication and scope ----------------------------------------------------------------


def test_token_client_sees_only_its_village(world):
    client = APIClient()
    response = client.post(
        reverse("api-token"), {"username": "village_secretary_130534", "password": PASSWORD}
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    rows = client.get(reverse("api-person-list")).json()["results"]
    assert {r["id"] for r in rows} == {p.pk for p in world.a.persons[:2]}
    rows = client.get(reverse("api-household-list")).json()["results"]
    assert [r["id"] for r in rows] == [world.a.households[0].pk]
    assert rows[0]["head_name"] == world.a.persons[0].name


def test_unauthenticated_is_401(world):
    response = APIClient().get(reverse("api-person-list"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("role", ROLES)
def test_foreign_persons_and_households_are_404(world, role):
    a, b = world.a, world.b
    client = as_user(a.users[role])
    user = a.users[role]
    key = f"{user.node.level}_id"
    foreign_persons = [b.persons[0], *(p for p in a.persons if getattr(p, key) != user.node_id)]
    for person in foreign_persons:
        assert client.get(person_url(person)).status_code == 404
        response = client.patch(person_url(person), {"name": "改名"}, format="json")
        assert response.status_code == 404
        url = person_url(person, "api-person-remove-from-household")
        assert client.post(url).status_code == 404
    foreign_households = [
        b.households[0],
        *(h for h in a.households if getattr(h, key) != user.node_id),
    ]
    for household in foreign_households:
        assert client.get(household_url(household)).status_code == 404
        response = client.post(
            household_url(household, "api-household-hardship"),
            {"year": 2025, "reasons": ["illness"]},
            format="json",
        )
        assert response.status_code == 404
    with b.scope():
        assert not Person.objects.filter(name="改名").exists()


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_lists_always_mask_id_numbers_and_phones(world, with_phone, role):
    client = as_user(world.a.users[role])
    persons = client.get(reverse("api-person-list"), {"page_size": 500})
    households = client.get(reverse("api-household-list"), {"page_size": 500})
    assert persons.status_code == households.status_code == 200
    assert persons.json()["results"], "every role sees someone"
    body = persons.content.decode() + households.content.decode()
    for person in world.a.persons:
        assert person.id_number not in body
    assert "13812345678" not in body
    first = next((r for r in persons.json()["results"] if r["id"] == world.a.persons[0].pk), None)
    if first is not None:
        assert first["id_number"] == identity.mask_id_number(world.a.persons[0].id_number)
        assert first["phone"] == "138******78"


@pytest.mark.parametrize(
    ("role", "full"),
    [
        ("county_admin", True),
        ("village_secretary", True),
        ("township_staff", False),
        ("county_viewer", False),
        ("group_leader", False),
    ],
)
def test_retrieve_shows_full_identity_only_to_allowed_roles(world, with_phone, role, full):
    person = world.a.persons[0]
    client = as_user(world.a.users[role])
    data = client.get(person_url(person)).json()
    if full:
        assert data["id_number"] == person.id_number
        assert data["phone"] == "13812345678"
    else:
        assert data["id_number"] == identity.mask_id_number(person.id_number)
        assert data["phone"] == "138******78"
    assert data["household_number"] == "0001" and data["village_name"] == world.a.villages[0].name
    members = client.get(household_url(world.a.households[0])).json()["members"]
    shown = {m["id"]: m["id_number"] for m in members}
    expected = person.id_number if full else identity.mask_id_number(person.id_number)
    assert shown[person.pk] == expected


# --- person writes ---------------------------------------------------------------------------


def test_create_person_with_a_15_digit_id_number_upgrades_it(world):
    a = world.a
    old = "130534800101123"
    upgraded = identity.parse_id_number(old).number
    client = as_user(a.users["village_secretary"])
    response = client.post(
        reverse("api-person-list"),
        {
            "household": a.households[0].pk,
            "name": "老号码",
            "id_number": old,
            "relation_to_head": "sibling",
            "phone": "138 1234 5678",
            "marital_status": "married",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["id_number"] == upgraded and len(upgraded) == 18
    assert data["birth_date"] == "1980-01-01" and data["sex"] == "male"
    assert data["phone"] == "13812345678"
    assert data["village"] == a.villages[0].pk and data["group"] == a.groups[0].pk
    assert data["notices"] == [f"15 位身份证号码已自动升级为 18 位:{old} → {upgraded}。"]
    # The notice belongs to that response only.
    again = client.get(reverse("api-person-detail", kwargs={"pk": data["id"]})).json()
    assert again["notices"] == [] and again["id_number"] == upgraded


def test_create_person_in_a_village_without_household(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    response = client.post(
        reverse("api-person-list"),
        {
            "village": a.villages[1].pk,
            "group": a.groups[3].pk,
            "name": "单身汉",
            "sex": "male",
            "birth_date": "1995-03-04",
            "marital_status": "unmarried",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["household"] is None and data["group_name"] == a.groups[3].name
    assert data["id_number"] == "" and data["notices"] == []
    assert data["marital_status"] == "unmarried"
    # No default stands in for the marital status: a person without one is refused.
    response = client.post(
        reverse("api-person-list"),
        {"village": a.villages[1].pk, "name": "未填", "sex": "female", "birth_date": "1990-01-01"},
        format="json",
    )
    assert field_codes(response, "marital_status") == {"required"}
    response = client.post(
        reverse("api-person-list"), {"name": "无处", "marital_status": "married"}, format="json"
    )
    assert field_codes(response, "village") == {"required"}
    response = client.post(
        reverse("api-person-list"),
        {
            "household": a.households[0].pk,
            "village": a.villages[1].pk,
            "name": "矛盾",
            "marital_status": "married",
        },
        format="json",
    )
    assert field_codes(response, "household") == {"household_not_in_village"}


def test_duplicate_id_number_in_another_village_names_where(world):
    a = world.a
    client = as_user(a.users["county_admin"])
    response = client.post(
        reverse("api-person-list"),
        {
            "village": a.villages[1].pk,
            "name": "重复",
            "id_number": a.persons[0].id_number,
            "marital_status": "married",
        },
        format="json",
    )
    errors = field_errors(response, "id_number")
    assert errors[0]["code"] == "person_exists"
    # County staff arrange the relocation: they learn the village, never the household.
    assert f"已登记在{a.villages[0].name}," in errors[0]["message"]
    assert "0001户" not in errors[0]["message"] and a.persons[0].name not in errors[0]["message"]
    assert a.persons[0].id_number not in errors[0]["message"]  # the message masks it


def test_id_number_and_birth_date_must_agree(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    response = client.post(
        reverse("api-person-list"),
        {
            "village": a.villages[0].pk,
            "name": "不符",
            "id_number": make_id_number("130534", D(1990, 5, 5), 77, "female"),
            "birth_date": "1990-05-06",
            "marital_status": "married",
        },
        format="json",
    )
    assert field_codes(response, "birth_date") == {"id_birth_mismatch"}


def test_a_birth_date_after_today_is_refused(world):
    """Found chaining a fuzzed person into a membership: the member's age could not be
    counted, and every member list of the village answered 500."""
    a = world.a
    client = as_user(a.users["county_admin"])
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("api-person-list"),
        {
            "village": a.villages[1].pk,
            "name": "未来人",
            "sex": "male",
            "birth_date": tomorrow,
            "marital_status": "unmarried",
        },
        format="json",
    )
    assert field_errors(response, "birth_date") == [
        {"code": "future_date", "message": "出生日期晚于今天。"}
    ]
    created = client.post(
        reverse("api-person-list"),
        {
            "village": a.villages[1].pk,
            "name": "无证人",
            "sex": "male",
            "birth_date": "1990-01-01",
            "marital_status": "married",
        },
        format="json",
    ).json()
    response = client.patch(
        reverse("api-person-detail", kwargs={"pk": created["id"]}),
        {"birth_date": tomorrow},
        format="json",
    )
    assert field_codes(response, "birth_date") == {"future_date"}
    assert client.get(reverse("api-member-list")).status_code == 200


def test_update_person(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    response = client.patch(
        person_url(a.persons[1]),
        {"phone": "0319 8123456", "disability_grade": 3, "address": " 东街 1 号 "},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["phone"] == "0319-8123456" and data["disability_grade"] == 3
    assert data["address"] == "东街 1 号"
    response = client.patch(person_url(a.persons[1]), {"disability_grade": 7}, format="json")
    assert field_codes(response, "disability_grade") == {"max_value"}
    response = client.patch(person_url(a.persons[1]), {"mother": a.persons[0].pk}, format="json")
    assert field_codes(response, "mother") == {"mother_not_female"}


def test_remove_from_household_and_move(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    spouse = a.persons[1]
    response = client.post(person_url(spouse, "api-person-remove-from-household"))
    assert response.status_code == 200
    assert response.json()["household"] is None and response.json()["relation_to_head"] == ""
    response = client.post(
        person_url(spouse, "api-person-move"),
        {"to_household": a.households[1].pk, "relation_to_head": "spouse"},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["household"] == a.households[1].pk and data["village"] == a.villages[1].pk
    detail = client.get(household_url(a.households[1])).json()
    assert spouse.pk in {m["id"] for m in detail["members"]}
    with a.scope():
        assert Relocation.objects.filter(person=spouse, from_village=a.villages[0]).exists()
    response = client.post(
        person_url(spouse, "api-person-move"),
        {"to_household": a.households[1].pk, "relation_to_head": "spouse"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["non_field_errors"][0]["code"] == "same_household"


def test_foreign_references_are_does_not_exist(world):
    a, b = world.a, world.b
    client = as_user(a.users["county_admin"])
    url = reverse("api-person-list")
    response = client.post(url, {"village": b.villages[0].pk, "name": "越界"}, format="json")
    assert field_codes(response, "village") == {"does_not_exist"}
    response = client.post(url, {"household": b.households[0].pk, "name": "越界"}, format="json")
    assert field_codes(response, "household") == {"does_not_exist"}
    response = client.post(
        url,
        {"village": a.villages[0].pk, "name": "越界", "mother": b.persons[1].pk},
        format="json",
    )
    assert field_codes(response, "mother") == {"does_not_exist"}
    response = client.patch(person_url(a.persons[0]), {"mother": b.persons[1].pk}, format="json")
    assert field_codes(response, "mother") == {"does_not_exist"}
    response = client.post(
        person_url(a.persons[0], "api-person-move"),
        {"to_household": b.households[0].pk, "relation_to_head": "head"},
        format="json",
    )
    assert field_codes(response, "to_household") == {"does_not_exist"}
    response = client.post(
        reverse("api-household-list"),
        {"village": b.villages[0].pk, "number": "9999"},
        format="json",
    )
    assert field_codes(response, "village") == {"does_not_exist"}
    response = client.post(
        household_url(a.households[0], "api-household-move"),
        {"to_village": b.villages[0].pk},
        format="json",
    )
    assert field_codes(response, "to_village") == {"does_not_exist"}
    # A sibling village is as foreign to a village secretary as another county.
    secretary = as_user(a.users["village_secretary"])
    response = secretary.post(url, {"household": a.households[1].pk, "name": "越界"}, format="json")
    assert field_codes(response, "household") == {"does_not_exist"}
    with b.scope():
        assert not Person.objects.filter(name="越界").exists()
        assert not Household.objects.filter(number="9999").exists()
    with a.scope():
        assert not Person.objects.filter(name="越界").exists()


@pytest.mark.parametrize("role", ["group_leader", "county_viewer"])
def test_read_only_roles_cannot_write(world, role):
    a = world.a
    client = as_user(a.users[role])
    person, household = a.persons[0], a.households[0]
    attempts = [
        client.post(
            reverse("api-person-list"),
            {
                "household": household.pk,
                "name": "只读",
                "sex": "male",
                "birth_date": "2000-01-01",
                "marital_status": "unmarried",
            },
            format="json",
        ),
        client.patch(person_url(person), {"name": "只读"}, format="json"),
        client.post(person_url(person, "api-person-remove-from-household")),
        client.patch(household_url(household), {"address": "只读"}, format="json"),
        client.post(
            household_url(household, "api-household-hardship"),
            {"year": 2025, "reasons": ["illness"]},
            format="json",
        ),
        client.post(
            household_url(household, "api-household-assistance"),
            {"kind": "visit", "given_on": "2025-01-01", "goods": "米面", "given_by": "县计生协"},
            format="json",
        ),
    ]
    if role == "county_viewer":
        attempts.append(
            client.post(
                reverse("api-household-list"),
                {"village": a.villages[0].pk, "number": "0777"},
                format="json",
            )
        )
    for response in attempts:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    with a.scope():
        assert not Person.objects.filter(name="只读").exists()
        assert Person.objects.get(pk=person.pk).household_id == household.pk


# --- lookup by ID number ---------------------------------------------------------------------


def test_lookup_by_id_number(world):
    a, b = world.a, world.b
    url = reverse("api-person-lookup")
    target = a.persons[0]
    secretary = as_user(a.users["village_secretary"])
    noisy = f" {target.id_number[:6]} {target.id_number[6:]} ".replace("X", "x")
    response = secretary.post(url, {"number": noisy}, format="json")
    assert response.status_code == 200
    [found] = response.json()["results"]
    assert found["id"] == target.pk and found["id_number"] == target.id_number
    # A person of the sibling village is not found, like a missing one.
    response = secretary.post(url, {"number": a.persons[2].id_number}, format="json")
    assert response.status_code == 200 and response.json()["results"] == []
    admin = as_user(a.users["county_admin"])
    response = admin.post(url, {"number": a.persons[6].id_number}, format="json")
    assert [r["id"] for r in response.json()["results"]] == [a.persons[6].pk]
    response = admin.post(url, {"number": b.persons[0].id_number}, format="json")
    assert response.status_code == 200 and response.json()["results"] == []
    response = admin.post(url, {}, format="json")
    assert field_codes(response, "number") == {"required"}
    response = admin.post(url, {"number": "1234"}, format="json")
    assert field_codes(response, "number") == {"lookup_number"}
    # GET is not the lookup: a full number never goes into a URL.
    assert admin.get(url).status_code == 405
    assert admin.get(url, {"id_number": target.id_number}).status_code == 400
    for role in ("township_staff", "county_viewer", "group_leader"):
        response = as_user(a.users[role]).post(url, {"number": target.id_number}, format="json")
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "permission_denied",
            "message": LOOKUP_FORBIDDEN,
        }


def test_lookup_finds_a_15_digit_number_stored_upgraded(world):
    a = world.a
    old = "130534820304124"
    with a.scope():
        person = services.person_create(
            actor=a.users["county_admin"], village=a.villages[0], name="旧证", id_number=old
        )
    response = as_user(a.users["county_admin"]).post(
        reverse("api-person-lookup"), {"number": old}, format="json"
    )
    assert [r["id"] for r in response.json()["results"]] == [person.pk]


# --- household writes ------------------------------------------------------------------------


def test_household_create_update_hardship_assistance_move(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    response = client.post(
        reverse("api-household-list"),
        {
            "village": a.villages[0].pk,
            "group": a.groups[1].pk,
            "number": " 0002 ",
            "address": "东街 2 号",
            "phone": "13900001111",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["number"] == "0002" and created["group"] == a.groups[1].pk
    assert created["members"] == [] and created["phone"] == "139******11"  # staff: masked
    household = created["id"]
    url = reverse("api-household-detail", kwargs={"pk": household})
    response = client.patch(url, {"address": "东街 3 号", "residency": "inflow"}, format="json")
    assert response.status_code == 200 and response.json()["residency_display"] == "流入"
    response = client.post(
        reverse("api-household-hardship", kwargs={"pk": household}),
        {"year": 2025, "reasons": ["illness", "illness", "disability"], "notes": "长期卧床"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["reasons"] == ["disability", "illness"]
    response = client.post(
        reverse("api-household-hardship", kwargs={"pk": household}),
        {"year": 2025, "reasons": []},
        format="json",
    )
    assert field_codes(response, "reasons") == {"required"}
    response = client.post(
        reverse("api-household-assistance", kwargs={"pk": household}),
        {"kind": "relief", "given_on": "2025-09-01", "amount": "500.00", "given_by": "县计生协"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["kind_display"] == "救助"
    response = client.post(
        reverse("api-household-assistance", kwargs={"pk": household}),
        {"kind": "visit", "given_on": "2025-09-02", "given_by": "县计生协"},
        format="json",
    )
    assert field_codes(response, "amount") == {"amount_or_goods"}
    detail = client.get(url).json()
    assert [h["year"] for h in detail["hardship"]] == [2025]
    assert [r["amount"] for r in detail["assistance"]] == ["500.00"]
    response = client.post(
        reverse("api-household-move", kwargs={"pk": household}),
        {"to_village": a.villages[1].pk, "new_number": "0102"},
        format="json",
    )
    assert response.status_code == 200, response.content
    moved = response.json()
    assert moved["village"] == a.villages[1].pk and moved["number"] == "0102"
    assert moved["relocations"][0]["from_village_name"] == a.villages[0].name
    response = client.post(
        reverse("api-household-move", kwargs={"pk": household}),
        {"to_village": a.villages[1].pk},
        format="json",
    )
    assert field_codes(response, "to_village") == {"same_village"}


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-500"])
def test_assistance_amount_must_be_positive(world, amount):
    """A zero or negative amount is the user's mistake (400 in Chinese), not a database
    constraint's 500; nothing is recorded."""
    a = world.a
    household = a.households[0]
    client = as_user(a.users["village_secretary"])
    response = client.post(
        household_url(household, "api-household-assistance"),
        {"kind": "relief", "given_on": "2025-09-01", "amount": amount, "given_by": "县计生协"},
        format="json",
    )
    assert field_errors(response, "amount") == [
        {"code": "amount_not_positive", "message": "金额应大于 0 元;只送物品时金额不填。"}
    ]
    detail = client.get(household_url(household)).json()
    assert detail["assistance"] == []


def test_household_number_is_unique_in_the_village(world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    response = client.post(
        reverse("api-household-list"),
        {"village": a.villages[0].pk, "number": "0001"},
        format="json",
    )
    assert field_codes(response, "number") == {"household_exists"}
    response = client.patch(
        household_url(a.households[0]), {"head": a.persons[2].pk}, format="json"
    )
    assert field_codes(response, "head") == {"does_not_exist"}  # sibling village's person


def test_household_head_must_be_a_member(world):
    a = world.a
    client = as_user(a.users["township_staff"])
    response = client.patch(
        household_url(a.households[0]), {"head": a.persons[2].pk}, format="json"
    )
    assert field_codes(response, "head") == {"head_not_member"}
    response = client.patch(
        household_url(a.households[0]), {"head": a.persons[1].pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["head_name"] == a.persons[1].name


# --- filters and pagination ------------------------------------------------------------------


@pytest.fixture
def filter_world(world):
    """In village t0v0: 张三丰 (inflow, alone) and a one-child household 0003 of three."""
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        zhang = services.person_create(
            actor=admin,
            village=a.villages[0],
            name="张三丰",
            sex="male",
            birth_date=D(1970, 1, 1),
            residency="inflow",
        )
        household = services.household_create(actor=admin, village=a.villages[0], number="0003")
        dad = services.person_create(
            actor=admin,
            village=a.villages[0],
            household=household,
            name="父",
            sex="male",
            birth_date=D(1985, 1, 1),
            relation_to_head="head",
            marital_status="married",
        )
        mum = services.person_create(
            actor=admin,
            village=a.villages[0],
            household=household,
            name="母",
            sex="female",
            birth_date=D(1987, 1, 1),
            relation_to_head="spouse",
            marital_status="married",
        )
        child = services.person_create(
            actor=admin,
            village=a.villages[0],
            household=household,
            name="独子",
            sex="male",
            birth_date=D(2012, 1, 1),
            relation_to_head="son",
            mother=mum,
        )
        household.refresh_from_db()
    assert "one_child" in household.categories
    return {"zhang": zhang, "household": household, "family": [dad, mum, child]}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_person_filters(world, filter_world):
    a, b = world.a, world.b
    client = as_user(a.users["county_admin"])
    url = reverse("api-person-list")
    assert ids(client.get(url, {"q": "zsf"})) == {filter_world["zhang"].pk}
    assert ids(client.get(url, {"q": "张三"})) == {filter_world["zhang"].pk}
    assert ids(client.get(url, {"residency": "inflow"})) == {filter_world["zhang"].pk}
    family = {p.pk for p in filter_world["family"]}
    assert ids(client.get(url, {"category": "one_child"})) == family
    assert ids(client.get(url, {"under": a.villages[1].pk})) == {p.pk for p in a.persons[2:4]}
    assert ids(client.get(url, {"under": a.townships[1].pk})) == {p.pk for p in a.persons[4:]}
    assert ids(client.get(url, {"under": b.villages[0].pk})) == set()
    # A full ID number in the URL is refused (issue 12): the lookup is a POST.
    response = client.get(url, {"q": a.persons[3].id_number})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "full_number_in_url"
    response = client.get(url, {"category": "nonsense"})
    assert field_codes(response, "category") == {"invalid_choice"}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("age_min", "-1", "min_value"),
        ("age_max", "151", "max_value"),
        ("age_max", "3.8545036995859544e+16", "invalid"),
        ("age_min", "-5.2e-155", "invalid"),
        ("age_min", "abc", "invalid"),
    ],
)
def test_an_age_outside_0_to_150_is_a_400(world, field, value, code):
    client = as_user(world.a.users["county_admin"])
    response = client.get(reverse("api-person-list"), {field: value})
    message = "年龄应为 0 到 150 之间的整数。"
    assert field_errors(response, field) == [{"code": code, "message": message}]


def test_ages_0_and_150_are_accepted(world):
    client = as_user(world.a.users["county_admin"])
    everyone = {p.pk for p in world.a.persons}
    assert ids(client.get(reverse("api-person-list"), {"age_min": 0, "age_max": 150})) == everyone


def test_household_filters(world, filter_world):
    a = world.a
    client = as_user(a.users["village_secretary"])
    url = reverse("api-household-list")
    household = filter_world["household"]
    assert ids(client.get(url, {"category": "one_child"})) == {household.pk}
    assert ids(client.get(url, {"q": "dz"})) == {household.pk}
    assert ids(client.get(url, {"q": "0001"})) == {a.households[0].pk}
    assert ids(client.get(url, {"under": a.villages[1].pk})) == set()  # not in the scope


def test_pagination_has_next_without_count(world, filter_world):
    client = as_user(world.a.users["county_admin"])
    url = reverse("api-person-list")
    total = len(world.a.persons) + 4
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url, {"page_size": 6, "residency": "registered"})
    assert first.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 6 and body["previous"] is None
    assert "page=2" in body["next"] and "residency=registered" in body["next"]
    second = client.get(body["next"]).json()
    assert len(second["results"]) == total - 1 - 6  # 张三丰 is inflow
    assert second["next"] is None and "page=" not in second["previous"]
    seen = {r["id"] for r in body["results"]} | {r["id"] for r in second["results"]}
    assert len(seen) == total - 1
    assert client.get(url, {"page": 0}).status_code == 404
    assert client.get(url, {"page": 99}).status_code == 404


# --- query counts ----------------------------------------------------------------------------


def _add_households(world, count: int) -> None:
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        for index in range(count):
            village = a.villages[index % 4]
            household = services.household_create(
                actor=admin,
                village=village,
                group=a.groups[2 * (index % 4) + 1],
                number=f"08{index:02d}",
                phone="13900000000",
            )
            for relation, sex in (("head", "male"), ("spouse", "female")):
                services.person_create(
                    actor=admin,
                    village=village,
                    household=household,
                    name=f"加{index}{relation}",
                    sex=sex,
                    birth_date=D(1980, 1, 1),
                    relation_to_head=relation,
                    phone="13900000000",
                )


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_list_pages_run_a_constant_number_of_queries(world, django_assert_max_num_queries):
    client = as_user(world.a.users["county_admin"])
    urls = [reverse("api-person-list"), reverse("api-household-list")]
    before = [_count(client, url, {"page_size": 100}) for url in urls]
    _add_households(world, 12)
    after = [_count(client, url, {"page_size": 100}) for url in urls]
    assert before == after
    # set_config(app.county_id) on entering and leaving the scope, and one SELECT.
    for url in urls:
        with django_assert_max_num_queries(3):
            response = client.get(url, {"page_size": 100, "q": "j", "category": "one_child"})
        assert response.status_code == 200
    with django_assert_max_num_queries(3):
        response = client.get(urls[0], {"page_size": 100})
    assert len(response.json()["results"]) == len(world.a.persons) + 24


def test_household_detail_runs_a_constant_number_of_queries(world):
    a = world.a
    client = as_user(a.users["county_admin"])
    url = household_url(a.households[0])
    before = _count(client, url)
    with a.scope():
        admin = a.users["county_admin"]
        household = a.households[0]
        for index in range(5):
            services.person_create(
                actor=admin,
                village=a.villages[0],
                household=household,
                name=f"子{index}",
                sex="male",
                birth_date=D(2005 + index, 1, 1),
                relation_to_head="son",
            )
        for year in (2023, 2024, 2025):
            services.hardship_record(actor=admin, household=household, year=year, reasons=["other"])
            services.assistance_add(
                actor=admin,
                household=household,
                kind="visit",
                given_on=D(year, 6, 1),
                goods="米面",
                given_by="县计生协",
            )
    # scope in/out, household, 4 prefetches, and the read log's one INSERT (full numbers shown)
    assert _count(client, url) == before <= 8


# --- figures ---------------------------------------------------------------------------------


@pytest.fixture
def births_village(world):
    """A new village of township t0 with one household: a married couple, a son born
    2026-04-10 (first child of his mother) and a daughter born 2026-05-20 (second)."""
    a = world.a
    admin = a.users["county_admin"]
    with a.scope():
        village = association_services.association_create(
            actor=admin, parent=a.townships[0], name="统计村", division_code="130534100299"
        )
        household = services.household_create(actor=admin, village=village, number="0001")
        services.person_create(
            actor=admin,
            village=village,
            household=household,
            name="父亲",
            sex="male",
            birth_date=D(1990, 1, 1),
            relation_to_head="head",
            marital_status="married",
        )
        mother = services.person_create(
            actor=admin,
            village=village,
            household=household,
            name="母亲",
            sex="female",
            birth_date=D(1992, 2, 2),
            relation_to_head="spouse",
            marital_status="married",
        )
        for name, sex, born in (
            ("儿子", "male", D(2026, 4, 10)),
            ("女儿", "female", D(2026, 5, 20)),
        ):
            services.person_create(
                actor=admin,
                village=village,
                household=household,
                name=name,
                sex=sex,
                birth_date=born,
                relation_to_head="son" if sex == "male" else "daughter",
                mother=mother,
            )
    return village


def test_figures_for_a_township_and_a_period(world, births_village):
    a = world.a
    client = as_user(a.users["township_staff"])
    response = client.get(reverse("api-figures-list"), {"period": "2026-q2"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["node"]["id"] == a.townships[0].pk  # the user's node by default
    assert data["period"] == {
        "key": "2026-Q2",
        "label": "2026年第二季度",
        "start": "2026-04-01",
        "end": "2026-06-30",
    }
    columns = data["columns"][:5]
    assert [c["key"] for c in columns] == [
        "households",
        "households_registered",
        "households_floating",
        "hukou_population",
        "resident_population",
    ]
    assert [c["label"] for c in columns] == ["户数", "常住户数", "流动户数", "户籍人口", "常住人口"]
    row = next(r for r in data["rows"] if r["unit_id"] == births_village.pk)
    assert row["unit_name"] == "统计村"
    # All four alive on 2026-06-30 and registered: 户籍人口 and 常住人口 alike.
    assert row["hukou_population"] == row["resident_population"] == row["registered"] == 4
    assert "population" not in row
    assert row["births"] == 2 and row["births_male"] == 1 and row["births_female"] == 1
    assert row["births_order_1"] == 1 and row["births_order_2"] == 1
    assert row["births_registered"] == 2 and row["births_floating"] == 0
    assert row["women_15_49"] == 1 and row["married_women_15_49"] == 1
    assert row["deaths"] == 0
    assert row["births_registered_male"] == 1 and row["births_registered_female"] == 1
    assert row["births_order_unknown"] == 0
    assert row["sex_ratio"] == "1.00:1" and row["sex_ratio_per_100"] == 100.0
    total = data["total"]
    assert total["unit_id"] == a.townships[0].pk
    assert total["births"] == 2 and total["resident_population"] == 4 + 4  # two fixture homes
    # Households count from their creation (today): the default period is this year.
    this_year = client.get(reverse("api-figures-list")).json()
    assert this_year["period"]["key"] == str(services.today().year)
    row = next(r for r in this_year["rows"] if r["unit_id"] == births_village.pk)
    assert row["households"] == 1 and this_year["total"]["households"] == 3
    # No births in Q1: no girls, so no ratio.
    q1 = client.get(reverse("api-figures-list"), {"period": "2026-Q1"}).json()
    assert q1["total"]["births"] == 0 and q1["total"]["sex_ratio"] == "—"
    assert q1["total"]["sex_ratio_per_100"] is None


def test_figures_node_scope_and_bad_period(world, births_village):
    a, b = world.a, world.b
    admin = as_user(a.users["county_admin"])
    url = reverse("api-figures-list")
    response = admin.get(url, {"node": births_village.pk, "period": "2026"})
    assert response.status_code == 200
    assert response.json()["total"]["births_male"] == 1
    response = admin.get(url, {"period": "2026-Q5"})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["fields"]["period"][0]["code"] == "bad_period"
    assert admin.get(url, {"node": b.county.pk}).status_code == 404
    secretary = as_user(a.users["village_secretary"])
    assert secretary.get(url, {"node": births_village.pk}).status_code == 404
    assert secretary.get(url).json()["node"]["id"] == a.villages[0].pk


# --- schema ----------------------------------------------------------------------------------


def test_schema_documents_the_endpoints_without_warnings(world):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in [
        "/api/v1/persons/",
        "/api/v1/persons/{id}/",
        "/api/v1/persons/{id}/move/",
        "/api/v1/persons/{id}/remove-from-household/",
        "/api/v1/persons/lookup/",
        "/api/v1/households/",
        "/api/v1/households/{id}/",
        "/api/v1/households/{id}/move/",
        "/api/v1/households/{id}/hardship/",
        "/api/v1/households/{id}/assistance/",
        "/api/v1/figures/",
    ]:
        assert path in paths, path
    listed = paths["/api/v1/persons/"]["get"]["responses"]["200"]["content"]["application/json"]
    component = listed["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][component]["properties"]) == {
        "next",
        "previous",
        "results",
    }
    figures = paths["/api/v1/figures/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert figures["schema"]["$ref"].endswith("/FiguresTable")
    ours = ("households", "PersonViewSet", "HouseholdViewSet", "FiguresViewSet")
    warnings = [w for w in GENERATOR_STATS._warn_cache if any(name in w for name in ours)]
    errors = list(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    assert warnings == [] and errors == []
