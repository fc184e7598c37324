"""The care-subsidies home page: the county's programmes with the workflow counts of the
user's own subtree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from benefits.models import Enrollment, Program
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _program(world):
    with world.a.scope():
        return Program.objects.create(
            county=world.a.county,
            name="农村部分计划生育家庭奖励扶助",
            kind="allowance",
            frequency="yearly",
            standard_amount=Decimal("720"),
        )


def _enroll(world, program, index, status):
    household = world.a.households[index]
    person = world.a.persons[index * 2]
    enrollment = Enrollment(
        program=program,
        person=person,
        household=household,
        amount=Decimal("720"),
        status=status,
    )
    enrollment.place_under(person.group or person.village)
    with world.a.scope():
        enrollment.save()


def test_counts_cover_only_the_users_subtree(client, world):
    program = _program(world)
    _enroll(world, program, 0, "enrolled")  # t0v0
    _enroll(world, program, 1, "applied")  # t0v1
    _enroll(world, program, 2, "enrolled")  # t1v0

    login(client, world.a.users["county_admin"])
    page = client.get("/benefits/").content.decode()
    assert "农村部分计划生育家庭奖励扶助" in page
    row = page.split("农村部分计划生育家庭奖励扶助")[1].split("</tr>")[0]
    assert row.count('<td class="num">2</td>') == 1  # enrolled in the county
    assert row.count('<td class="num">1</td>') == 1  # applied

    login(client, world.a.users["village_secretary"])
    row = client.get("/benefits/").content.decode().split("奖励扶助")[1].split("</tr>")[0]
    assert row.count('<td class="num">1</td>') == 1  # only t0v0's enrolled
    assert '<td class="num">2</td>' not in row


def test_another_countys_programmes_are_not_listed(client, world):
    _program(world)
    login(client, world.b.users["county_admin"])
    page = client.get("/benefits/").content.decode()
    assert "奖励扶助" not in page
    assert "幸福工程贷款(世界)" in page  # its own (the shared world's loan programme)
    assert "关爱流程样例项目" in page  # the world's own programme of county B
    assert "困难家庭慰问金" in page  # county B's own (the shared world's)
