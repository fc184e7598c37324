"""Issue 12, the findings on personal data: masking that cannot be undone, searches by full
numbers, the POST-only lookup with its hourly limit, the log of reads of full numbers, and
the messages that must not be oracles (the duplicate message, the import check, the error
workbook)."""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from stdnum.cn import ric

from associations.imports import run_import
from associations.models import Job
from associations.scope import Scope, activate
from households import identity, identity_reads, masking
from households.models import Household, IdentityRead, Person
from tests.members.test_import import new_id, person_row, xlsx

pytestmark = pytest.mark.django_db

D = datetime.date
PHONE = "13812345678"
UNPRIVILEGED = ["county_viewer", "township_staff", "group_leader"]
SECRETARY_ELSEWHERE = "该身份证号码已在本县其他村登记,请联系乡镇办理迁移,不要重复登记。"


def as_api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def give_phone(world, index=0, phone=PHONE) -> Person:
    with activate(Scope.for_node(world.a.county)):
        person = Person.objects.get(pk=world.a.persons[index].pk)
        Person.objects.filter(pk=person.pk).update(phone=phone)
        person.phone = phone
    return person


def reads(world, **filters) -> list[IdentityRead]:
    with activate(Scope.for_node(world.a.county)):
        return list(IdentityRead.objects.filter(**filters).order_by("id"))


# --- 1. masking that cannot be undone ---------------------------------------------------------


def birth_window(age: int, today: datetime.date) -> list[datetime.date]:
    """Every birth date that gives `age` whole years on `today`, latest first."""
    days, day = [], today
    while day.year >= today.year - age - 1:
        if masking.age_for(day, today) == age:
            days.append(day)
        day -= datetime.timedelta(days=1)
    return days


def id_candidates(masked: str, age: int, sex: str, today: datetime.date):
    """Every valid 18-digit number the shown facts allow: the region code the mask keeps, a
    birth date giving the age, a sequence number of the sex's parity, its check digit."""
    assert re.fullmatch(r"\d{6}\*{12}", masked), masked
    region = masked[:6]
    parity = 1 if sex == "male" else 0
    for day in birth_window(age, today):
        for sequence in range(parity, 1000, 2):
            body = f"{region}{day:%Y%m%d}{sequence:03d}"
            yield body + ric.calc_check_digit(body + "0")


def test_the_candidate_arithmetic_by_hand():
    """Hand-worked: on 2026-12-01 a man shown as 46 years old was born between 1979-12-02 and
    1980-12-01: 366 days (1980 has 29 February). His sex leaves 500 of the 1,000 sequence
    numbers (odd ones), and the check digit follows: 366 x 500 x 1 = 183,000 candidates."""
    today = D(2026, 12, 1)
    days = birth_window(46, today)
    assert (days[-1], days[0], len(days)) == (D(1979, 12, 2), D(1980, 12, 1), 366)
    candidates = list(id_candidates("130534************", 46, "male", today))
    assert len(candidates) == 366 * 500 == 183_000 >= masking.MIN_CANDIDATES
    assert len(set(candidates)) == len(candidates)
    # A non-leap window: 365 x 500 = 182,500.
    assert len(birth_window(31, D(2026, 12, 1))) == 365  # 1994-12-02 to 1995-12-01
    assert 365 * 500 == 182_500 >= masking.MIN_CANDIDATES
    # The phone: "138******78" hides 6 digits: 10**6 candidates.
    assert identity.mask_phone(PHONE) == "138******78"
    assert 10**identity.PHONE_HIDDEN_DIGITS == 1_000_000 >= masking.MIN_CANDIDATES


@pytest.mark.parametrize("role", UNPRIVILEGED)
def test_what_an_unprivileged_role_sees_leaves_at_least_10000_candidates(world, role):
    """The API record (the richest view a role has of a person) taken together: the true
    number is among the candidates, and there are at least 10,000 of them."""
    give_phone(world)
    person = world.a.persons[0]
    data = as_api(world.a.users[role]).get(f"/api/v1/persons/{person.pk}/").json()
    assert data["birth_date"] is None and data["phone"] == "138******78"
    today = timezone.localdate()
    candidates = set(id_candidates(data["id_number"], data["age"], data["sex"], today))
    assert person.id_number in candidates
    assert len(candidates) >= masking.MIN_CANDIDATES


def rebuild(masked_id: str, shown_birth_date: str | None) -> str | None:
    """The tester's attack (692 of 692): the hidden digits were the birth date shown beside
    the masked number; put it back and find the check digit's sequence. Returns a number only
    when exactly one candidate is left."""
    if not shown_birth_date or "*" not in masked_id:
        return None
    digits = shown_birth_date.replace("-", "")
    head = masked_id[:6] + digits
    tail = masked_id[14:]
    if "*" in tail:
        return None  # the sequence number and check digit are hidden too: 500 left at least
    return head + tail


@pytest.mark.parametrize("role", UNPRIVILEGED)
def test_the_old_attack_rebuilds_nothing(world, role):
    client = as_api(world.a.users[role])
    rebuilt = 0
    rows = client.get("/api/v1/persons/", {"page_size": 500}).json()["results"]
    members = client.get("/api/v1/members/", {"page_size": 500}).json()["results"]
    assert rows, "the role sees persons"
    for row in rows:
        detail = client.get(f"/api/v1/persons/{row['id']}/").json()
        for shown in (row, detail):
            if rebuild(shown["id_number"], shown["birth_date"]) is not None:
                rebuilt += 1
    for row in members:
        if rebuild(row["id_number"], row["birth_date"]) is not None:
            rebuilt += 1
    assert rebuilt == 0


def test_privileged_roles_see_masked_values_on_lists_and_history(client, world):
    """One policy: full only on one person's page (recorded); lists, the change history and
    the exports mask for everyone."""
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    person = world.a.persons[0]
    body = client.get(reverse("person-list")).content.decode()
    assert person.id_number not in body and identity.mask_id_number(person.id_number) in body
    assert f"{person.birth_date:%Y年}" not in body
    history = client.get(reverse("node-history", kwargs={"pk": world.a.villages[0].pk}))
    text = history.content.decode()
    assert person.id_number not in text and person.birth_date.isoformat() not in text


def test_the_person_page_shows_age_not_birth_date_to_unprivileged_roles(client, world):
    person = world.a.persons[0]
    client.force_login(world.a.users["township_staff"])
    body = client.get(reverse("person-detail", kwargs={"pk": person.pk})).content.decode()
    assert "<dt>出生日期</dt>" not in body and "<dt>年龄</dt>" in body
    assert f"{person.birth_date:%Y年%-m月%-d日}" not in body
    assert identity.mask_id_number(person.id_number) in body
    client.force_login(world.a.users["county_admin"])
    body = client.get(reverse("person-detail", kwargs={"pk": person.pk})).content.decode()
    assert person.id_number in body and "<dt>出生日期</dt>" in body


def test_the_edit_form_hides_the_birth_date_from_masked_roles(client, world):
    person = world.a.persons[0]
    client.force_login(world.a.users["township_staff"])
    body = client.get(reverse("person-edit", kwargs={"pk": person.pk})).content.decode()
    assert person.birth_date.isoformat() not in body and "不修改请留空" in body


# --- 2. searches: never by full numbers in URLs, never by parts of them -----------------------


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("person-list", "q"),
        ("household-list", "q"),
        ("member-list", "q"),
        ("person-export-csv", "q"),
        ("person-list", "id_number"),
    ],
)
@pytest.mark.parametrize("kind", ["id_number", "phone"])
def test_a_full_number_in_a_page_url_is_a_chinese_400(client, world, name, param, kind):
    value = world.a.persons[0].id_number if kind == "id_number" else "138 1234 5678"
    client.force_login(world.a.users["county_admin"])
    response = client.get(reverse(name), {param: value})
    assert response.status_code == 400
    what = "身份证号码" if kind == "id_number" else "电话号码"
    assert f"网址中不能包含完整的{what}" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/persons/", "/api/v1/households/", "/api/v1/members/"])
def test_a_full_number_in_an_api_url_is_a_400(world, path):
    client = as_api(world.a.users["village_secretary"])
    for params in ({"q": world.a.persons[0].id_number}, {"id_number": PHONE}, {"q": PHONE}):
        response = client.get(path, params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "full_number_in_url" and "访问日志" in error["message"]


def test_search_does_not_match_phones_or_parts_of_id_numbers(client, world):
    give_phone(world)
    client.force_login(world.a.users["county_admin"])
    person = world.a.persons[0]
    for partial in (person.id_number[-4:], person.id_number[-6:], PHONE[-4:], PHONE[:7]):
        body = client.get(reverse("person-list"), {"q": partial}).content.decode()
        assert f'href="/people/{person.pk}/"' not in body, partial
        rows = as_api(world.a.users["county_admin"]).get("/api/v1/persons/", {"q": partial})
        assert rows.status_code == 200 and rows.json()["results"] == []


def test_the_member_picker_finds_nobody_by_the_last_digits(client, world):
    secretary = world.a.users["village_secretary"]
    client.force_login(secretary)
    spouse = world.a.persons[1]  # not a member: a candidate by name
    url = reverse("member-candidates", kwargs={"pk": world.a.villages[0].pk})
    assert spouse.name in client.get(url, {"q": spouse.name}).content.decode()
    assert spouse.name not in client.get(url, {"q": spouse.id_number[-4:]}).content.decode()


def test_full_identifier_in_finds_numbers_whatever_the_spacing():
    number = new_id(1)
    assert identity.full_identifier_in(number) == "id_number"
    assert identity.full_identifier_in(f"张三 {number[:6]} {number[6:]}") == "id_number"
    assert identity.full_identifier_in(number[:6] + number[8:17]) == "id_number"  # 15 digits
    assert identity.full_identifier_in("１３８１２３４５６７８") == "phone"
    assert identity.full_identifier_in("0319-8123456") == "phone"
    for harmless in ("张三", "0001", "2026-12-01", "130534", "zsf", "1385", number[:17]):
        assert identity.full_identifier_in(harmless) is None, harmless


# --- 3. the POST-only lookup, limited and recorded ----------------------------------------------


def test_the_lookup_page_finds_by_full_number_and_records_it(client, world):
    person = give_phone(world)
    secretary = world.a.users["village_secretary"]
    client.force_login(secretary)
    url = reverse("person-lookup")
    page = client.get(url)
    assert page.status_code == 200 and "按号码查询人员" in page.content.decode()
    response = client.post(url, {"number": f" {person.id_number[:6]} {person.id_number[6:]}"})
    body = response.content.decode()
    assert response.status_code == 200 and person.id_number in body and PHONE in body
    [read] = reads(world, reason="lookup")
    assert (read.reader_id, read.person_id, read.person_ids) == (
        secretary.pk,
        person.pk,
        [person.pk],
    )
    assert read.route == "person-lookup" and read.ip == "127.0.0.1"
    # By phone; nobody found is recorded too (it counts towards the limit).
    assert person.name in client.post(url, {"number": "138-1234-5678"}).content.decode()
    response = client.post(url, {"number": world.a.persons[2].id_number})  # sibling village
    assert "本账号范围内没有登记这个号码的人员" in response.content.decode()
    assert [r.person_count for r in reads(world, reason="lookup")] == [1, 1, 0]
    response = client.post(url, {"number": "12345"})
    assert (
        response.status_code == 400 and "请输入完整的 18 位身份证号码" in response.content.decode()
    )


@pytest.mark.parametrize("role", UNPRIVILEGED)
def test_only_privileged_roles_may_look_up(client, world, role):
    client.force_login(world.a.users[role])
    assert client.get(reverse("person-lookup")).status_code == 403
    number = world.a.persons[0].id_number
    assert client.post(reverse("person-lookup"), {"number": number}).status_code == 403
    assert reads(world) == []


def test_lookups_are_limited_per_user_per_hour(client, world, settings):
    settings.IDENTITY_LOOKUPS_PER_HOUR = 2
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    url = reverse("person-lookup")
    number = world.a.persons[0].id_number
    assert client.post(url, {"number": number}).status_code == 200
    assert client.post(url, {"number": number}).status_code == 200
    response = client.post(url, {"number": number})
    assert response.status_code == 429
    assert "每人每小时最多 2 次" in response.content.decode()
    api = as_api(admin).post("/api/v1/persons/lookup/", {"number": number}, format="json")
    assert api.status_code == 429 and api.json()["error"]["code"] == "lookup_limit"
    assert len(reads(world, reason="lookup")) == 2  # a refused lookup reads nothing
    # Another user has their own hour; an hour later the first has theirs again.
    other = as_api(world.a.users["village_secretary"])
    response = other.post("/api/v1/persons/lookup/", {"number": number}, format="json")
    assert response.status_code == 200
    with activate(Scope.for_node(world.a.county)):
        IdentityRead.objects.filter(reader=admin).update(
            read_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=61)
        )
    assert client.post(url, {"number": number}).status_code == 200


# --- 3b. the read log -----------------------------------------------------------------------------


def test_detail_pages_record_full_reads_one_row_per_request(client, world):
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    household = world.a.households[0]
    client.get(reverse("household-detail", kwargs={"pk": household.pk}))
    [read] = reads(world)
    members = sorted(p.pk for p in world.a.persons[:2])
    assert read.person_ids == members and read.person_id is None and read.person_count == 2
    assert (read.reason, read.fields, read.route) == (
        "detail_page",
        ["id_number"],
        "household-detail",
    )
    client.get(reverse("person-detail", kwargs={"pk": world.a.persons[0].pk}))
    client.get(reverse("member-detail", kwargs={"pk": world.a.members[0].pk}))
    client.get(reverse("person-edit", kwargs={"pk": world.a.persons[0].pk}))
    assert [r.reason for r in reads(world)] == [
        "detail_page",
        "detail_page",
        "detail_page",
        "edit_form",
    ]
    # A masked view records nothing.
    client.force_login(world.a.users["township_staff"])
    client.get(reverse("person-detail", kwargs={"pk": world.a.persons[0].pk}))
    assert len(reads(world)) == 4


def test_api_detail_records_and_lists_do_not(world):
    secretary = world.a.users["village_secretary"]
    client = as_api(secretary)
    client.get("/api/v1/persons/")
    client.get("/api/v1/members/")
    assert reads(world) == []
    client.get(f"/api/v1/persons/{world.a.persons[0].pk}/")
    client.get(f"/api/v1/households/{world.a.households[0].pk}/")
    client.get(f"/api/v1/members/{world.a.members[0].pk}/")
    found = reads(world)
    assert [(r.reason, r.person_count) for r in found] == [
        ("api_detail", 1),
        ("api_detail", 2),
        ("api_detail", 1),
    ]
    assert found[0].route == "api-person-detail"


def test_a_roster_with_full_numbers_is_one_recorded_bulk_read(client, world):
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    village = world.a.villages[1]
    response = client.post(
        reverse("roster-export", kwargs={"pk": village.pk, "kind": "members"}),
        {"full_identity": "on"},
    )
    assert response.status_code == 302
    [read] = reads(world, reason="export")
    assert read.route == "roster:members" and read.person_ids == [world.a.persons[2].pk]
    # Without full numbers nothing is recorded.
    client.post(reverse("roster-export", kwargs={"pk": village.pk, "kind": "members"}))
    assert len(reads(world, reason="export")) == 1


def test_the_read_log_page_filters_and_is_for_county_admins(client, world):
    admin = world.a.users["county_admin"]
    secretary = world.a.users["village_secretary"]
    client.force_login(secretary)
    client.get(reverse("person-detail", kwargs={"pk": world.a.persons[0].pk}))
    client.force_login(admin)
    client.get(reverse("person-detail", kwargs={"pk": world.a.persons[1].pk}))
    url = reverse("identity-read-list")
    body = client.get(url).content.decode()
    assert "完整号码查看记录" in body and secretary.username in body and admin.username in body
    body = client.get(url, {"reader": secretary.username}).content.decode()
    assert secretary.username in body and f">{admin.username}<" not in body
    body = client.get(url, {"person": world.a.persons[1].name}).content.decode()
    assert world.a.persons[1].name in body and f">{secretary.username}<" not in body
    today = timezone.localdate().isoformat()
    assert admin.username in client.get(url, {"day": today}).content.decode()
    assert "没有符合条件的记录" in client.get(url, {"day": "2001-01-01"}).content.decode()
    response = client.get(url, {"day": "not-a-day"})
    assert response.status_code == 400 and "请输入有效的日期" in response.content.decode()
    for role in ("county_viewer", "township_staff", "village_secretary", "group_leader"):
        client.force_login(world.a.users[role])
        assert client.get(url).status_code == 403
    # Another county's administrator sees none of county A's reads.
    client.force_login(world.b.users["county_admin"])
    assert secretary.username not in client.get(url).content.decode()


def test_the_read_log_is_paginated(client, world):
    admin = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        for _ in range(55):
            identity_reads.record_read(
                actor=admin, persons=[world.a.persons[0]], fields=["id_number"], reason="lookup"
            )
    client.force_login(admin)
    body = client.get(reverse("identity-read-list")).content.decode()
    assert "第 1 / 2 页" in body and "共 55 条" in body
    body = client.get(reverse("identity-read-list"), {"page": 2}).content.decode()
    assert "第 2 / 2 页" in body


# --- 4. oracles ---------------------------------------------------------------------------------


def _import(world, user_key, rows, *, node=None):
    user = world.a.users[user_key]
    with activate(Scope.for_node(user.node)):
        return run_import(
            kind="members",
            target=node or user.node,
            actor=user,
            data=xlsx(rows),
            file_type="xlsx",
            dry_run=True,
        )


def test_the_import_check_tells_a_secretary_only_elsewhere_in_the_county(world):
    elsewhere = world.a.persons[2]  # registered in the sibling village
    rows = [person_row(1, 身份证号码=elsewhere.id_number, 姓名="猜测")]
    outcome = _import(world, "village_secretary", rows)
    messages = [p.message for p in outcome.problems]
    assert SECRETARY_ELSEWHERE in messages
    text = " ".join(messages)
    assert world.a.villages[1].name not in text and "0002" not in text
    assert identity.mask_name(elsewhere.name) not in text  # nor the registered name
    # One recorded bulk lookup for the file's check (kept although the dry run rolls back).
    [read] = reads(world, reason="import")
    assert (
        read.person_ids == [elsewhere.pk]
        and read.reader_id == world.a.users["village_secretary"].pk
    )


def test_the_import_check_names_the_village_to_township_staff(world):
    elsewhere = world.a.persons[2]
    rows = [person_row(1, 身份证号码=elsewhere.id_number, 姓名=elsewhere.name)]
    outcome = _import(world, "township_staff", rows, node=world.a.villages[0])
    assert any(world.a.villages[1].name in p.message for p in outcome.problems)


def test_imports_count_towards_the_hourly_limit(client, world, settings):
    settings.IDENTITY_LOOKUPS_PER_HOUR = 1
    _import(world, "village_secretary", [person_row(1)])
    client.force_login(world.a.users["village_secretary"])
    response = client.post(reverse("person-lookup"), {"number": world.a.persons[0].id_number})
    assert response.status_code == 429


def _upload_with_errors(client, user):
    rows = [person_row(1, 性别="未知"), person_row(2, 联系电话="13912345678")]
    client.force_login(user)
    client.post(
        reverse("import-upload", kwargs={"pk": user.node_id}),
        {"kind": "members", "file": SimpleUploadedFile("花名册.xlsx", xlsx(rows))},
    )
    with activate(Scope.for_node(user.node)):
        return Job.objects.latest("created_at"), rows


def _cells(content: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def test_township_staff_download_error_workbooks_masked(client, world):
    secretary = world.a.users["village_secretary"]
    job, rows = _upload_with_errors(client, secretary)
    own = _cells(client.get(reverse("import-errors", kwargs={"pk": job.pk})).content)
    assert rows[0]["身份证号码"] in own  # the uploader (a privileged role) corrects their file
    client.force_login(world.a.users["township_staff"])
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    cells = _cells(response.content)
    for row in rows:
        assert row["身份证号码"] not in cells and row["联系电话"] not in cells
        assert identity.mask_id_number(row["身份证号码"]) in cells
    assert identity.mask_phone("13912345678") in cells


def test_the_duplicate_message_by_role(world):
    elsewhere = world.a.persons[2]
    from django.core.exceptions import ValidationError

    from households import services

    for key, node, expected_place in (
        ("village_secretary", world.a.villages[0], False),
        ("township_staff", world.a.townships[0], True),
        ("county_admin", world.a.county, True),
    ):
        with activate(Scope.for_node(node)), pytest.raises(ValidationError) as caught:
            services.person_create(
                actor=world.a.users[key],
                village=world.a.villages[0],
                name="重复",
                id_number=elsewhere.id_number,
            )
        message = caught.value.error_dict["id_number"][0].message
        assert (world.a.villages[1].name in message) is expected_place
        assert "0002户" not in message and elsewhere.name not in message
        if not expected_place:
            assert message == SECRETARY_ELSEWHERE


def test_the_household_edit_form_records_the_full_phone(client, world):
    with activate(Scope.for_node(world.a.county)):
        Household.objects.filter(pk=world.a.households[0].pk).update(phone=PHONE)
    client.force_login(world.a.users["village_secretary"])
    body = client.get(reverse("household-edit", kwargs={"pk": world.a.households[0].pk}))
    assert PHONE in body.content.decode()
    [read] = reads(world)
    assert (read.reason, read.fields, read.person_count) == ("edit_form", ["household_phone"], 2)


def test_a_division_code_that_reads_like_an_old_id_number_is_not_refused(world):
    """130534100201001 is a group's code, and also a valid 15-digit ID ("born 1910-02-01")."""
    assert identity.full_identifier_in("130534100201001") == "id_number"
    client = as_api(world.a.users["county_admin"])
    response = client.get(reverse("association-list"), {"division_code": "130534100201001"})
    assert response.status_code == 200
