"""When the database refuses an import's write: a Chinese message naming the row and the
cause in words; PostgreSQL's English text and the constraint's name only in the log, and
never a value of the key (a full ID number)."""

from __future__ import annotations

import datetime
import logging

import pytest

from associations.imports import dberrors
from households.import_rows import RosterResource

from ..conftest import make_id_number
from ..members.test_import import new_id, person_row, run

pytestmark = pytest.mark.django_db

FORBIDDEN = ("duplicate key", "violates", "constraint", "person_id_unique_in_county", "DETAIL")


@pytest.fixture
def someone_else_entered(monkeypatch):
    """The person of the given number is entered by someone else between the import's look-up
    and its write: the import does not see them, and the insert meets the unique constraint."""
    hidden: set[str] = set()
    original = RosterResource.before_import

    def before_import(resource, dataset, **kwargs):
        original(resource, dataset, **kwargs)
        for number in hidden:
            resource.persons.pop(number, None)

    monkeypatch.setattr(RosterResource, "before_import", before_import)
    return hidden


def test_a_person_entered_meanwhile_is_named_by_row(world, someone_else_entered, caplog):
    assert run(world, [person_row(1)], dry_run=False).committed
    someone_else_entered.add(new_id(1))
    caplog.set_level(logging.WARNING, logger="associations.imports")
    for dry_run in (True, False):  # the preview meets it as the commit does
        outcome = run(world, [person_row(2), person_row(1), person_row(3)], dry_run=dry_run)
        assert not outcome.committed
        assert outcome.error == (
            "第 3 行:该身份证号码的人员已由他人同时录入,与本文件的这一行重复。"
            "全部数据均未导入。请重新校验后再导入;如仍出现,请联系管理员。"
        )
        assert not any(word in outcome.error for word in FORBIDDEN)
        problem = outcome.problems[-1]
        assert (problem.row_number, problem.code, problem.field) == (
            3,
            "DATABASE_ERROR",
            "id_number",
        )
        assert problem.column == "身份证号码"
    logged = caplog.text
    assert "person_id_unique_in_county" in logged and "23505" in logged and "row 3" in logged
    assert new_id(1) not in logged  # the key's values stay out of the log


def test_a_conflict_in_a_bulk_copy_is_found_by_its_key(world, someone_else_entered):
    """600 new persons go in by COPY through a staging table: the row is found from the key
    the unique violation names."""
    rows = [
        person_row(
            i,
            身份证号码=make_id_number(
                "130534", datetime.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 100 + i, "male"
            ),
        )
        for i in range(600)
    ]
    assert run(world, [rows[400]], dry_run=False).committed
    someone_else_entered.add(rows[400]["身份证号码"])
    outcome = run(world, rows, dry_run=False)
    assert outcome.error.startswith("第 402 行:该身份证号码的人员已由他人同时录入")
    assert not any(word in outcome.error for word in FORBIDDEN)


def test_a_value_refused_by_a_copy_names_its_row_and_column(world, monkeypatch):
    from members.imports import MemberRosterResource

    rows = [
        person_row(
            i,
            身份证号码=make_id_number(
                "130534", datetime.date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 100 + i, "male"
            ),
            会员证号=f"{i + 1:04d}",
        )
        for i in range(600)
    ]
    original = MemberRosterResource.apply

    def apply(resource, plan):
        original(resource, plan)
        if plan.person.row_number == 301:
            plan.instance.member_number = "x" * 40  # too long for the column

    monkeypatch.setattr(MemberRosterResource, "apply", apply)
    outcome = run(world, rows, headers=[*rows[0]], dry_run=False)
    assert outcome.error.startswith("第 301 行:内容超过了允许的长度。全部数据均未导入")
    problem = outcome.problems[-1]
    assert (problem.row_number, problem.field, problem.column) == (301, "member_number", "会员证号")


def test_the_key_and_the_line_are_read_from_the_diagnostics():
    refusal = dberrors.Refusal(
        state="23505",
        constraint="person_id_unique_in_county",
        detail="Key (county_id, id_number)=(3, 130534199003070032) already exists.",
    )
    assert dberrors.conflict_key(refusal) == {"county_id": "3", "id_number": "130534199003070032"}
    copying = dberrors.Refusal(
        state="22001", context='COPY staging_members_member, line 12, column member_number: "x"'
    )
    assert dberrors.copy_line(copying) == 12 and dberrors.copy_column(copying) == "member_number"
    assert dberrors.copy_line(refusal) is None and dberrors.conflict_key(copying) == {}


def test_causes_from_the_constraint_else_the_state_else_generic():
    causes = {"person_id_unique_in_county": "该身份证号码的人员已由他人同时录入"}
    named = dberrors.Refusal(state="23505", constraint="person_id_unique_in_county")
    assert dberrors.cause_of(named, causes) == "该身份证号码的人员已由他人同时录入"
    other = dberrors.Refusal(state="23503", constraint="x_fk")
    assert dberrors.cause_of(other, causes).startswith("引用的记录已不存在")
    assert dberrors.cause_of(dberrors.Refusal(state="XX000"), causes) == "数据库拒绝了写入"
    assert dberrors.refusal_message("数据库拒绝了写入", None).startswith("数据库拒绝了写入。")
