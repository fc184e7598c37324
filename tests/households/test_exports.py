"""Exports of the person and household lists: CSV (streamed, BOM, masked) and Excel (title,
header, frozen panes, formula-like text stored as text), honouring the page's filters and the
user's scope."""

import csv
import datetime
import io
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from associations.scope import NoActiveScope, Scope, activate, current_scope
from associations.sheets.responses import XLSX_CONTENT_TYPE
from households import exports, masking, selectors, services
from households.identity import mask_id_number
from households.models import Household, Person

pytestmark = pytest.mark.django_db
D = datetime.date


def add_person(world_a, village_index=0, **fields):
    village = world_a.villages[village_index]
    with activate(Scope.for_node(village)):
        return services.person_create(
            actor=world_a.users["county_admin"], village=village, **fields
        )


def add_named(world_a, name, **fields):
    """A person whose name a spreadsheet would read as a formula, as old imports left some
    (the service needs a name with pinyin initials, so the name is set afterwards)."""
    person = add_person(world_a, name="占位", **fields)
    with activate(Scope.for_node(world_a.villages[0])):
        Person.objects.filter(pk=person.pk).update(name=name)
    return person


def csv_rows(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def export(client, user, name, query=None):
    client.force_login(user)
    return client.get(reverse(name), query or {})


@pytest.mark.parametrize("role", ["county_admin", "township_staff", "village_secretary"])
def test_people_csv_has_bom_is_masked_and_scoped(client, world, role):
    a = world.a
    response = export(client, a.users[role], "person-export-csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    today = timezone.localdate()
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote(f'人员名单_{today:%Y%m%d}.csv')}" in disposition
    assert f'filename="people_{today:%Y%m%d}.csv"' in disposition
    raw, rows = csv_rows(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0][:4] == ["姓名", "性别", "年龄", "身份证号(脱敏)"]  # no birth date (issue 12)
    body = raw.decode("utf-8-sig")
    for person in [*a.persons, *world.b.persons]:
        assert person.id_number not in body  # masked for every role, the admin's included
    visible = {"county_admin": 8, "township_staff": 4, "village_secretary": 2}[role]
    assert len(rows) == 1 + visible
    assert mask_id_number(a.persons[0].id_number) in body
    assert a.villages[3].name in body if role == "county_admin" else a.villages[3].name not in body


def test_csv_honours_the_filters(client, world):
    a = world.a
    migrant = add_person(
        a, village_index=1, name="流入者", sex="male", birth_date=D(1995, 1, 1), residency="inflow"
    )
    _, rows = csv_rows(
        export(client, a.users["township_staff"], "person-export-csv", {"residency": "inflow"})
    )
    assert [row[0] for row in rows[1:]] == [migrant.name]
    _, rows = csv_rows(
        export(client, a.users["county_admin"], "household-export-csv", {"q": "0003"})
    )
    assert [row[0] for row in rows[1:]] == ["0003"]


def test_csv_is_read_inside_the_request_scope_after_the_view_returned(client, world, monkeypatch):
    """The body is produced after the middleware has reset the scope; the generator enters
    the request's scope again (and leaves it when done)."""
    a = world.a
    seen = []
    original = masking.id_number_for

    def spy(user, value, **kwargs):
        seen.append(current_scope())
        return original(user, value, **kwargs)

    monkeypatch.setattr(masking, "id_number_for", spy)
    user = a.users["village_secretary"]
    response = export(client, user, "person-export-csv")
    assert current_scope() is None and seen == []  # nothing read yet
    _, rows = csv_rows(response)
    assert len(rows) == 3
    assert seen and set(seen) == {
        Scope(county_id=a.county.pk, node_id=a.villages[0].pk, level="village")
    }
    assert current_scope() is None


def test_csv_builder_needs_a_scope(world):
    a = world.a
    user = a.users["village_secretary"]
    scope = Scope.for_node(a.villages[0])
    with activate(scope):
        queryset = selectors.person_list(actor=user)
        response = exports.people_csv(queryset, user, filename="x.csv")
    # Consumed outside any scope: the generator re-enters the captured one.
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3
    with pytest.raises(NoActiveScope):
        exports.people_csv(Person.objects.all(), user, filename="x.csv")


def test_csv_neutralises_formula_like_text(client, world):
    a = world.a
    add_named(a, "=1+1", sex="male", birth_date=D(1990, 1, 1), address="@SUM(A1)")
    _, rows = csv_rows(
        export(client, a.users["village_secretary"], "person-export-csv", {"q": "="})
    )
    assert [(row[0], row[6]) for row in rows[1:]] == [("'=1+1", "'@SUM(A1)")]


def test_people_xlsx_title_header_frozen_and_formulas_as_text(client, world):
    a = world.a
    add_named(a, "=1+1", sex="male", birth_date=D(1990, 1, 1))
    add_named(a, "-2+3", sex="female", birth_date=D(1991, 1, 1))
    user = a.users["village_secretary"]
    response = export(client, user, "person-export-xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert quote(f"人员名单_{timezone.localdate():%Y%m%d}.xlsx") in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "人员名单"
    assert "人员名单" in sheet["A1"].value and "已脱敏" in sheet["A1"].value
    assert [c.value for c in sheet[2]][:3] == ["姓名", "性别", "年龄"]
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["D"].width == 22
    names = {row[0].value: row[0] for row in sheet.iter_rows(min_row=3)}
    assert set(names) == {a.persons[0].name, a.persons[1].name, "=1+1", "-2+3"}
    for formula_like in ("=1+1", "-2+3"):
        assert names[formula_like].data_type == "s"  # text, not a formula
    ids = [row[3].value for row in sheet.iter_rows(min_row=3)]
    assert mask_id_number(a.persons[0].id_number) in ids
    assert a.persons[0].id_number not in ids  # the village secretary's export is masked too
    age = next(row[2] for row in sheet.iter_rows(min_row=3) if row[0].value == a.persons[0].name)
    assert isinstance(age.value, int)  # the age, never the birth date (households.masking)


def test_a_group_leaders_linked_filter_is_named_in_the_sheet_title(client, world):
    a = world.a
    response = export(
        client, a.users["group_leader"], "person-export-xlsx", {"under": a.groups[0].pk}
    )
    title = load_workbook(io.BytesIO(response.content)).active["A1"].value
    assert f"组织:{a.groups[0].name}" in title and f"组织:{a.groups[0].pk}" not in title


def test_xlsx_honours_filters_and_scope(client, world):
    a = world.a
    response = export(
        client, a.users["township_staff"], "person-export-xlsx", {"under": a.villages[1].pk}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    villages = {row[8].value for row in sheet.iter_rows(min_row=3)}
    assert villages == {a.villages[1].name}
    assert f"组织:{a.villages[1].name}" in sheet["A1"].value
    response = export(
        client, a.users["township_staff"], "person-export-xlsx", {"under": a.villages[2].pk}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row <= 2  # a node outside the user's subtree gives nothing


def test_household_exports_mask_phones(client, world):
    a = world.a
    with activate(Scope.for_node(a.villages[0])):
        household = Household.objects.get(pk=a.households[0].pk)
        services.household_update(
            actor=a.users["county_admin"], household=household, phone="13812345678"
        )
    admin = a.users["county_admin"]
    raw, rows = csv_rows(export(client, admin, "household-export-csv"))
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0][:3] == ["户编号", "户主", "户主身份证号(脱敏)"]
    body = raw.decode("utf-8-sig")
    assert "13812345678" not in body and "138******78" in body
    assert len(rows) == 5 and {row[9] for row in rows[1:]} == {"2"}
    response = export(client, admin, "household-export-xlsx", {"q": "0001"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    row = [c.value for c in sheet[3]]
    assert row[0] == "0001" and row[8] == "138******78" and row[9] == 2
    assert a.persons[0].id_number not in [str(v) for v in row]
    assert sheet.max_row == 3


def exported_keys(response, kind: str) -> list[str]:
    """The first column of an export's data rows (names or household numbers)."""
    assert response.status_code == 200, response.content[:300]
    if kind == "csv":
        return [row[0] for row in csv_rows(response)[1][1:]]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [row[0].value for row in sheet.iter_rows(min_row=3)]


@pytest.mark.parametrize("role", ["group_leader", "county_admin"])
@pytest.mark.parametrize("what", ["person", "household"])
def test_csv_and_xlsx_export_the_same_rows_for_the_same_filter(client, world, role, what):
    """One FilterSet for both formats: a group leader's ?under= (which his filter panel does
    not offer) narrows the workbook exactly as it narrows the CSV."""
    a = world.a
    user = a.users[role]
    queries = [
        {},
        {"under": a.groups[0].pk},
        {"under": a.groups[1].pk},  # the sibling group: nothing of it is the leader's
        {"under": a.villages[1].pk},
        {"under": a.groups[0].pk, "residency": "inflow"},
    ]
    seen = {}
    for query in queries:
        csv_keys = exported_keys(export(client, user, f"{what}-export-csv", query), "csv")
        xlsx_keys = exported_keys(export(client, user, f"{what}-export-xlsx", query), "xlsx")
        assert sorted(xlsx_keys) == sorted(csv_keys), query
        seen[str(query)] = len(csv_keys)
    if role == "group_leader":
        whole = 2 if what == "person" else 1  # his group: one household of two persons
        assert list(seen.values()) == [whole, whole, 0, 0, 0]
    else:
        assert seen[str({"under": a.villages[1].pk})] > 0
        assert seen[str({})] > seen[str({"under": a.groups[0].pk})] > 0


@pytest.mark.parametrize("name", ["person-export-csv", "person-export-xlsx"])
@pytest.mark.parametrize(
    "query",
    [{"age_min": "-1"}, {"age_max": "151"}, {"age_max": "3.8e16"}, {"age_min": "2.5"}],
)
def test_an_age_outside_0_to_150_refuses_the_export(client, world, name, query):
    response = export(client, world.a.users["county_admin"], name, query)
    assert response.status_code == 400
    body = response.content.decode()
    assert "筛选条件有误" in body and "年龄应为 0 到 150 之间的整数。" in body
    assert "/people/?" in body  # back to the list, with the filters to correct


def test_ages_at_the_bounds_export(client, world):
    _, rows = csv_rows(
        export(
            client,
            world.a.users["county_admin"],
            "person-export-csv",
            {"age_min": "0", "age_max": "150"},
        )
    )
    assert len(rows) == 1 + 8
