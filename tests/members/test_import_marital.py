"""A new person's marital status is never assumed by an import: the figures count 已婚育龄妇女
from it, so a roster row that registers someone must say it (MARITAL_REQUIRED otherwise),
while a row about someone already registered may leave it empty."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from associations import imports
from associations.models import ChangeRecord, Job
from associations.scope import Scope, activate
from households.models import Person
from members.models import Member

from .test_import import _upload, counts, new_id, person_row, run

pytestmark = pytest.mark.django_db

REQUIRED_MESSAGE = "新登记的人员必须填写“婚姻状况”(未婚、已婚、离婚、丧偶)。"


def _without_marital(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "婚姻状况"}


def _household_row(sequence: int, marital: str | None, **overrides) -> dict:
    row = {
        "户编号": f"07{sequence:02d}",
        "姓名": f"新户主{sequence}",
        "身份证号码": new_id(sequence),
        "与户主关系": "户主",
    }
    if marital is not None:
        row["婚姻状况"] = marital
    row.update(overrides)
    return row


def _problems(outcome) -> list[tuple]:
    return [(p.row_number, p.code, p.column, p.field) for p in outcome.problems]


# --- a new person without it --------------------------------------------------------------------


def test_new_members_of_a_file_without_the_column_are_refused_and_nothing_is_written(world):
    rows = [_without_marital(person_row(1)), _without_marital(person_row(2))]
    before = counts(world)
    outcome = run(world, rows, dry_run=False)
    assert not outcome.committed and outcome.invalid == 2
    assert _problems(outcome) == [
        (2, "MARITAL_REQUIRED", "婚姻状况", "marital_status"),
        (3, "MARITAL_REQUIRED", "婚姻状况", "marital_status"),
    ]
    assert outcome.problems[0].message == REQUIRED_MESSAGE + "请在表中加上这一列。"
    assert counts(world) == before


@pytest.mark.parametrize("header", ["婚姻状况", "婚姻状态", "婚姻"])
def test_a_new_member_with_an_empty_cell_is_refused(world, header):
    rows = [
        {**_without_marital(person_row(1)), header: ""},
        {**_without_marital(person_row(2)), header: "已婚"},
    ]
    before = counts(world)
    outcome = run(world, rows, dry_run=False)
    assert not outcome.committed
    assert _problems(outcome) == [(2, "MARITAL_REQUIRED", header, "marital_status")]
    assert outcome.problems[0].message == REQUIRED_MESSAGE.replace("婚姻状况", header)
    assert counts(world) == before


def test_a_value_that_is_not_a_status_is_reported_once(world):
    outcome = run(world, [person_row(1, 婚姻状况="离异再婚中")])
    assert [p.code for p in outcome.problems] == ["CHOICE_INVALID"]


def test_new_persons_of_a_household_roster_without_the_column_are_refused(world):
    rows = [_household_row(1, None), _household_row(2, None)]
    before = counts(world)
    outcome = run(world, rows, kind="households", dry_run=False)
    assert not outcome.committed and outcome.new == 0
    assert _problems(outcome) == [
        (2, "MARITAL_REQUIRED", "婚姻状况", "marital_status"),
        (3, "MARITAL_REQUIRED", "婚姻状况", "marital_status"),
    ]
    assert outcome.problems[0].message == REQUIRED_MESSAGE + "请在表中加上这一列。"
    assert counts(world) == before


def test_a_new_person_of_a_household_roster_with_an_empty_cell_is_refused(world):
    rows = [_household_row(1, ""), _household_row(2, "已婚")]
    before = counts(world)
    outcome = run(world, rows, kind="households", dry_run=False)
    assert not outcome.committed
    assert _problems(outcome) == [(2, "MARITAL_REQUIRED", "婚姻状况", "marital_status")]
    assert outcome.problems[0].message == REQUIRED_MESSAGE
    assert counts(world) == before


# --- a registered person without it -------------------------------------------------------------


@pytest.mark.parametrize("cell", [None, ""], ids=["column absent", "cell empty"])
def test_a_registered_person_may_leave_it_empty_and_keeps_the_stored_status(world, cell):
    spouse = world.a.persons[1]  # registered in village 0, married, not a member yet
    row = {
        "姓名": spouse.name,
        "身份证号码": spouse.id_number,
        "会员小组": "第1组",
        "会员类别": "志愿者",
    }
    if cell is not None:
        row["婚姻状况"] = cell
    outcome = run(world, [row], dry_run=False)
    assert outcome.committed and outcome.problems == [] and outcome.new == 1
    with activate(Scope.for_node(world.a.county)):
        assert Person.objects.get(pk=spouse.pk).marital_status == "married"
        assert Member.objects.filter(person=spouse).exists()
        assert not ChangeRecord.objects.filter(
            object_type="households.Person", object_id=spouse.pk, action="update"
        ).exists()


def test_a_registered_person_of_a_household_roster_may_leave_it_empty(world):
    head = world.a.persons[0]
    row = {
        "户编号": world.a.households[0].number,
        "姓名": head.name,
        "身份证号码": head.id_number,
        "与户主关系": "户主",
        "婚姻状况": "",
    }
    outcome = run(world, [row], kind="households", dry_run=False)
    assert outcome.problems == []
    assert outcome.counts == {"new": 0, "updated": 0, "unchanged": 1, "invalid": 0}
    with activate(Scope.for_node(world.a.county)):
        assert Person.objects.get(pk=head.pk).marital_status == "married"


def test_a_registered_person_whose_status_is_given_is_updated(world):
    spouse = world.a.persons[1]
    row = {
        "姓名": spouse.name,
        "身份证号码": spouse.id_number,
        "婚姻状况": "丧偶",
        "会员类别": "志愿者",
    }
    outcome = run(world, [row], dry_run=False)
    assert outcome.committed, outcome.problems
    with activate(Scope.for_node(world.a.county)):
        assert Person.objects.get(pk=spouse.pk).marital_status == "widowed"


# --- a new person with it -----------------------------------------------------------------------


def test_a_new_member_registered_as_married_is_stored_married(world):
    outcome = run(
        world, [person_row(1, 婚姻状况="已婚"), person_row(2, 婚姻状况="未婚")], dry_run=False
    )
    assert outcome.committed and outcome.new == 2, outcome.problems
    with activate(Scope.for_node(world.a.county)):
        stored = dict(
            Person.objects.filter(id_number__in=[new_id(1), new_id(2)]).values_list(
                "id_number", "marital_status"
            )
        )
        created = ChangeRecord.objects.get(
            object_type="households.Person",
            object_id=Person.objects.get(id_number=new_id(1)).pk,
            action="create",
        )
    assert stored == {new_id(1): "married", new_id(2): "unmarried"}
    assert created.after["marital_status"] == "married"


def test_a_new_household_member_registered_as_married_is_stored_married(world):
    outcome = run(world, [_household_row(1, "已婚")], kind="households", dry_run=False)
    assert outcome.committed and outcome.new == 1, outcome.problems
    with activate(Scope.for_node(world.a.county)):
        assert Person.objects.get(id_number=new_id(1)).marital_status == "married"


# --- where users see it -------------------------------------------------------------------------


def test_the_preview_and_the_error_workbook_show_the_problem(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    page = client.get(reverse("import-upload", kwargs={"pk": user.node_id})).content.decode()
    assert "尚未登记的人员须填写“婚姻状况”" in page
    rows = [person_row(1, 婚姻状况=""), person_row(2)]
    _upload(client, user.node, rows)
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    body = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    assert "MARITAL_REQUIRED" in body and REQUIRED_MESSAGE in body and "确认导入" not in body
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    column = [c.value for c in sheet[1]].index("婚姻状况") + 1
    flagged = sheet.cell(row=2, column=column)
    assert (
        flagged.fill.fgColor.rgb.endswith("FFC7CE") and "MARITAL_REQUIRED" in flagged.comment.text
    )
    assert sheet.cell(row=3, column=column).comment is None
    listing = [[c.value for c in row] for row in workbook["问题清单"].iter_rows(min_row=2)]
    assert listing == [
        [2, "婚姻状况", REQUIRED_MESSAGE, "新登记的人员未填写婚姻状况", "MARITAL_REQUIRED"]
    ]


def test_the_members_template_has_the_column_with_its_values():
    workbook = openpyxl.load_workbook(io.BytesIO(imports.template_workbook("members")))
    sheet, allowed = workbook.worksheets
    headers = [c.value for c in sheet[1]]
    column = headers.index("婚姻状况") + 1
    header = sheet.cell(row=1, column=column)
    assert (
        "未婚、已婚、离婚、丧偶" in header.comment.text
        and "新登记的人员必填" in header.comment.text
    )
    assert sheet.cell(row=2, column=column).value == "已婚"  # the example row
    letter = openpyxl.utils.get_column_letter(column)
    validations = [str(v.sqref) for v in sheet.data_validations.dataValidation]
    assert f"{letter}2:{letter}2001" in validations
    titles = [c.value for c in allowed[1]]
    values = [
        c.value for c in allowed[openpyxl.utils.get_column_letter(titles.index("婚姻状况") + 1)]
    ]
    assert values[1:5] == ["未婚", "已婚", "离婚", "丧偶"]
