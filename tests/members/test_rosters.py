"""Printable rosters (花名册): each roster's file read back with openpyxl, masking and full ID
numbers by role, formula-like text kept as text, the export job's lifecycle, its pages and
the download's permissions, and query counts that do not grow with the rows."""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import random
from collections import Counter
from dataclasses import asdict

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from associations import export_jobs, jobs
from associations import services as association_services
from associations.models import Association, Job
from associations.scope import Scope, activate
from associations.sheets import DATE, Column, SheetBook
from associations.sheets.stream import write_raw
from associations.tasks import run_job
from households import services as household_services
from households.identity import mask_id_number, mask_phone
from households.masking import sees_full_identity
from households.models import Person
from members import exports, rosters, services
from members.models import GroupRole, VolunteerTeam

from ..conftest import make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date

ROSTER_TITLES = {
    "council": "理事会成员花名册",
    "members": "会员花名册",
    "contacts": "会员联系户花名册",
    "volunteers": "志愿者花名册",
}
HEADERS = {
    "council": ["序号", "职务", "姓名", "性别", "年龄", "来源类别", "联系电话", "备注"],
    "members": [
        "序号",
        "会员证号",
        "姓名",
        "性别",
        "出生日期",
        "民族",
        "身份证号码",
        "联系电话",
        "会员类别",
        "骨干",
        "入会日期",
        "所属小组",
    ],
    "contacts": ["序号", "联系人", "身份", "户编号", "户主", "住址", "联系电话"],
    "volunteers": ["序号", "服务队", "分队", "姓名", "性别", "年龄", "联系电话", "服务类别"],
}
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _person(a, index, name, sex="female", phone="", serial=0):
    village = a.villages[0]
    return household_services.person_create(
        actor=a.users["county_admin"],
        village=village,
        group=a.groups[0],
        name=name,
        id_number=make_id_number("130534", D(1970 + index % 30, 1 + index % 12, 3), serial, sex),
        phone=phone,
    )


def add_members(a, names, *, start=100):
    """Members of village 0, group 0, through the services."""
    members = []
    for offset, name in enumerate(names):
        person = _person(a, start + offset, name, serial=start + offset)
        members.append(
            services.member_register(
                actor=a.users["county_admin"],
                person=person,
                association=a.villages[0],
                group=a.groups[0],
                joined_on=D(2021, 3, 8),
                categories=["volunteer"],
            )
        )
    return members


@pytest.fixture
def village_a(world):
    """County A's first village with a council seat held by a member with a phone, a contact
    head liaising with a household, and a volunteer team with a sub-team."""
    a = world.a
    admin = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        person = _person(a, 1, "王秀英", phone=PHONE, serial=301)
        member = services.member_register(
            actor=admin,
            person=person,
            association=a.villages[0],
            group=a.groups[0],
            joined_on=D(2020, 5, 29),
            categories=["fertile_activist"],
            is_backbone=True,
        )
        services.seat_link_member(
            actor=admin, seat=a.seats[a.councils[a.villages[0].pk].pk], member=member
        )
        services.group_role_assign(
            actor=admin, member=member, role=GroupRole.Role.CONTACT_HEAD, starts_on=D(2024, 1, 1)
        )
        services.contact_household_add(
            actor=admin, member=member, household=a.households[0], since=D(2024, 1, 1)
        )
        team = services.volunteer_team_create(
            actor=admin, node=a.villages[0], name="前进村志愿者服务队", service="general"
        )
        sub = services.volunteer_team_create(
            actor=admin,
            node=a.villages[0],
            name="文艺宣传分队",
            service=VolunteerTeam.Service.ARTS,
            parent=team,
        )
        services.volunteer_join(actor=admin, team=sub, member=member, joined_on=D(2024, 2, 1))
    a.extra = {"member": member, "person": person}
    return a


def request(user, node, kind, *, full=False) -> Job:
    full = full and sees_full_identity(user)
    return export_jobs.request(actor=user, node=node, kind=kind, full_identity=full)


def export(a, role, kind, node=None, *, full=False):
    user = a.users[role]
    node = node or a.villages[0]
    with activate(Scope.for_node(user.node)):
        job = request(user, node, kind, full=full)
        job = export_jobs.start(job)
        path = export_jobs.output(job)
    assert job.state == Job.State.DONE, job.error
    return job, openpyxl.load_workbook(path)


def cells(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def all_text(wb) -> str:
    return "\n".join(
        str(value) for ws in wb.worksheets for row in cells(ws) for value in row if value
    )


@pytest.mark.parametrize("kind", sorted(ROSTER_TITLES))
def test_each_roster_prints_as_it_should(village_a, kind):
    job, wb = export(village_a, "village_secretary", kind)
    ws = wb.worksheets[0]
    title = f"{village_a.villages[0].name}计划生育协会{ROSTER_TITLES[kind]}"
    assert ws["A1"].value == title
    assert job.output_name.startswith(title) and job.output_name.endswith(".xlsx")
    width = len(HEADERS[kind])
    assert f"A1:{openpyxl.utils.get_column_letter(width)}1" in {str(r) for r in ws.merged_cells}
    assert ws["A2"].value.startswith("制表单位:")
    assert any(str(c.value).startswith("制表日期:") for c in ws[2] if c.value)
    assert [c.value for c in ws[3]] == HEADERS[kind]
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws["A4"].border.left.style == "thin"
    assert all(ws.column_dimensions[c].width for c in "ABCDE")
    assert job.rows_done == job.rows_total >= 1
    assert job.output_size > 0
    assert job.output_file.startswith(f"jobs/{village_a.county.pk}/{job.pk}/")


def test_member_roster_sections_by_group_and_masks_by_default(village_a):
    a = village_a
    job, wb = export(a, "village_secretary", "members")
    assert len(wb.worksheets) == 1
    rows = cells(wb.worksheets[0])
    heading = rows[3][0]
    assert heading.startswith(a.groups[0].name) and "共 2 人" in heading
    merged = {str(r) for r in wb.worksheets[0].merged_cells}
    assert {"A1:L1", "A2:F2", "G2:L2", "A4:L4"} <= merged  # title, 制表 line, group heading
    data = [r for r in rows[4:] if isinstance(r[0], int)]
    assert [r[0] for r in data] == [1, 2]
    head_id = a.persons[0].id_number
    text = all_text(wb)
    assert mask_id_number(head_id) in text and head_id not in text
    assert mask_phone(PHONE) in text and PHONE not in text
    wang = next(r for r in data if r[2] == "王秀英")
    assert wang[3] == "女" and wang[9] == "是" and wang[11] == a.groups[0].name
    assert wang[4] == datetime.datetime(1971, 2, 3)  # a real date cell
    assert rows[-1][0] == "共 2 名会员"
    assert job.full_identity is False


def test_full_id_numbers_only_for_an_allowed_role_that_asked(village_a):
    a = village_a
    head_id = a.persons[0].id_number
    job, wb = export(a, "county_admin", "members", full=True)
    assert job.full_identity is True
    assert head_id in all_text(wb) and PHONE in all_text(wb)
    job, wb = export(a, "county_admin", "members", full=False)
    assert job.full_identity is False and head_id not in all_text(wb)


def test_township_staff_asking_for_full_ids_still_gets_them_masked(village_a):
    a = village_a
    job, wb = export(a, "township_staff", "members", full=True)
    assert job.full_identity is False
    text = all_text(wb)
    assert a.persons[0].id_number not in text
    assert mask_id_number(a.persons[0].id_number) in text


def test_group_leader_gets_his_groups_member_roster(client, village_a):
    """The village sits above a group leader's scope: the roster still names it and lists
    the group's members, from the page as from the job."""
    a = village_a
    group = a.groups[0]
    _job, wb = export(a, "group_leader", "members", node=group)
    assert [ws.title for ws in wb.worksheets] == [group.name]
    rows = cells(wb.worksheets[0])
    village = a.villages[0]
    assert rows[0][0] == f"{village.name}计划生育协会{group.name}会员花名册"
    data = [r for r in rows if isinstance(r[0], int)]
    assert {r[2] for r in data} == {a.persons[0].name, "王秀英"}
    assert {r[11] for r in data} == {group.name}
    assert rows[-1][0] == "共 2 名会员"
    client.force_login(a.users["group_leader"])
    url = reverse("roster-export", kwargs={"pk": group.pk, "kind": "members"})
    response = client.post(url)
    assert response.status_code == 302 and "/download/" in response["Location"]
    assert client.get(response["Location"]).status_code == 200


def test_township_roster_has_one_sheet_per_village(village_a):
    a = village_a
    job, wb = export(a, "township_staff", "members", node=a.townships[0])
    assert [ws.title for ws in wb.worksheets] == [v.name for v in a.villages[:2]]
    for ws, village, count in zip(wb.worksheets, a.villages[:2], [2, 1], strict=True):
        assert ws["A1"].value == f"{village.name}计划生育协会会员花名册"
        assert cells(ws)[-1][0] == f"共 {count} 名会员"  # each village's sheet closes itself
        assert ws.print_title_rows == "$1:$3"
    assert job.params["layout"] == "village_sheets"
    assert job.rows_done == 3


def test_council_roster_shows_the_seat_holders_details(village_a):
    a = village_a
    _job, wb = export(a, "village_secretary", "council", full=True)
    rows = cells(wb.worksheets[0])
    seat = next(r for r in rows if r[1] == "会长")
    assert seat[2] == "王秀英" and seat[3] == "女" and isinstance(seat[4], int)
    assert seat[5] == "村干部" and seat[6] == PHONE


def test_contact_and_volunteer_rosters(village_a):
    a = village_a
    _job, wb = export(a, "village_secretary", "contacts")
    rows = cells(wb.worksheets[0])
    line = next(r for r in rows if r[1] == "王秀英")
    assert line[2] == "联系户长" and line[3] == a.households[0].number
    assert line[5] == a.households[0].address
    _job, wb = export(a, "village_secretary", "volunteers")
    rows = cells(wb.worksheets[0])
    line = next(r for r in rows if r[3] == "王秀英")
    assert line[1:3] == ["前进村志愿者服务队", "文艺宣传分队"]
    assert line[7] == "文艺宣传" and line[6] == mask_phone(PHONE)


def test_formula_like_text_is_stored_as_text(village_a):
    a = village_a
    formula_like = ["=SUM(A1)", "+1", "-2", "@x", '=HYPERLINK("http://x")', "\t=1", "\r=2"]
    names = [*formula_like, "#N/A"]
    with activate(Scope.for_node(a.county)):
        members = add_members(a, [f"会员{n}" for n in range(len(names))])
        for member, name in zip(members, names, strict=True):
            # As an import might bring them: the person form refuses names without letters.
            Person.objects.filter(pk=member.person_id).update(name=name)
    _job, wb = export(a, "village_secretary", "members")
    ws = wb.worksheets[0]
    stored = {name.replace("\r", "\n"): name for name in names}  # XML reads CR as LF
    found = {row[2].value: row[2] for row in ws.iter_rows(min_row=4) if row[2].value in stored}
    assert set(found) == set(stored)
    for value, cell in found.items():
        assert cell.data_type == "s", value  # text, not a formula ("f") or an error ("e")
        assert bool(cell.quotePrefix) == (stored[value] in formula_like), value


@pytest.mark.parametrize("kind", ["members", "contacts", "volunteers", "council"])
def test_query_count_does_not_grow_with_rows(world, kind):
    """Two new rows, then eighteen more, in each roster: the same number of queries."""
    a = world.a
    admin = a.users["county_admin"]
    village = a.villages[0]
    queries, rows = [], []
    with activate(Scope.for_node(a.county)):
        team = services.volunteer_team_create(
            actor=admin, node=village, name="计数服务队", service="general"
        )
        council = a.councils[village.pk]
        made = 0
        for batch in (2, 18):
            names = [f"成员{n}" for n in range(made, made + batch)]
            for member in add_members(a, names, start=200 + made):
                # One more row in every roster per new member.
                services.contact_household_add(
                    actor=admin, member=member, household=a.households[0]
                )
                services.volunteer_join(actor=admin, team=team, member=member)
                director = association_services.council_seat_add(
                    actor=admin,
                    council=council,
                    position="director",
                    person_name=member.person.name,
                    background="elder",
                )
                services.seat_link_member(actor=admin, seat=director, member=member)
            made += batch
            job = request(admin, village, kind)
            with CaptureQueriesContext(connection) as captured:
                job = export_jobs.start(job)
            assert job.state == "done", job.error
            queries.append(len(captured))
            rows.append(job.rows_done)
    assert rows[1] - rows[0] == 18 and rows[0] >= 2, rows
    assert queries[0] == queries[1], queries


def test_progress_is_recorded_while_building(world, monkeypatch):
    a = world.a
    monkeypatch.setattr(rosters, "PROGRESS_EVERY", 1)
    with activate(Scope.for_node(a.county)):
        add_members(a, ["甲一", "甲二", "甲三"])
        job = request(a.users["county_admin"], a.villages[0], "members")
        assert (job.state, job.rows_total, job.rows_done) == ("queued", 4, 0)
        with CaptureQueriesContext(connection) as captured:
            job = export_jobs.start(job)
    updates = [
        q["sql"] for q in captured if q["sql"].startswith("UPDATE") and "rows_done" in q["sql"]
    ]
    assert len(updates) >= 5  # the claim, then one per row
    assert (job.rows_done, job.rows_total, job.state) == (4, 4, "done")
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at


def test_the_task_is_idempotent(world):
    """A message delivered twice builds once; a job left running by a dead worker (stale
    heartbeat) is built again from scratch, into a new file, the old one removed."""
    a = world.a
    node = a.villages[0]
    scope = asdict(Scope.for_node(a.county))
    with activate(Scope.for_node(a.county)):
        job = request(a.users["county_admin"], node, "members")
        jobs.send(job, step=export_jobs.BUILD)
    assert run_job(job.pk, scope=scope)["state"] == "done"
    with activate(Scope.for_node(a.county)):
        job.refresh_from_db()
        first = (job.output_file, job.finished_at)
        assert export_jobs.output(job).exists()
    assert run_job(job.pk, scope=scope)["status"] == "skipped"  # done: nothing happens
    with activate(Scope.for_node(a.county)):
        job.refresh_from_db()
        assert (job.output_file, job.finished_at) == first
        long_ago = job.finished_at - datetime.timedelta(hours=1)
        Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=long_ago)
    assert run_job(job.pk, scope=scope)["state"] == "done"  # a worker died on it: rebuilt
    with activate(Scope.for_node(a.county)):
        job.refresh_from_db()
        assert job.output_file != first[0] and job.error == "" and job.attempts == 2
        assert export_jobs.output(job).exists()
        assert not (media_root_of(job) / first[0]).exists()
    # Another county's scope does not even find the job.
    other = asdict(Scope.for_node(world.b.county))
    assert run_job(job.pk, scope=other)["status"] == "skipped"


def media_root_of(job):
    from django.conf import settings

    return pathlib.Path(settings.MEDIA_ROOT)


def test_a_failing_build_marks_the_job_failed_in_chinese(world, monkeypatch):
    a = world.a

    def broken(context, title):
        raise RuntimeError("boom")

    roster = dataclasses.replace(rosters.ROSTERS["members"], write=broken)
    monkeypatch.setitem(export_jobs.EXPORTS, "members", exports.RosterExport(roster))
    with activate(Scope.for_node(a.county)):
        job = request(a.users["county_admin"], a.villages[0], "members")
        job = export_jobs.start(job)
    assert job.state == "failed" and job.error == jobs.FAILED_MESSAGE
    assert job.failure == "error"
    assert [p for p in jobs.folder(job).rglob("*") if p.is_file()] == []


# --- pages -----------------------------------------------------------------------------------


def test_roster_page_offers_full_ids_only_to_allowed_roles(client, village_a):
    a = village_a
    url = reverse("node-rosters", kwargs={"pk": a.villages[0].pk})
    client.force_login(a.users["village_secretary"])
    body = client.get(url).content.decode()
    assert "包含完整身份证号码" in body and "会员花名册" in body
    client.force_login(a.users["township_staff"])
    body = client.get(url).content.decode()
    assert "包含完整身份证号码" not in body and "会员花名册" in body
    client.force_login(a.users["group_leader"])
    assert client.get(url).status_code == 404  # the village is above the leader's group


def test_small_roster_is_built_in_the_request_and_downloaded(client, village_a):
    a = village_a
    user = a.users["village_secretary"]
    client.force_login(user)
    url = reverse("roster-export", kwargs={"pk": a.villages[0].pk, "kind": "members"})
    response = client.post(url, {"full_identity": "on"})
    with activate(Scope.for_node(a.county)):
        job = Job.objects.filter(owner=user).latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("job-download", kwargs={"pk": job.pk})
    assert job.state == "done" and job.full_identity is True
    download = client.get(response["Location"])
    assert download.status_code == 200
    assert "filename*=utf-8''" in download["Content-Disposition"]
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(download.streaming_content)[:2] == b"PK"
    listing = client.get(reverse("node-rosters", kwargs={"pk": a.villages[0].pk}))
    assert job.output_name in listing.content.decode()


def test_large_roster_goes_to_the_worker_after_commit(
    client, village_a, monkeypatch, django_capture_on_commit_callbacks
):
    a = village_a
    monkeypatch.setattr(export_jobs, "SMALL_ROWS", 0)
    user = a.users["county_admin"]
    client.force_login(user)
    url = reverse("roster-export", kwargs={"pk": a.county.pk, "kind": "members"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    with activate(Scope.for_node(a.county)):
        job = Job.objects.filter(owner=user).latest("id")
    assert response["Location"] == reverse("job", kwargs={"pk": job.pk})
    assert job.state == "queued" and len(callbacks) == 1
    page = client.get(response["Location"])
    body = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body
    assert body.index('http-equiv="refresh"') < body.index("</head>")
    assert "<progress" in body and f"已处理 0 / {job.rows_total} 行" in body
    assert page["Refresh"] == "2"
    callbacks[0]()  # the commit: the (eager) worker builds it
    page = client.get(response["Location"])
    body = page.content.decode()
    assert 'http-equiv="refresh"' not in body
    assert reverse("job-download", kwargs={"pk": job.pk}) in body
    with activate(Scope.for_node(a.county)):
        job.refresh_from_db()
    assert job.state == "done" and job.params["layout"] == "village_sheets"


def test_running_job_page_shows_progress(client, world):
    a = world.a
    user = a.users["county_admin"]
    with activate(Scope.for_node(a.county)):
        job = request(user, a.county, "members")
        Job.objects.filter(pk=job.pk).update(
            state="running", rows_done=3, rows_total=8, heartbeat_at=timezone.now()
        )
    client.force_login(user)
    body = client.get(reverse("job", kwargs={"pk": job.pk})).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body
    assert '<progress value="3" max="8">' in body and "生成中:已处理 3 / 8 行" in body


def test_unreachable_broker_fails_the_job_plainly_and_resend_builds_it(
    client, world, monkeypatch, django_capture_on_commit_callbacks
):
    a = world.a
    monkeypatch.setattr(export_jobs, "SMALL_ROWS", 0)
    monkeypatch.setattr(jobs, "runs_eagerly", lambda: False)

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(run_job, "apply_async", down)
    user = a.users["county_admin"]
    client.force_login(user)
    url = reverse("roster-export", kwargs={"pk": a.villages[0].pk, "kind": "members"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "后台任务服务暂不可用" in body and jobs.BROKER_DOWN_MESSAGE in body
    assert "重新提交" in body and 'http-equiv="refresh"' not in body
    with activate(Scope.for_node(a.county)):
        job = Job.objects.filter(owner=user).latest("id")
    assert (job.state, job.failure) == ("failed", "broker_down")
    # The broker is back: 重新提交 sends it again and the (eager) worker builds it.
    monkeypatch.undo()
    monkeypatch.setattr(export_jobs, "SMALL_ROWS", 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("job-resend", kwargs={"pk": job.pk}))
    with activate(Scope.for_node(a.county)):
        job.refresh_from_db()
    assert job.state == "done" and job.failure == "" and job.error == ""


def test_download_is_for_the_requester_or_a_county_admin(client, village_a):
    a = village_a
    job, _wb = export(a, "township_staff", "members")
    download = reverse("job-download", kwargs={"pk": job.pk})
    status = reverse("job", kwargs={"pk": job.pk})
    client.force_login(a.users["village_secretary"])  # same village in scope, not the requester
    assert client.get(download).status_code == 403
    assert client.get(status).status_code == 403
    client.force_login(a.users["county_viewer"])
    assert client.get(download).status_code == 403
    client.force_login(a.users["county_admin"])
    assert client.get(download).status_code == 200
    client.force_login(a.users["township_staff"])
    assert client.get(download).status_code == 200
    client.force_login(a.users["township_staff_sibling"])  # the job's village is out of scope
    assert client.get(download).status_code == 404


def test_another_countys_job_is_404(client, world):
    b = world.b
    with activate(Scope.for_node(b.county)):
        job = export_jobs.start(request(b.users["county_admin"], b.villages[0], "members"))
    client.force_login(world.a.users["county_admin"])
    for name in ("job", "job-download"):
        assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404
    assert client.post(reverse("job-resend", kwargs={"pk": job.pk})).status_code == 404
    url = reverse("roster-export", kwargs={"pk": b.villages[0].pk, "kind": "members"})
    assert client.post(url).status_code == 404
    assert client.get(reverse("node-rosters", kwargs={"pk": b.villages[0].pk})).status_code == 404


def test_purged_file_keeps_the_record(client, village_a):
    a = village_a
    job, _wb = export(a, "village_secretary", "members")
    with activate(Scope.for_node(a.county)):
        export_jobs.output(job).unlink()
    client.force_login(a.users["village_secretary"])
    response = client.get(reverse("job-download", kwargs={"pk": job.pk}))
    assert response.status_code == 410 and "文件已清理" in response.content.decode()


# --- demo members --------------------------------------------------------------------------


def test_seed_members_registers_a_share_of_each_villages_adults(db):
    from associations.demo import seed_county
    from associations.models import ChangeRecord, Level
    from members.demo import seed_members
    from members.models import Member

    county, _created = seed_county(code="130533", name="威县", scale="demo")
    with activate(Scope.for_node(county)):
        adult = datetime.date.today().replace(year=datetime.date.today().year - 18, day=1)
        adults = Person.objects.filter(is_deceased=False, birth_date__lte=adult).count()
        created = county.demo_members  # seed_county registers the members itself
        assert created == Member.objects.count()
        assert seed_members(county=county, rng=random.Random(7)) == 0  # idempotent
        assert 0.08 * adults <= created <= 0.16 * adults
        villages = set(Member.objects.values_list("village_id", flat=True))
        assert len(villages) == Association.objects.filter(level=Level.VILLAGE).count()
        for member in Member.objects.select_related("person")[:50]:
            assert member.group_id == member.person.group_id or member.group_id is None
        grouped = set(Member.objects.exclude(group=None).values_list("group_id", flat=True))
        leaders = list(GroupRole.objects.filter(role="leader").values_list("group_id", flat=True))
        assert sorted(leaders) == sorted(grouped)  # one leader in every group with members
        sizes = Counter(Member.objects.exclude(group=None).values_list("group_id", flat=True))
        heads = Counter(
            GroupRole.objects.filter(role="contact_head").values_list("group_id", flat=True)
        )
        for group_id, size in sizes.items():  # 2-3 contact heads where the group has enough
            assert min(size - 1, 2) <= heads[group_id] <= 3
        townships = Association.objects.filter(level=Level.TOWNSHIP).count()
        assert VolunteerTeam.objects.filter(parent=None).count() == townships
        assert ChangeRecord.objects.filter(object_type="members.Member").count() == created
        assert seed_members(county=county, rng=random.Random(8)) == 0  # idempotent


# --- a real worker -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_roster(media):
    """Over the configured broker, in a separate worker process: the job is found in the
    sender's scope (row-level security included), built, and its file lands in MEDIA_ROOT."""

    from associations.services import association_create, county_create
    from config.celery_app import app

    from ..conftest import PASSWORD
    from ..workers import new_queue, start_worker

    # Its own county (not the shared world's two): this test's data is committed.
    county, admin = county_create(
        name="威县", division_code="130533", admin_username="roster_w", admin_password=PASSWORD
    )
    with activate(Scope.for_node(county)):
        township = association_create(
            actor=admin, parent=county, name="洺州镇", division_code="130533100"
        )
        village = association_create(
            actor=admin, parent=township, name="东街村", division_code="130533100200"
        )
        person = household_services.person_create(
            actor=admin,
            village=village,
            name="李桂兰",
            id_number=make_id_number("130533", D(1975, 4, 9), 12, "female"),
        )
        services.member_register(actor=admin, person=person, association=village)
        job = request(admin, county, "members")
        jobs.send(job, step=export_jobs.BUILD)
    queue = new_queue()
    worker = start_worker(queue, media=media)
    app.conf.task_always_eager = False
    try:
        result = run_job.apply_async(
            args=[job.pk], kwargs={"scope": asdict(Scope.for_node(county))}, queue=queue
        )
        outcome = wait_for_job(job, county, timeout=90)
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert outcome == "done", (result.id, output)
    with activate(Scope.for_node(county)):
        job.refresh_from_db()
        path = export_jobs.output(job)
    assert job.rows_done == 1 and path.exists() and path.is_relative_to(media)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == "东街村" and sheet["C5"].value == "李桂兰"


def wait_for_job(job, county, *, timeout: float) -> str:
    """The job's state once it is no longer queued or running (the task keeps no result)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with activate(Scope.for_node(county)):
            state = Job.objects.values_list("state", flat=True).get(pk=job.pk)
        if state not in ("queued", "running"):
            return state
        time.sleep(0.5)
    return "timeout"


def test_serialised_cells_read_back_as_written(tmp_path):
    """The rows the sheet writer serialises itself: text (escaped, spaces kept, formula-like text
    as text), numbers, dates, booleans and blanks come back from openpyxl as written."""
    book = SheetBook(work_dir=tmp_path)
    columns = [Column(f"列{i}", 10, number_format=DATE if i == 4 else None) for i in range(6)]
    layout = rosters.roster_layout(
        "测试花名册", columns, made_by="测试县计划生育协会", made_on=datetime.date(2026, 5, 29)
    )
    sheet = book.sheet(layout, name="测试")
    sheet.row(["<b>&\"'", "  两端空格 ", "=SUM(A1:A2)", 12, datetime.date(1980, 2, 29), True])
    sheet.row([None, "", 1.5, False, "@cmd", "A\r\nB"])
    sheet.close()
    path = tmp_path / "cells.xlsx"
    book.save(path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    first, second = ([c.value for c in ws[n]] for n in (4, 5))
    assert first == [
        "<b>&\"'",
        "  两端空格 ",
        "=SUM(A1:A2)",
        12,
        datetime.datetime(1980, 2, 29),
        "是",
    ]
    assert ws["C4"].data_type == "s" and ws["C4"].quotePrefix  # text, never a formula
    assert ws["E4"].number_format == "yyyy-mm-dd"
    assert second == [None, None, 1.5, None, "@cmd", "A\nB"]
    assert ws["A5"].border.left.style == "thin"  # blanks keep the cell style


def test_rows_reach_an_element_only_stream_as_elements():
    """With lxml installed, openpyxl's stream takes elements only: rows are parsed back."""

    class ElementStream:
        def __init__(self):
            self.written = []

        def write(self, element):
            self.written.append(element)

    stream = ElementStream()
    write_raw(stream, '<row r="4"><c r="A4" s="1" t="n"><v>7</v></c></row>')
    (row,) = stream.written
    assert row.tag == "row" and row.get("r") == "4" and row[0].get("r") == "A4"


# --- temporary files -----------------------------------------------------------------------


def test_a_roster_build_keeps_its_temporary_files_in_the_work_folder(
    village_a, tmp_path, system_temp, monkeypatch
):
    a = village_a
    work = tmp_path / "work"
    work.mkdir()
    seen = []
    monkeypatch.setattr(rosters, "PROGRESS_EVERY", 1)
    with activate(Scope.for_node(a.county)):
        add_members(a, ["甲一", "甲二"])
        rows = rosters.write_roster(
            rosters.ROSTERS["members"],
            a.townships[0],
            tmp_path / "roster.xlsx",
            full_identity=False,
            made_by="测试",
            progress=lambda n: seen.append(list(work.iterdir())),
            work_dir=work,
        )
    assert rows == 5 and all(seen)  # the sheets' files were in the work folder
    assert list(system_temp.iterdir()) == [] and list(work.iterdir()) == []

    def killed(rows):
        assert list(work.iterdir()) and list(system_temp.iterdir()) == []
        raise RuntimeError("killed")

    with activate(Scope.for_node(a.county)), pytest.raises(RuntimeError):
        rosters.write_roster(
            rosters.ROSTERS["members"],
            a.townships[0],
            tmp_path / "failed.xlsx",
            full_identity=False,
            made_by="测试",
            progress=killed,
            work_dir=work,
        )
    assert list(system_temp.iterdir()) == [] and list(work.iterdir()) == []
    assert not (tmp_path / "failed.xlsx").exists()


def test_an_export_job_removes_its_work_folder(village_a, system_temp, monkeypatch):
    a = village_a
    job, _wb = export(a, "village_secretary", "members")
    folder = jobs.folder_path(job)
    assert [p.name for p in folder.iterdir()] == [export_jobs.output(job).name]  # no tmp/

    def broken(context, title):
        work = context.book.work_dir
        assert work.name == jobs.TEMP_DIR and work.parent.parent == folder.parent
        layout = rosters.roster_layout("表", [Column("序号", 6)], made_by="", made_on=D(2026, 1, 1))
        context.book.sheet(layout, name="表").row([1])
        assert list(work.iterdir())  # the sheet's file
        raise RuntimeError("boom")

    roster = dataclasses.replace(rosters.ROSTERS["members"], write=broken)
    monkeypatch.setitem(export_jobs.EXPORTS, "members", exports.RosterExport(roster))
    with activate(Scope.for_node(a.county)):
        failed = export_jobs.start(request(a.users["county_admin"], a.villages[0], "members"))
    assert failed.state == "failed"
    assert list(jobs.folder_path(failed).rglob("*")) == []  # tmp/ removed, nothing kept
    assert [p.name for p in folder.iterdir()] == [export_jobs.output(job).name]
    assert list(system_temp.iterdir()) == []
