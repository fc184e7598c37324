"""Roster imports meeting real sheets: group names as villagers write them, old 15-digit ID
numbers, what the error workbook keeps of the upload, phones, progress, the problem list, the
mother column of the household roster."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from associations import services
from associations.scope import Scope, activate
from members import importers
from members.importers import run_import
from members.models import ImportJob, Member

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
    assert importers.group_number("第九十九会员小组") == 99
    assert importers.group_number("二十一组") == 21
    assert importers.group_number("第3组") == 3
    assert importers.group_number("07") == 7
    assert importers.group_number("一二组") is None  # not a numeral: never guessed as 12
    assert importers.group_number("东组") is None
    assert importers.group_number("第一村民小组") == 1


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


def _job(user) -> ImportJob:
    with activate(Scope.for_node(user.node)):
        return ImportJob.objects.latest("created_at")


def test_the_preview_names_the_upgraded_15_digit_numbers_masked(client, world):
    user = world.a.users["village_secretary"]
    client.force_login(user)
    new = new_id(3)
    old = new[:6] + new[8:17]
    rows = [person_row(1), person_row(3, 身份证号码=old)]
    _upload(client, user.node, rows)
    job = _job(user)
    assert job.status == "validated" and job.count_new == 2
    body = client.get(reverse("import-job", kwargs={"pk": job.pk})).content.decode()
    assert "有 1 个 15 位身份证号码已按国家标准自动升级为 18 位" in body
    masked_old, masked_new = f"{old[:6]}******{old[-3:]}", f"{new[:6]}********{new[-4:]}"
    row = body[body.index("原 15 位号码") :]
    assert '<td class="num">3</td>' in row and masked_old in row and masked_new in row
    assert old not in body and new not in body  # never the full numbers
    assert all(old not in str(w) and new not in str(w) for w in job.warnings)
    # The notice is not a problem of the file: no error workbook is offered for it.
    assert "下载错误标注文件" not in body
