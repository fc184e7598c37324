"""Roster imports: the file checks, one test per row code, atomicity, idempotence, scope, the
pages and the background tasks. Workbooks are built in memory with openpyxl."""

from __future__ import annotations

import csv
import datetime
import io
import struct
import zipfile
from dataclasses import asdict

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from associations import imports as import_files
from associations import jobs
from associations.imports import jobs as import_jobs
from associations.imports import run_import
from associations.models import ChangeRecord, Job
from associations.scope import Scope, activate
from associations.tasks import run_job
from households.import_columns import NUMERIC_ID_MESSAGE
from households.models import Household, Person
from members import imports as member_imports
from members.models import Member

from ..conftest import make_id_number

pytestmark = pytest.mark.django_db

HEADERS = [
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "联系电话",
    "婚姻状况",
    "会员小组",
    "会员类别",
    "入会日期",
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def new_id(sequence: int, sex: str = "male", year: int = 1975) -> str:
    return make_id_number("130534", datetime.date(year, 3, 1 + sequence % 27), 300 + sequence, sex)


def person_row(sequence: int, **overrides) -> dict:
    sex = overrides.pop("sex_value", "male")
    row = {
        "姓名": f"新会员{sequence}",
        "性别": "男" if sex == "male" else "女",
        "身份证号码": new_id(sequence, sex),
        "出生日期": "",
        "联系电话": "13812345678",
        "婚姻状况": "已婚",
        "会员小组": "第1组",
        "会员类别": "志愿者",
        "入会日期": "2024-05-29",
    }
    row.update(overrides)
    return row


def xlsx(rows: list[dict], *, headers=None, title_rows=(), numeric_ids=False) -> bytes:
    headers = headers or list(rows[0]) if rows else headers or HEADERS
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for title in title_rows:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        values = []
        for header in headers:
            value = row.get(header, "")
            if numeric_ids and header.startswith("身份证") and value:
                value = int(value[:17] + ("0" if value[17] == "X" else value[17]))
            values.append(value if value != "" else None)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, rows, *, user="village_secretary", node=None, dry_run=True, kind="members", **kw):
    user = world.a.users[user]
    node = node or user.node
    data = xlsx(rows, **kw)
    with activate(Scope.for_node(user.node)):
        return run_import(
            kind=kind, target=node, actor=user, data=data, file_type="xlsx", dry_run=dry_run
        )


def codes(outcome) -> list[str]:
    return [p.code for p in outcome.problems]


def only_problem(outcome):
    assert len(outcome.problems) == 1, outcome.problems
    return outcome.problems[0]


def counts(world, user="village_secretary"):
    with activate(Scope.for_node(world.a.county)):
        return (
            Person.objects.count(),
            Household.objects.count(),
            Member.objects.count(),
            ChangeRecord.objects.count(),
        )


# --- a clean import ---------------------------------------------------------------------------


def test_a_clean_file_previews_then_commits(world):
    rows = [person_row(i) for i in range(3)]
    before = counts(world)
    preview = run(world, rows)
    assert preview.counts == {"new": 3, "updated": 0, "unchanged": 0, "invalid": 0}
    assert counts(world) == before  # the dry run wrote nothing
    done = run(world, rows, dry_run=False)
    assert done.committed and done.counts["new"] == 3
    village = world.a.villages[0]
    with activate(Scope.for_node(village)):
        members = Member.objects.filter(person__name__startswith="新会员").select_related(
            "person", "group"
        )
        assert len(members) == 3
        member = members[0]
        assert member.association_id == village.pk
        assert member.group == world.a.groups[0]
        assert member.categories == ["volunteer"]
        assert member.joined_on == datetime.date(2024, 5, 29)
        assert member.person.sex == "male" and member.person.birth_date.year == 1975
        assert member.person.village_id == village.pk
        assert member.member_number.isdigit()
        # One change record per person and per membership, by the importing user.
        records = ChangeRecord.objects.filter(actor=world.a.users["village_secretary"])
        assert records.filter(object_type="households.Person", action="create").count() == 3
        assert records.filter(object_type="members.Member", action="create").count() == 3
    assert counts(world)[3] == before[3] + 6


# --- one test per row code --------------------------------------------------------------------


def test_id_empty(world):
    problem = only_problem(run(world, [person_row(1, 身份证号码="")]))
    assert (problem.code, problem.column, problem.row_number) == ("ID_EMPTY", "身份证号码", 2)


def test_id_chars(world):
    problem = only_problem(run(world, [person_row(1, 身份证号码="13053419750302A011")]))
    assert problem.code == "ID_CHARS"


def test_id_length(world):
    problem = only_problem(run(world, [person_row(1, 身份证号码="1305341975030")]))
    assert problem.code == "ID_LENGTH" and "18 位" in problem.message


def test_id_checksum(world):
    number = new_id(1)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    problem = only_problem(run(world, [person_row(1, 身份证号码=wrong)]))
    assert problem.code == "ID_CHECKSUM" and "校验位" in problem.message


def _with_check_digit(body: str) -> str:
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


def test_id_birth_date(world):
    problem = only_problem(
        run(world, [person_row(1, 身份证号码=_with_check_digit("13053419750230301"))])
    )
    assert problem.code == "ID_BIRTH_DATE"


def test_id_future_birth(world):
    problem = only_problem(
        run(world, [person_row(1, 身份证号码=_with_check_digit("13053420990101301"))])
    )
    assert problem.code == "ID_FUTURE_BIRTH"


def test_id_region(world):
    problem = only_problem(
        run(world, [person_row(1, 身份证号码=_with_check_digit("99053419750101301"))])
    )
    assert problem.code == "ID_REGION"


def test_id_numeric_cell_is_refused_never_guessed(world):
    outcome = run(world, [person_row(1), person_row(2)], numeric_ids=True)
    assert codes(outcome) == ["ID_NUMERIC_CELL", "ID_NUMERIC_CELL"]
    assert outcome.problems[0].message == NUMERIC_ID_MESSAGE
    assert outcome.new == 0


def test_id_numeric_cell_in_a_csv_written_by_excel(world):
    user = world.a.users["village_secretary"]
    text = "姓名,身份证号码,性别\n张三,1.30534E+17,男\n"
    with activate(Scope.for_node(user.node)):
        outcome = run_import(
            kind="members",
            target=user.node,
            actor=user,
            data=text.encode(),
            file_type="csv",
            dry_run=True,
        )
    assert codes(outcome) == ["ID_NUMERIC_CELL"]


def test_id_birth_mismatch(world):
    problem = only_problem(run(world, [person_row(1, 出生日期="1975-03-09")]))
    assert problem.code == "ID_BIRTH_MISMATCH" and problem.column == "出生日期"


def test_id_sex_mismatch(world):
    problem = only_problem(run(world, [person_row(1, 性别="女")]))
    assert problem.code == "ID_SEX_MISMATCH" and problem.column == "性别"


def test_name_mismatch(world):
    person = world.a.persons[1]  # the spouse in village 0, not a member
    problem = only_problem(
        run(world, [person_row(1, 姓名="别人", 身份证号码=person.id_number, 性别="女")])
    )
    assert problem.code == "NAME_MISMATCH"
    assert person.name not in problem.message  # the stored name is masked


def test_person_elsewhere(world):
    person = world.a.persons[3]  # the spouse in village 1, a sibling of the secretary's village
    outcome = run(
        world,
        [person_row(1, 姓名=person.name, 身份证号码=person.id_number, 性别="女")],
        user="county_admin",
        node=world.a.villages[0],
    )
    problem = only_problem(outcome)
    assert problem.code == "PERSON_ELSEWHERE" and world.a.villages[1].name in problem.message


def test_person_deceased(world):
    person = world.a.persons[1]
    with activate(Scope.for_node(world.a.county)):
        Person.objects.filter(pk=person.pk).update(
            is_deceased=True, died_on=datetime.date(2024, 1, 1)
        )
    problem = only_problem(
        run(world, [person_row(1, 姓名=person.name, 身份证号码=person.id_number, 性别="女")])
    )
    assert problem.code == "PERSON_DECEASED"


def test_phone_invalid(world):
    problem = only_problem(run(world, [person_row(1, 联系电话="1381234")]))
    assert problem.code == "PHONE_INVALID" and "11 位" in problem.message


def test_date_invalid(world):
    outcome = run(
        world, [person_row(1, 入会日期="2024-13-45"), person_row(2, 入会日期="2999-01-01")]
    )
    assert codes(outcome) == ["DATE_INVALID", "DATE_INVALID"]
    assert "晚于今天" in outcome.problems[1].message


def test_required(world):
    problem = only_problem(run(world, [person_row(1, 姓名="")]))
    assert (problem.code, problem.column) == ("REQUIRED", "姓名")


def test_choice_invalid(world):
    outcome = run(world, [person_row(1, 会员类别="志愿者、会计"), person_row(2, 性别="未知")])
    assert codes(outcome) == ["CHOICE_INVALID", "CHOICE_INVALID"]
    assert "会计" in outcome.problems[0].message


def test_village_unknown(world):
    rows = [person_row(1, **{"所属村(社区)": "不存在村"})]
    problem = only_problem(run(world, rows, user="county_admin", node=world.a.county))
    assert problem.code == "VILLAGE_UNKNOWN" and problem.column == "所属村(社区)"


def test_group_unknown(world):
    problem = only_problem(run(world, [person_row(1, 会员小组="第9组")]))
    assert problem.code == "GROUP_UNKNOWN"


def test_duplicate_in_file_names_the_first_row(world):
    rows = [person_row(1), person_row(2), person_row(1, 姓名="新会员1")]
    problem = only_problem(run(world, rows))
    assert (problem.code, problem.row_number) == ("DUPLICATE_IN_FILE", 4)
    assert "第 2 行" in problem.message


def test_a_duplicate_row_is_not_checked_against_the_row_it_repeats(world):
    # Another name on the repeated number: the duplicate is the problem, not a "registered"
    # name the county does not have yet.
    rows = [person_row(1), person_row(2), person_row(1, 姓名="王秀明", 性别="女")]
    problem = only_problem(run(world, rows))
    assert (problem.code, problem.row_number) == ("DUPLICATE_IN_FILE", 4)


def test_already_member_elsewhere_names_the_association(world):
    person = world.a.persons[2]  # member of village 1; also recorded there
    with activate(Scope.for_node(world.a.county)):
        # Move the person's record to village 0 so that only the membership is elsewhere.
        v0 = world.a.villages[0]
        Person.objects.filter(pk=person.pk).update(
            village=v0, township=v0.township_id, group=None, household=None
        )
    rows = [person_row(1, 姓名=person.name, 身份证号码=person.id_number)]
    problem = only_problem(run(world, rows))
    assert problem.code == "ALREADY_MEMBER_ELSEWHERE"
    assert world.a.villages[1].name in problem.message


def test_member_number_taken(world):
    taken = world.a.members[0].member_number
    outcome = run(
        world,
        [
            person_row(1, 会员证号=taken),
            person_row(2, 会员证号="0777"),
            person_row(3, 会员证号="0777"),
        ],
        headers=[*HEADERS, "会员证号"],
    )
    assert codes(outcome) == ["MEMBER_NUMBER_TAKEN", "MEMBER_NUMBER_TAKEN"]
    assert outcome.problems[1].row_number == 4 and "第 3 行" in outcome.problems[1].message


def test_head_taken(world):
    household = world.a.households[0]
    rows = [
        {**person_row(1), "户编号": household.number, "与户主关系": "户主"},
        {**person_row(2), "户编号": "0099", "与户主关系": "户主"},
        {**person_row(3), "户编号": "0099", "与户主关系": "户主"},
    ]
    outcome = run(world, rows, headers=[*HEADERS, "户编号", "与户主关系"])
    assert codes(outcome) == ["HEAD_TAKEN", "HEAD_TAKEN"]
    assert [p.row_number for p in outcome.problems] == [2, 4]


def test_too_long(world):
    problem = only_problem(run(world, [person_row(1, 姓名="长" * 51)]))
    assert problem.code == "TOO_LONG"


def test_unknown_columns_are_reported_not_dropped(world):
    rows = [{**person_row(1), "备注": "x", "文化程度": "初中"}]
    outcome = run(world, rows)
    assert outcome.problems == []
    warning = outcome.warnings[0]
    assert warning.code == "UNKNOWN_COLUMN"
    assert "“备注”" in warning.message and "“文化程度”" in warning.message


# --- real-world sheets ------------------------------------------------------------------------


def test_title_row_header_variants_full_width_digits_and_spaces(world):
    number = new_id(5)
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        {
            "姓  名": "  王 五 ",
            "公民身份号码": f" {full_width}\u3000",
            "手机号": "１３８ １２３４ ５６７８",
            "婚姻状态": " 丧偶 ",
            "会员小组": "第1组 ",
            "会员类别": "五老,志愿者",
            "五老类别": "老党员",
            "骨干会员": "是",
        }
    ]
    outcome = run(world, rows, title_rows=["清河县第1镇1村会员花名册", "填报日期:2026年5月"])
    assert outcome.problems == [] and outcome.new == 1
    run(world, rows, dry_run=False, title_rows=["会员花名册"])
    with activate(Scope.for_node(world.a.villages[0])):
        member = Member.objects.select_related("person").get(person__id_number=number)
    assert member.person.name == "王五"
    assert member.person.phone == "13812345678"
    assert member.person.marital_status == "widowed"
    assert member.categories == ["elder", "volunteer"] and member.elder_kind == "party_veteran"
    assert member.is_backbone is True


def test_problems_point_at_the_rows_of_the_file_below_a_title(world):
    outcome = run(world, [person_row(1), person_row(2, 性别="X")], title_rows=["会员花名册"])
    assert only_problem(outcome).row_number == 4  # title, header, row 1, row 2


def test_csv_in_gb18030_and_utf8_with_bom(world):
    user = world.a.users["village_secretary"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "联系电话", "婚姻"])
    writer.writerow(["赵六", new_id(6), "13900001111", "未婚"])
    for data in (buffer.getvalue().encode("gb18030"), buffer.getvalue().encode("utf-8-sig")):
        with activate(Scope.for_node(user.node)):
            outcome = run_import(
                kind="members",
                target=user.node,
                actor=user,
                data=data,
                file_type="csv",
                dry_run=True,
            )
        assert outcome.problems == [] and outcome.new == 1


def test_the_untouched_example_row_of_the_template_is_skipped(world):
    template = openpyxl.load_workbook(io.BytesIO(import_files.template_workbook("members")))
    sheet = template.worksheets[0]
    headers = [c.value for c in sheet[1]]
    row = person_row(7)
    for column, header in enumerate(headers, 1):  # typed under the example, as a user would
        sheet.cell(row=3, column=column, value=row.get(header))
    buffer = io.BytesIO()
    template.save(buffer)
    user = world.a.users["village_secretary"]
    with activate(Scope.for_node(user.node)):
        outcome = run_import(
            kind="members",
            target=user.node,
            actor=user,
            data=buffer.getvalue(),
            file_type="xlsx",
            dry_run=True,
        )
    assert outcome.rows_total == 1 and outcome.new == 1 and outcome.problems == []


def test_the_template(client, world):
    client.force_login(world.a.users["village_secretary"])
    response = client.get(reverse("import-template", kwargs={"kind": "members"}))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet, allowed = workbook.worksheets
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["姓名", "性别", "身份证号码"]
    assert "示例" in sheet["A2"].value
    id_column = headers.index("身份证号码") + 1
    assert sheet.cell(row=2, column=id_column).number_format == "@"
    assert sheet.cell(row=500, column=id_column).number_format == "@"
    assert isinstance(sheet.cell(row=2, column=id_column).value, str)
    assert sheet.data_validations.dataValidation  # drop-downs
    assert allowed.title == "填写说明及可选值"
    titles = [c.value for c in allowed[1]]
    for title in ("会员类别", "五老类别", "民族", "户籍状态", "与户主关系"):
        assert title in titles
    # Importing the untouched template: nothing but the example, which is skipped.
    user = world.a.users["village_secretary"]
    with activate(Scope.for_node(user.node)), pytest.raises(import_files.FileRefused) as refused:
        run_import(
            kind="members",
            target=user.node,
            actor=user,
            data=response.content,
            file_type="xlsx",
            dry_run=True,
        )
    assert refused.value.code == "EMPTY_FILE"
    assert client.get("/imports/templates/nothing.xlsx").status_code == 404
    households = client.get(reverse("import-template", kwargs={"kind": "households"}))
    headers = [c.value for c in openpyxl.load_workbook(io.BytesIO(households.content)).active[1]]
    assert headers[:4] == ["户编号", "姓名", "身份证号码", "与户主关系"]


# --- hostile and broken files -----------------------------------------------------------------


def refused_code(data: bytes, name: str = "名册.xlsx") -> str:
    try:
        file_type = import_files.check_upload(name, len(data))
        import_files.probe(data, file_type, member_imports.MEMBER_COLUMNS)
    except import_files.FileRefused as refused:
        assert refused.message
        return refused.code
    return ""


def _small_workbook() -> bytes:
    return xlsx([person_row(1)])


def _rebuild(data: bytes, *, replace: dict[str, bytes] | None = None, add=None) -> bytes:
    """The workbook with some parts replaced or added."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name, content in add.items():
            target.writestr(name, content)
    return buffer.getvalue()


def test_missing_column(world):
    rows = [person_row(1)]
    with pytest.raises(import_files.FileRefused) as refused:
        run(world, rows, user="county_admin", node=world.a.county)
    assert refused.value.code == "MISSING_COLUMN" and "所属村(社区)" in refused.value.message


def test_zip_bomb_by_declared_size():
    """A part whose central-directory entry declares 200 MB: refused before inflating."""
    data = bytearray(_small_workbook())
    entry = data.find(b"PK\x01\x02")  # the first central-directory entry
    struct.pack_into("<I", data, entry + 24, 200 * 1024 * 1024)  # its uncompressed size
    assert refused_code(bytes(data)) == "ZIP_BOMB"


def test_zip_bomb_by_ratio():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet2.xml", "w") as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(20):
                part.write(chunk)
    assert refused_code(buffer.getvalue()) == "ZIP_BOMB"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol3;</workbook>"""


def test_xml_bomb_in_the_workbook_part():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML  # openpyxl parses with defusedxml
    data = _rebuild(_small_workbook(), replace={"xl/workbook.xml": BILLION_LAUGHS})
    assert refused_code(data) == "XML_BOMB"


def test_xml_bomb_in_a_sheet():
    data = _rebuild(_small_workbook(), replace={"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    assert refused_code(data) == "XML_BOMB"


def test_macro_workbooks():
    assert refused_code(_small_workbook(), "名册.xlsm") == "MACRO_WORKBOOK"
    disguised = _rebuild(_small_workbook(), add={"xl/vbaProject.bin": b"\0VBA"})
    assert refused_code(disguised) == "MACRO_WORKBOOK"


def test_wrong_or_broken_files():
    assert refused_code(b"not a workbook", "名册.xlsx") == "FILE_TYPE"
    assert (
        refused_code(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "名册.xlsx") == "FILE_TYPE"
    )
    assert refused_code(_small_workbook(), "名册.xls") == "FILE_TYPE"
    assert refused_code(_small_workbook(), "名册.pdf") == "FILE_TYPE"
    no_types = io.BytesIO()
    with zipfile.ZipFile(no_types, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert refused_code(no_types.getvalue()) == "FILE_TYPE"
    assert refused_code(_small_workbook(), "名册.csv") == "FILE_TYPE"


def test_oversize_upload(settings):
    settings.IMPORT_MAX_BYTES = 1000
    assert refused_code(_small_workbook()) == "FILE_TOO_LARGE"


def test_too_many_rows(world, settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(import_files.FileRefused) as refused:
        run(world, [person_row(i) for i in range(3)])
    assert refused.value.code == "FILE_TOO_LARGE"


def test_no_header_and_empty_files():
    workbook = openpyxl.Workbook()
    for _ in range(12):
        workbook.active.append(["某某花名册"])
    workbook.active.append(HEADERS)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert refused_code(buffer.getvalue()) == "NO_HEADER"
    assert refused_code(b"", "a.csv") == "EMPTY_FILE"
    header_only = "姓名,身份证号码,性别\n".encode()
    with pytest.raises(import_files.FileRefused) as refused:
        import_files.read_table(header_only, "csv", member_imports.MEMBER_COLUMNS)
    assert refused.value.code == "EMPTY_FILE"


def test_a_hostile_upload_writes_nothing(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    bomb = _rebuild(_small_workbook(), replace={"xl/workbook.xml": BILLION_LAUGHS})
    response = client.post(
        reverse("import-upload", kwargs={"pk": user.node_id}),
        {"kind": "members", "file": SimpleUploadedFile("名册.xlsx", bomb)},
    )
    assert response.status_code == 400
    assert "XML_BOMB" in response.content.decode()
    with activate(Scope.for_node(user.node)):
        assert not Job.objects.exists()


# --- all or nothing ---------------------------------------------------------------------------


def _thousand_rows() -> list[dict]:
    return [
        person_row(
            i,
            身份证号码=make_id_number(
                "130534", datetime.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 100 + i, "male"
            ),
        )
        for i in range(1000)
    ]


def test_a_failure_at_row_500_of_1000_commits_nothing(world, monkeypatch):
    """A database refusal that validation cannot see, at the 500th row: nothing is written,
    not the 499 rows before it nor the 500 after."""
    rows = _thousand_rows()
    before = counts(world)
    original = member_imports.MemberRosterResource.apply

    def apply(resource, plan):
        original(resource, plan)
        if plan.person.row_number == 501:  # the 500th data row, under the header
            plan.instance.member_number = "x" * 40  # too long for the column

    monkeypatch.setattr(member_imports.MemberRosterResource, "apply", apply)
    outcome = run(world, rows, dry_run=False)
    assert not outcome.committed
    assert outcome.error and "全部数据均未导入" in outcome.error
    assert counts(world) == before


def test_an_exception_in_a_row_commits_nothing(world, monkeypatch):
    rows = _thousand_rows()
    before = counts(world)
    original = member_imports.MemberRosterResource.apply

    def apply(resource, plan):
        if plan.person.row_number == 501:
            raise IntegrityError("injected")
        original(resource, plan)

    monkeypatch.setattr(member_imports.MemberRosterResource, "apply", apply)
    outcome = run(world, rows, dry_run=False)
    assert not outcome.committed and outcome.invalid == 1
    assert codes(outcome) == ["DATABASE_ERROR"]
    assert outcome.problems[0].message.startswith("处理此行时出错,全部数据均未导入")
    assert counts(world) == before


def test_one_invalid_row_means_nothing_is_committed(world):
    rows = [person_row(i) for i in range(5)]
    rows[3]["性别"] = "?"
    before = counts(world)
    outcome = run(world, rows, dry_run=False)
    assert not outcome.committed and outcome.invalid == 1 and outcome.new == 4
    assert counts(world) == before


# --- idempotence ------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(world):
    existing = world.a.persons[1]  # recorded in village 0, not a member yet
    rows = [person_row(i) for i in range(4)] + [
        {
            "姓名": existing.name,
            "身份证号码": existing.id_number,
            "性别": "女",
            "会员小组": "第1组",
            "联系电话": "13900002222",
            "会员类别": "志愿者",
        }
    ]
    first = run(world, rows, dry_run=False)
    assert first.committed and first.new == 5
    snapshot_after_first = counts(world)
    second = run(world, rows, dry_run=False)
    assert second.counts == {"new": 0, "updated": 0, "unchanged": 5, "invalid": 0}
    assert counts(world) == snapshot_after_first  # no row, no change record


def test_a_changed_cell_updates_and_is_recorded(world):
    rows = [person_row(1), person_row(2)]
    run(world, rows, dry_run=False)
    rows[1]["联系电话"] = "13900009999"
    rows[1]["会员类别"] = "志愿者、生产骨干"
    preview = run(world, rows)
    assert preview.counts == {"new": 0, "updated": 1, "unchanged": 1, "invalid": 0}
    run(world, rows, dry_run=False)
    with activate(Scope.for_node(world.a.villages[0])):
        member = Member.objects.select_related("person").get(person__id_number=new_id(2))
        assert member.person.phone == "13900009999"
        assert member.categories == ["production_backbone", "volunteer"]
        update = ChangeRecord.objects.filter(
            object_type="members.Member", object_id=member.pk, action="update"
        ).get()
        assert update.before["categories"] == ["volunteer"]
        assert update.source  # the request, task or command it came from


def test_a_fact_change_without_household_columns_refreshes_the_household(world):
    # A birth date stored wrong (older data) and corrected by the file: the household's
    # derived categories are recomputed although the file names no household.
    head = world.a.persons[0]
    household = world.a.households[0]
    with activate(Scope.for_node(world.a.county)):
        Person.objects.filter(pk=head.pk).update(birth_date=datetime.date(1900, 1, 1))
        Household.objects.filter(pk=household.pk).update(categories_refreshed_on=None)
    row = {
        "姓名": head.name,
        "身份证号码": head.id_number,
        "出生日期": head.birth_date.isoformat(),
        "入会日期": "2024-05-29",
        "会员类别": "志愿者",
    }
    outcome = run(world, [row], dry_run=False)
    assert outcome.committed and outcome.updated == 1, outcome.problems
    with activate(Scope.for_node(world.a.county)):
        assert Person.objects.get(pk=head.pk).birth_date == head.birth_date
        refreshed = Household.objects.get(pk=household.pk).categories_refreshed_on
    assert refreshed == datetime.date.today()


# --- scope ------------------------------------------------------------------------------------


def test_another_countys_village_is_unknown_and_nothing_is_written(world):
    b = world.b.villages[0]
    rows = [
        person_row(1, **{"所属村(社区)": b.name}),
        person_row(2, **{"所属村(社区)": b.division_code}),
        person_row(3, **{"所属村(社区)": world.a.villages[2].division_code}),  # other township
    ]
    before = counts(world)
    outcome = run(world, rows, user="township_staff", node=world.a.townships[0], dry_run=False)
    assert codes(outcome) == ["VILLAGE_UNKNOWN"] * 3
    assert not outcome.committed and counts(world) == before
    with activate(Scope.for_node(world.b.county)):
        assert not Person.objects.filter(name__startswith="新会员").exists()


def test_a_village_import_refuses_a_sibling_village(world):
    sibling = world.a.villages[1]
    outcome = run(world, [person_row(1, **{"所属村(社区)": sibling.name})])
    assert codes(outcome) == ["VILLAGE_UNKNOWN"]


def test_a_county_import_places_rows_in_their_villages(world):
    v2 = world.a.villages[2]
    rows = [
        person_row(1, **{"所属村(社区)": world.a.villages[0].name}),
        person_row(
            2, **{"所属村(社区)": v2.division_code}, 会员小组=world.a.groups[5].division_code
        ),
    ]
    outcome = run(world, rows, user="county_admin", node=world.a.county, dry_run=False)
    assert outcome.committed, outcome.problems
    with activate(Scope.for_node(world.a.county)):
        member = Member.objects.get(person__id_number=new_id(2))
    assert (member.village_id, member.group_id) == (v2.pk, world.a.groups[5].pk)


# --- households -------------------------------------------------------------------------------


def test_household_roster_creates_households_and_persons(world):
    rows = [
        {
            "户编号": "0100",
            "姓名": "钱一",
            "身份证号码": new_id(11),
            "与户主关系": "户主",
            "住址": "东街 9 号",
            "户籍状态": "户籍常住",
            "婚姻状况": "已婚",
        },
        {
            "户编号": "0100",
            "姓名": "孙二",
            "身份证号码": new_id(12, "female"),
            "与户主关系": "妻子",
            "婚姻状况": "已婚",
        },
        {
            "户编号": "0100",
            "姓名": "钱三",
            "身份证号码": new_id(13, "female", 2010),
            "与户主关系": "女儿",
            "婚姻状况": "未婚",
        },
        {
            "户编号": "0101",
            "姓名": "李四",
            "身份证号码": new_id(14),
            "与户主关系": "户主",
            "婚姻状况": "离婚",
        },
    ]
    outcome = run(world, rows, kind="households", dry_run=False)
    assert outcome.committed and outcome.new == 4, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        household = Household.objects.select_related("head").get(number="0100")
        assert household.head.name == "钱一" and household.address == "东街 9 号"
        assert sorted(
            Person.objects.filter(household=household).values_list("relation_to_head", flat=True)
        ) == ["daughter", "head", "spouse"]
        assert dict(
            Person.objects.filter(name__in=["孙二", "钱三", "李四"]).values_list(
                "name", "marital_status"
            )
        ) == {"孙二": "married", "钱三": "unmarried", "李四": "divorced"}
        assert "one_child" in household.categories  # derived, as the services do
    again = run(world, rows, kind="households", dry_run=False)
    assert again.counts == {"new": 0, "updated": 0, "unchanged": 4, "invalid": 0}


def test_household_roster_requires_the_household_columns(world):
    outcome = run(
        world,
        [
            {
                "户编号": "",
                "姓名": "周五",
                "身份证号码": new_id(15),
                "与户主关系": "",
                "婚姻状况": "已婚",
            }
        ],
        kind="households",
    )
    assert codes(outcome) == ["REQUIRED", "REQUIRED"]


# --- pages ------------------------------------------------------------------------------------


def _upload(client, node, rows, **kw):
    return client.post(
        reverse("import-upload", kwargs={"pk": node.pk}),
        {"kind": "members", "file": SimpleUploadedFile("会员花名册.xlsx", xlsx(rows, **kw))},
    )


def test_upload_preview_commit(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    page = client.get(reverse("import-upload", kwargs={"pk": user.node_id}))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("import-template", kwargs={"kind": "members"}) in body and "上传并校验" in body
    response = _upload(client, user.node, [person_row(i) for i in range(3)])
    assert response.status_code == 302
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    assert response.url == reverse("job", kwargs={"pk": job.pk})
    assert (
        job.state == "ready"
        and job.count("new") == 3
        and job.input_file.startswith(f"jobs/{world.a.county.pk}/{job.pk}/")
    )
    body = client.get(response.url).content.decode()
    assert "将新增" in body and "确认导入" in body
    done = client.post(reverse("import-commit", kwargs={"pk": job.pk}), follow=True)
    assert "导入完成" in done.content.decode()
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
        assert (
            job.state == "done"
            and Member.objects.filter(person__name__startswith="新会员").count() == 3
        )
    again = client.post(reverse("import-commit", kwargs={"pk": job.pk}), follow=True)
    assert "已经导入" in again.content.decode()


def test_invalid_rows_hide_the_commit_button_and_the_error_workbook_marks_them(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    rows = [person_row(1), person_row(2, 性别="未知"), person_row(3, 联系电话="12")]
    _upload(client, user.node, [{**r, "备注": ""} for r in rows], title_rows=["会员花名册"])
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    body = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    assert "确认导入" not in body
    assert "CHOICE_INVALID" in body and "PHONE_INVALID" in body and "“备注”" in body
    assert client.post(reverse("import-commit", kwargs={"pk": job.pk})).status_code == 302
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.state == "ready"  # the commit was refused
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[2]]  # row 1 is the title, as in the upload
    sex, phone = headers.index("性别") + 1, headers.index("联系电话") + 1
    bad_sex, bad_phone = sheet.cell(row=4, column=sex), sheet.cell(row=5, column=phone)
    for cell, code in ((bad_sex, "CHOICE_INVALID"), (bad_phone, "PHONE_INVALID")):
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")
        assert code in cell.comment.text
    good = sheet.cell(row=3, column=sex)
    assert good.comment is None and not good.fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=4, column=headers.index("身份证号码") + 1).value == rows[1]["身份证号码"]
    listing = workbook["问题清单"]
    assert [c.value for c in listing[1]] == ["行号", "列", "问题", "类别", "代码"]
    assert listing.cell(row=2, column=1).value == 4


@pytest.mark.parametrize("role", ["group_leader", "county_viewer"])
def test_read_only_roles_cannot_import(client, world, role):
    user = world.a.users[role]
    client.force_login(user)
    assert client.get(reverse("import-upload", kwargs={"pk": user.node_id})).status_code == 403
    assert _upload(client, user.node, [person_row(1)]).status_code == 403


def test_group_pages_and_foreign_jobs(client, world):
    secretary = world.a.users["village_secretary"]
    client.force_login(secretary)
    group = world.a.groups[0]
    assert client.get(reverse("import-upload", kwargs={"pk": group.pk})).status_code == 403
    _upload(client, secretary.node, [person_row(1)])
    with activate(Scope.for_node(secretary.node)):
        job = Job.objects.get()
    client.force_login(world.a.users["village_secretary_sibling"])
    for name in ("job", "import-errors"):
        assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404
    assert client.post(reverse("import-commit", kwargs={"pk": job.pk})).status_code == 404
    client.force_login(world.b.users["county_admin"])
    assert client.get(reverse("job", kwargs={"pk": job.pk})).status_code == 404
    client.force_login(world.a.users["county_viewer"])
    assert client.get(reverse("job", kwargs={"pk": job.pk})).status_code == 403


# --- background work --------------------------------------------------------------------------


def test_large_files_run_in_the_worker_and_the_page_refreshes(
    client, world, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = 2
    user = world.a.users["village_secretary"]
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        _upload(client, user.node, [person_row(i) for i in range(4)])  # eager in tests
    assert len(sent) == 1  # sent once the job's row is committed
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    assert job.state == "ready" and job.count("new") == 4 and job.attempts == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-commit", kwargs={"pk": job.pk}))
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.state == "done" and job.rows_done == 4
    with activate(Scope.for_node(user.node)):
        Job.objects.filter(pk=job.pk).update(
            state="running", rows_done=2, heartbeat_at=timezone.now()
        )
    page = client.get(reverse("job", kwargs={"pk": job.pk}))
    assert page["Refresh"] == "2"
    body = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body and "2 / 4" in body
    assert body.index('http-equiv="refresh"') < body.index("</head>")


def test_the_tasks_run_in_scope_and_are_idempotent(world):
    user = world.a.users["village_secretary"]
    scope = asdict(Scope.for_node(user.node))
    with activate(Scope.for_node(user.node)):
        job = import_jobs.job_create(
            actor=user,
            node=user.node,
            kind="members",
            upload=SimpleUploadedFile("a.xlsx", xlsx([person_row(1), person_row(2)])),
        )
        jobs.send(job, step=import_jobs.VALIDATE)
    assert run_job(job.pk, scope=scope) == {"job": job.pk, "state": "ready"}
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.result["counts"] == {"new": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    assert run_job(job.pk, scope=scope)["status"] == "skipped"  # ready: nothing to claim
    with activate(Scope.for_node(user.node)):
        Job.objects.filter(pk=job.pk).update(step=import_jobs.COMMIT)  # claimed by a click
        jobs.send(job, step=import_jobs.COMMIT)
        assert not import_jobs.start_commit(job)  # a second click finds it claimed
    assert run_job(job.pk, scope=scope)["state"] == "done"
    before = counts(world)
    assert run_job(job.pk, scope=scope)["status"] == "skipped"  # redelivered: nothing more
    assert counts(world) == before
    sibling = asdict(Scope.for_node(world.a.villages[1]))
    assert run_job(job.pk, scope=sibling)["status"] == "skipped"


def test_an_unreachable_broker_is_said_plainly(
    client, world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    settings.IMPORT_BACKGROUND_ROWS = 1

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(jobs, "runs_eagerly", lambda: False)
    monkeypatch.setattr(run_job, "apply_async", refuse)
    user = world.a.users["village_secretary"]
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, user.node, [person_row(1), person_row(2)])
    body = client.get(response.url).content.decode()
    assert "后台任务服务暂不可用" in body and "重新提交" in body
    monkeypatch.undo()
    settings.IMPORT_BACKGROUND_ROWS = 1
    with activate(Scope.for_node(user.node)):
        job = Job.objects.get()
    assert (job.state, job.failure) == ("failed", "broker_down")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("job-resend", kwargs={"pk": job.pk}))
    with activate(Scope.for_node(user.node)):
        job.refresh_from_db()
    assert job.state == "ready" and job.count("new") == 2 and not job.error


def test_an_old_15_digit_number_finds_the_person_recorded_with_18(world):
    person = world.a.persons[1]  # 18 digits, born 1982: the 15-digit form drops "19" and the check
    old = person.id_number[:6] + person.id_number[8:17]
    rows = [{"姓名": person.name, "身份证号码": old, "会员小组": "第1组"}]
    outcome = run(world, rows, dry_run=False)
    assert outcome.committed and outcome.new == 1, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        assert Member.objects.filter(person=person, status="active").exists()
        # No second person: the village still holds its two (ID numbers are encrypted at
        # rest, so they are counted, not matched by prefix).
        assert Person.objects.count() == 2
        assert Person.objects.get(id_number=person.id_number).pk == person.pk


def test_a_person_moves_to_another_household_of_the_village(world):
    spouse = world.a.persons[1]
    rows = [
        {
            "户编号": "0300",
            "姓名": spouse.name,
            "身份证号码": spouse.id_number,
            "与户主关系": "户主",
        }
    ]
    outcome = run(world, rows, kind="households", dry_run=False)
    assert outcome.committed and outcome.updated == 1, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        spouse.refresh_from_db()
        new = Household.objects.get(number="0300")
        assert spouse.household_id == new.pk and new.head_id == spouse.pk
        assert spouse.relation_to_head == "head"
        assert ChangeRecord.objects.filter(
            object_type="households.Household", object_id=new.pk, action="create"
        ).exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open():
    """rows_done goes through a second connection, so the page sees it before the import's
    own transaction ends."""
    from django.db import transaction

    from associations import services
    from associations.models import Association

    from ..conftest import PASSWORD

    county, admin = services.county_create(
        name="沙河市", division_code="130582", admin_username="p_admin", admin_password=PASSWORD
    )
    with activate(Scope.for_node(county)):
        job = Job(
            kind="import.members",
            step="validate",
            node=county,
            input_name="x.xlsx",
            file_type="xlsx",
            owner=admin,
            rows_total=1000,
        )
        job.place_under(county)
        job.save()
        writer = import_jobs.ProgressWriter(job, interval=0)
        with transaction.atomic():
            Association.objects.filter(pk=county.pk).update(name="沙河市(导入中)")
            writer(500)
            job.refresh_from_db()  # read committed: the other connection's write is seen
            assert job.rows_done == 500
            transaction.set_rollback(True)
        assert Association.objects.get(pk=county.pk).name == "沙河市"
