"""Roster imports meeting real sheets: group names as villagers write them, old 15-digit ID
numbers, what the error workbook keeps of the upload, phones, progress, the problem list, the
mother column of the household roster."""

from __future__ import annotations

import datetime
import decimal
import io

import openpyxl
import pytest
from django.urls import reverse

from associations import imports, services
from associations.imports import jobs as import_jobs
from associations.imports import run_import
from associations.models import Job
from associations.scope import Scope, activate
from households import import_columns, import_rows
from households import imports as household_imports
from members import imports as member_imports
from members.models import Member

from .test_import import _upload, new_id, only_problem, person_row, xlsx

pytestmark = pytest.mark.django_db


def _village_with_groups(world, names: list[str], *, code: str = "130534100299"):
    """A new village of county A's first township with the groups named, in that order."""
    admin = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        village = services.association_create(
            actor=admin, parent=world.a.townships[0], name="石桥村", division_code=code
        )
        for index, name in enumerate(names, 1):
            services.association_create(
                actor=admin, parent=village, name=name, division_code=f"{code}{index:03d}"
            )
    return village


def _import_into(world, village, rows, *, dry_run=True, kind="members", **kw):
    admin = world.a.users["county_admin"]
    with activate(Scope.for_node(world.a.county)):
        return run_import(
            kind=kind,
            target=village,
            actor=admin,
            data=xlsx(rows, **kw),
            file_type="xlsx",
            dry_run=dry_run,
        )


# --- 1. group names as villagers write them ---------------------------------------------------

VILLAGE_GROUPS = ["第一会员小组", "第二会员小组", "第十二会员小组"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("第一会员小组", "第一会员小组"),
        ("第一小组", "第一会员小组"),
        ("一组", "第一会员小组"),
        ("1组", "第一会员小组"),
        ("第1组", "第一会员小组"),
        ("一小组", "第一会员小组"),
        ("１ 组", "第一会员小组"),
        ("第二组", "第二会员小组"),
        ("12组", "第十二会员小组"),
        ("第十二小组", "第十二会员小组"),
        ("130534100299003", "第十二会员小组"),
    ],
)
def test_a_group_written_the_villagers_way_finds_the_villages_group(world, written, expected):
    village = _village_with_groups(world, VILLAGE_GROUPS)
    outcome = _import_into(world, village, [person_row(1, 会员小组=written)], dry_run=False)
    assert outcome.committed, outcome.problems
    with activate(Scope.for_node(village)):
        member = Member.objects.select_related("group").get(person__id_number=new_id(1))
    assert member.group.name == expected


def test_group_numbers_read_from_names():
    assert import_columns.group_number("第九十九会员小组") == 99
    assert import_columns.group_number("二十一组") == 21
    assert import_columns.group_number("第3组") == 3
    assert import_columns.group_number("07") == 7
    assert import_columns.group_number("一二组") is None  # not a numeral: never guessed as 12
    assert import_columns.group_number("东组") is None
    assert import_columns.group_number("第一村民小组") == 1


def test_an_exact_name_wins_and_two_groups_of_one_number_are_never_guessed(world):
    village = _village_with_groups(world, ["第一会员小组", "一组"])
    outcome = _import_into(
        world, village, [person_row(1, 会员小组="一组"), person_row(2, 会员小组="第1组")]
    )
    problem = only_problem(outcome)
    assert (problem.row_number, problem.code) == (3, "GROUP_AMBIGUOUS")
    assert "第一会员小组、一组" in problem.message


def test_an_unknown_group_lists_the_villages_groups(world):
    village = _village_with_groups(world, VILLAGE_GROUPS)
    problem = only_problem(_import_into(world, village, [person_row(1, 会员小组="第9组")]))
    assert problem.code == "GROUP_UNKNOWN"
    assert "第一会员小组、第二会员小组、第十二会员小组" in problem.message


def test_a_long_list_of_groups_is_cut_short(world):
    names = [f"第{n}会员小组" for n in range(1, 21)]
    village = _village_with_groups(world, names)
    problem = only_problem(_import_into(world, village, [person_row(1, 会员小组="西组")]))
    assert "第1会员小组" in problem.message and "第12会员小组等 20 个" in problem.message
    assert "第13会员小组" not in problem.message


# --- 2. old 15-digit numbers named in the preview, masked ---------------------------------------


def _job(user) -> Job:
    with activate(Scope.for_node(user.node)):
        return Job.objects.latest("created_at")


def test_the_preview_names_the_upgraded_15_digit_numbers_masked(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    new = new_id(3)
    old = new[:6] + new[8:17]
    rows = [person_row(1), person_row(3, 身份证号码=old)]
    _upload(client, user.node, rows)
    job = _job(user)
    assert job.state == "ready" and job.count("new") == 2
    body = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    assert "有 1 个 15 位身份证号码已按国家标准自动升级为 18 位" in body
    masked_old, masked_new = f"{old[:6]}*********", f"{new[:6]}************"
    row = body[body.index("原 15 位号码") :]
    assert '<td class="num">3</td>' in row
    assert row.index(masked_old) < row.index("→", row.index(masked_old)) < row.index(masked_new)
    assert old not in body and new not in body  # never the full numbers
    assert all(old not in str(w) and new not in str(w) for w in job.result["warnings"])
    # The notice is not a problem of the file: no error workbook is offered for it.
    assert "下载错误标注文件" not in body


# --- 3. the error workbook keeps the upload's shape ---------------------------------------------


def _messy_roster() -> tuple[bytes, list[str]]:
    """A village's own roster: two merged title rows, a 备注 column and another unknown one,
    one ID number Excel stored as a number, dates typed as dates."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    headers = [*HEADER_ROW, "备注", "文化程度"]
    sheet.append(["清河县第1镇1村会员花名册"])
    sheet.append(["填报单位:1村计生协"])
    sheet.merge_cells("A1:J1")
    sheet.merge_cells("A2:D2")
    sheet.append(headers)
    ids = [new_id(21), new_id(22), new_id(23)]
    joined = datetime.datetime(2024, 5, 29)
    sheet.append(["甲", "男", ids[0], None, "13812345678", "第1组", "志愿者", joined, "", "初中"])
    sheet.append(["乙", "未知", ids[1], None, "13812345678", "第1组", "志愿者", joined, "新", ""])
    sheet.append(["丙", "男", int(ids[2]), None, None, "第1组", "志愿者", joined, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), ids


HEADER_ROW = [
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "联系电话",
    "会员小组",
    "会员类别",
    "入会日期",
]


def _error_workbook(client, world, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = world.a.users["village_secretary"]
    client.force_login(user)
    client.post(
        reverse("import-upload", kwargs={"pk": user.node_id}),
        {"kind": "members", "file": SimpleUploadedFile("花名册.xlsx", data)},
    )
    job = _job(user)
    response = client.get(reverse("import-errors", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    return job, openpyxl.load_workbook(io.BytesIO(response.content))


def test_the_error_workbook_marks_the_columns_not_imported(client, world):
    data, _ids = _messy_roster()
    job, workbook = _error_workbook(client, world, data)
    assert "“备注”" in job.result["warnings"][0]["message"]  # still reported on the page
    sheet = workbook.worksheets[0]
    for column in ("I", "J"):  # 备注, 文化程度
        header = sheet[f"{column}3"]
        assert header.fill.fgColor.rgb.endswith("FFEB9C")
        assert "未导入" in header.comment.text
    name = sheet["A3"]  # the warning about the columns no longer lands on the first header
    assert name.comment is None and not name.fill.fgColor.rgb.endswith("FFC7CE")


def test_a_repeated_column_is_marked_as_a_repeat():
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "身份证号码", "联系电话", "公民身份号码"])
    workbook.active.append(["甲", new_id(1), "13812345678", new_id(2)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table, raw = imports.read_table(
        buffer.getvalue(), "xlsx", member_imports.MEMBER_COLUMNS, keep_raw=True
    )
    content = imports.workbooks.build_error_workbook(table, raw, [], code_labels={})
    header = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]["D1"]
    assert header.comment.text.startswith("此列与第 2 列是同一项,未导入")


def test_the_error_workbook_keeps_the_title_rows_merged(client, world):
    data, _ids = _messy_roster()
    _, workbook = _error_workbook(client, world, data)
    sheet = workbook.worksheets[0]
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:J1", "A2:D2"}
    assert sheet["A1"].value == "清河县第1镇1村会员花名册"


def test_the_error_workbook_writes_id_numbers_as_text(client, world):
    data, ids = _messy_roster()
    _, workbook = _error_workbook(client, world, data)
    sheet = workbook.worksheets[0]
    # The number the file stored for the third ID (a float: its last digits are gone), as
    # digits, not 1.30534E+17.
    uploaded = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]["C6"].value
    stored = str(int(decimal.Decimal(repr(uploaded))))
    assert stored != ids[2] and len(stored) == 18
    for row, number in ((4, ids[0]), (5, ids[1]), (6, stored)):
        cell = sheet[f"C{row}"]
        assert cell.data_type == "s" and cell.number_format == "@"
        assert cell.value == number
    assert "ID_NUMERIC_CELL" in sheet["C6"].comment.text  # the stored number stays refused


def test_the_error_workbook_writes_dates_without_a_time(client, world):
    data, _ids = _messy_roster()
    _, workbook = _error_workbook(client, world, data)
    sheet = workbook.worksheets[0]
    cell = sheet["H4"]
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    assert cell.value == datetime.datetime(2024, 5, 29)  # openpyxl reads dates back this way
    raw = io.BytesIO()
    workbook.save(raw)
    # The stored value is a whole day: the serial number has no fraction.
    stored = openpyxl.load_workbook(io.BytesIO(raw.getvalue()), read_only=True, data_only=True)
    first = next(stored.worksheets[0].iter_rows(min_row=4, max_row=4))
    assert first[7].value == datetime.datetime(2024, 5, 29)


# --- 7. the problem list: the message first, the code after it, small ------------------------


def test_the_problem_list_puts_the_message_before_the_code(client, world):
    data, _ids = _messy_roster()
    job, workbook = _error_workbook(client, world, data)
    body = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    listing = body[body.index("问题清单") :]
    message = next(p["message"] for p in job.result["problems"] if p["code"] == "CHOICE_INVALID")
    assert listing.index(message) < listing.index("CHOICE_INVALID")
    assert '<small class="problem-code' in listing
    assert "<th>代码</th>" not in listing
    sheet = workbook["问题清单"]
    assert [c.value for c in sheet[1]] == ["行号", "列", "问题", "类别", "代码"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[4].value == "CHOICE_INVALID")
    assert row[2].value == message and row[3].value == "不是可选的值"
    assert row[4].font.sz < 11 and row[2].font.sz >= 11
    # A cell's comment says what is wrong first, too.
    comment = workbook.worksheets[0]["B5"].comment.text
    assert comment.startswith(message) and comment.endswith("(CHOICE_INVALID)")


# --- 4. a refused landline says why ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "local"), [("0319-0123456", "0123456"), ("010 12345678", "12345678")]
)
def test_a_landline_whose_local_number_starts_with_0_or_1_says_so(world, written, local):
    from .test_import import run

    problem = only_problem(run(world, [person_row(1, 联系电话=written)]))
    assert problem.code == "PHONE_INVALID"
    assert f"本地号码“{local}”以 {local[0]} 开头" in problem.message
    assert "不会以 0 或 1 开头" in problem.message


def test_other_refused_phones_keep_their_messages(world):
    from .test_import import run

    outcome = run(
        world,
        [
            person_row(1, 联系电话="1381234"),
            person_row(2, 联系电话="8123456"),
            person_row(3, 联系电话="0319-812345"),
        ],
    )
    messages = [p.message for p in outcome.problems]
    assert "11 位" in messages[0] and "请加区号" in messages[1] and "格式不正确" in messages[2]
    assert not any("0 或 1" in m for m in messages)


# --- 5. a forced commit of a file with nothing to change --------------------------------------


def test_a_forced_commit_of_an_up_to_date_file_says_there_is_nothing_to_import(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    rows = [person_row(1), person_row(2)]
    _upload(client, user.node, rows)
    client.post(reverse("import-commit", kwargs={"pk": _job(user).pk}))
    _upload(client, user.node, rows)  # the same file again: every row unchanged
    job = _job(user)
    assert (job.state, job.count("unchanged"), import_jobs.can_commit(job)) == ("ready", 2, False)
    body = client.post(reverse("import-commit", kwargs={"pk": job.pk}), follow=True)
    text = body.content.decode()
    assert "无需导入:文件中的每一行都与系统中的数据一致" in text and "还有问题" not in text
    assert _job(user).state == "ready"


# --- 6. progress counts data rows ---------------------------------------------------------------


def _csv(rows: list[list[str]]) -> bytes:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # each line ends with a newline, as Excel writes them
    return buffer.getvalue().encode("utf-8-sig")


def test_the_uploads_row_count_leaves_out_the_header_and_title_rows(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = world.a.users["village_secretary"]
    data_rows = [["新会员", new_id(i), "13812345678"] for i in range(4)]
    csv_file = _csv([["会员花名册"], ["姓名", "身份证号", "联系电话"], *data_rows, []])
    rows = [person_row(i) for i in range(4)]
    xlsx_file = xlsx(rows, title_rows=["会员花名册", "填报日期:2026年5月"])
    with activate(Scope.for_node(user.node)):
        for name, data in (("名册.csv", csv_file), ("名册.xlsx", xlsx_file)):
            upload = SimpleUploadedFile(name, data)
            job = import_jobs.job_create(actor=user, node=user.node, kind="members", upload=upload)
            assert job.rows_total == 4, name


class Recorder:
    def __init__(self):
        self.total = None
        self.done: list[int] = []

    def start(self, total: int) -> None:
        self.total = total

    def __call__(self, done: int) -> None:
        self.done.append(done)


def test_progress_runs_over_the_data_rows_only(world, monkeypatch):
    """A roster typed into the template: the sheet declares the template's 2,000 formatted
    rows, the header and the example row above the three typed rows."""
    monkeypatch.setattr(import_rows, "PROGRESS_EVERY", 1)
    template = openpyxl.load_workbook(io.BytesIO(imports.template_workbook("members")))
    sheet = template.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for offset in range(3):
        row = person_row(30 + offset)
        for column, header in enumerate(headers, 1):
            sheet.cell(row=3 + offset, column=column, value=row.get(header))
    buffer = io.BytesIO()
    template.save(buffer)
    user = world.a.users["village_secretary"]
    with activate(Scope.for_node(user.node)):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("名册.xlsx", buffer.getvalue())
        job = import_jobs.job_create(actor=user, node=user.node, kind="members", upload=upload)
        recorder = Recorder()
        outcome = run_import(
            kind="members",
            target=user.node,
            actor=user,
            data=buffer.getvalue(),
            file_type="xlsx",
            dry_run=True,
            progress=recorder,
        )
    # The upload's count: the non-empty rows under the header (the template's 2,000 formatted
    # rows are not data), the example row still among them; the run skips it.
    assert job.rows_total == 4
    assert outcome.new == 3
    assert recorder.total == 3 and recorder.done == [1, 2, 3]


# --- 9. the household roster carries the mother -------------------------------------------------


def _member_of_household(number, name, id_number, relation, mother="", marital="已婚"):
    return {
        "户编号": number,
        "姓名": name,
        "身份证号码": id_number,
        "与户主关系": relation,
        "母亲身份证号码": mother,
        "婚姻状况": marital,
    }


@pytest.mark.parametrize("batch_size", [20_000, 2])
def test_the_household_roster_links_mothers_in_the_file_and_registered(
    world, monkeypatch, batch_size
):
    """With batches of 2 rows, the grandson's mother is written a batch after him."""
    from households.models import Person

    monkeypatch.setattr(household_imports.HouseholdRosterResource._meta, "batch_size", batch_size)
    waited = []
    write = household_imports.HouseholdRosterResource.write_mother_links

    def spy(resource):
        write(resource)
        waited.append(len(resource.mother_links))

    monkeypatch.setattr(household_imports.HouseholdRosterResource, "write_mother_links", spy)

    registered = world.a.persons[1]  # a wife registered in the village, born 1982
    head, wife = new_id(40, "male", 1950), new_id(41, "female", 1952)
    son, daughter_in_law = new_id(42, "male", 1975), new_id(43, "female", 1977)
    grandson, neighbour_child = new_id(44, "male", 2001), new_id(45, "female", 2008)
    rows = [
        _member_of_household("0500", "王一", head, "户主"),
        _member_of_household("0500", "李二", wife, "妻子"),
        _member_of_household("0500", "王三", son, "儿子", wife),  # mother: an earlier row
        _member_of_household("0500", "王四", grandson, "孙子", daughter_in_law, "未婚"),  # later
        _member_of_household("0500", "赵五", daughter_in_law, "儿媳"),
        _member_of_household(
            world.a.households[0].number, "小甲", neighbour_child, "女儿", "", "未婚"
        ),
    ]
    rows[-1]["母亲身份证号码"] = registered.id_number
    outcome = _import_into(world, world.a.villages[0], rows, kind="households", dry_run=False)
    assert outcome.committed and outcome.new == 6, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        mothers = dict(
            Person.objects.filter(id_number__in=[son, grandson, neighbour_child, head]).values_list(
                "id_number", "mother__id_number"
            )
        )
    assert mothers == {
        son: wife,
        grandson: daughter_in_law,
        neighbour_child: registered.id_number,
        head: None,
    }
    assert any(waited) == (batch_size == 2) and waited[-1] == 0
    again = _import_into(world, world.a.villages[0], rows, kind="households", dry_run=False)
    assert again.counts == {"new": 0, "updated": 0, "unchanged": 6, "invalid": 0}


def test_a_mother_is_recorded_for_a_registered_child_with_a_change_record(world):
    from associations.models import ChangeRecord
    from households.models import Person

    wife = world.a.persons[1]
    child = new_id(46, "female", 2006)
    household = world.a.households[0].number
    rows = [_member_of_household(household, "小乙", child, "女儿", marital="未婚")]
    assert _import_into(world, world.a.villages[0], rows, kind="households", dry_run=False).new
    rows[0]["母亲身份证号码"] = wife.id_number
    outcome = _import_into(world, world.a.villages[0], rows, kind="households", dry_run=False)
    assert outcome.counts["updated"] == 1, outcome.problems
    with activate(Scope.for_node(world.a.villages[0])):
        person = Person.objects.get(id_number=child)
        assert person.mother_id == wife.pk
        record = ChangeRecord.objects.get(
            object_type="households.Person", object_id=person.pk, action="update"
        )
    assert record.before["mother"] is None and record.after["mother"] == wife.pk


def test_a_mother_not_found_not_female_or_too_young_is_a_row_error(world):
    head = world.a.persons[0]  # registered, male
    young_mother = new_id(47, "female", 1990)
    rows = [
        _member_of_household("0600", "甲", new_id(48, "female", 1960), "户主"),
        _member_of_household("0600", "乙", new_id(49, "male", 1985), "儿子", new_id(60, "female")),
        _member_of_household("0600", "丙", new_id(50, "male", 1986), "儿子", head.id_number),
        _member_of_household("0600", "丁", young_mother, "儿媳"),
        _member_of_household("0600", "戊", new_id(51, "male", 2000), "孙子", young_mother),
        _member_of_household("0600", "己", new_id(52, "male", 1988), "儿子", new_id(52, "male")),
    ]
    rows[-1]["身份证号码"] = new_id(53, "male", 1988)
    rows[-1]["母亲身份证号码"] = rows[-1]["身份证号码"]
    outcome = _import_into(world, world.a.villages[0], rows, kind="households", dry_run=False)
    assert not outcome.committed
    found = [(p.row_number, p.code, p.column) for p in outcome.problems]
    assert found == [
        (3, "MOTHER_NOT_FOUND", "母亲身份证号码"),
        (4, "MOTHER_NOT_FEMALE", "母亲身份证号码"),
        (6, "MOTHER_TOO_YOUNG", "母亲身份证号码"),
        (7, "MOTHER_SELF", "母亲身份证号码"),
    ]
    messages = {p.code: p.message for p in outcome.problems}
    assert "请先登记母亲" in messages["MOTHER_NOT_FOUND"]
    assert head.name not in messages["MOTHER_NOT_FEMALE"]  # the name masked
    assert "1990-03-21" in messages["MOTHER_TOO_YOUNG"] and "12 岁" in messages["MOTHER_TOO_YOUNG"]
    assert imports.ROW_CODES["MOTHER_TOO_YOUNG"]


def test_the_household_template_has_the_mother_column():
    workbook = openpyxl.load_workbook(io.BytesIO(imports.template_workbook("households")))
    headers = [c.value for c in workbook.worksheets[0][1]]
    assert "母亲身份证号码" in headers
    column = headers.index("母亲身份证号码") + 1
    assert workbook.worksheets[0].cell(row=3, column=column).number_format == "@"


# --- 8. radio buttons and the full-ID checkbox line ---------------------------------------------


def _css() -> str:
    from pathlib import Path

    from django.conf import settings

    return (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()


def test_the_import_pages_radio_buttons_are_not_drawn_as_text_boxes(client, world):
    """`.field input:not([type=checkbox])` gives text inputs a full-width 44 px box; a later
    rule of the same weight gives radios back their own size."""
    user = world.a.users["village_secretary"]
    client.force_login(user)
    body = client.get(reverse("import-upload", kwargs={"pk": user.node_id})).content.decode()
    assert body.count('type="radio"') == 2
    css = _css()
    box = css.index(".field input:not([type=checkbox])")
    radio = css.index(".field input[type=radio]")
    rule = css[radio : css.index("}", radio)]
    assert radio > box and "width: 1.2rem" in rule and "min-height: 0" in rule


def test_the_full_id_checkbox_comes_before_its_label(client, world):
    import re

    user = world.a.users["village_secretary"]
    client.force_login(user)
    body = client.get(reverse("node-rosters", kwargs={"pk": user.node_id})).content.decode()
    lines = re.findall(r'<label for="full_identity_\w+">(.*?)</label>', body, re.S)
    assert lines, "the secretary may ask for full ID numbers"
    for line in lines:
        assert line.strip().startswith('<input type="checkbox" name="full_identity"')
        assert line.strip().endswith("包含完整身份证号码")
    assert ".check-line label { display: inline-flex" in _css()
