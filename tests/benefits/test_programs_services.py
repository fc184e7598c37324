"""Programme configuration, the application (申报) and the annual re-confirmation services,
on the families of tests/benefits/factories_programs.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from associations.models import ChangeRecord
from benefits import apply_services, program_services, reconfirmation_services
from benefits.candidates import Evaluation
from benefits.models import (
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    ProgramTemplate,
    Reconfirmation,
)
from households import services as household_services

from .factories_programs import WORLD_PROGRAM, families, program_from_template, this_year

pytestmark = pytest.mark.django_db

D = datetime.date


# --- programmes ----------------------------------------------------------------------------


def test_a_programme_from_its_template_keeps_rates_split_and_rule(world):
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    with world.a.scope():
        rates = {r.category: (r.label, r.amount) for r in program.rates.all()}
        record = ChangeRecord.objects.get(object_type="benefits.Program", object_id=program.pk)
    assert rates == {
        "disabled_child": ("伤残", Decimal("960.00")),
        "bereaved": ("死亡", Decimal("1200.00")),
    }
    assert program.funding_split == [
        {"source": "中央财政", "percent": 50},
        {"source": "省级财政", "percent": 30},
        {"source": "县级财政", "percent": 20},
    ]
    assert program.rule["mother_min_age"] == 49
    assert program.notice_days == 7 and program.needs_notice
    assert record.after["分类标准"][1] == {
        "category": "bereaved",
        "label": "死亡",
        "amount": "1200.00",
    }
    assert record.node_id == world.a.county.pk


@pytest.mark.parametrize(
    ("split", "message"),
    [
        (
            [{"source": "中央财政", "percent": 80}, {"source": "县级财政", "percent": 10}],
            "各出资方比例之和须为 100%,现为 90%。",
        ),
        (
            [{"source": "中央财政", "percent": 100}, {"source": "县级财政", "percent": 0}],
            "第 2 行(县级财政):比例须大于 0。",
        ),
        (
            [{"source": "中央财政", "percent": 120}, {"source": "县级财政", "percent": -20}],
            "第 2 行(县级财政):比例须大于 0。",
        ),
        (
            [{"source": "中央财政", "percent": 50}, {"source": "中央财政", "percent": 50}],
            "出资方“中央财政”填写了两次。",
        ),
        ([{"source": "", "percent": 100}], "第 1 行:请填写出资方。"),
        ([{"source": "县级财政", "percent": "一百"}], "第 1 行:比例须为数字,如 50。"),
    ],
)
def test_funding_split_must_be_positive_shares_adding_up_to_100(world, split, message):
    with pytest.raises(ValidationError) as caught:
        program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, funding_split=split)
    assert caught.value.message_dict["funding_split"] == [message]


def test_a_split_of_thirds_with_cents_adds_up(world):
    split = [
        {"source": "中央财政", "percent": "33.33"},
        {"source": "省级财政", "percent": "33.33"},
        {"source": "县级财政", "percent": "33.34"},
    ]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, funding_split=split)
    assert [share["percent"] for share in program.funding_split] == [33.33, 33.33, 33.34]


def test_configuring_is_the_county_admins(world):
    for role in ("county_viewer", "township_staff", "village_secretary"):
        user = world.a.users[role]
        with world.a.scope(), pytest.raises(PermissionDenied):
            program_services.program_create(
                actor=user,
                name="越权项目",
                kind="grant",
                frequency="one_off",
                standard_amount=Decimal("1"),
            )


def test_names_are_unique_in_the_county_and_rates_once_per_category(world):
    program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    with pytest.raises(ValidationError) as caught:
        program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    assert caught.value.message_dict["name"] == [
        "本县已有名为“农村部分计划生育家庭奖励扶助”的项目。"
    ]
    program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, county="b")  # B's own
    with pytest.raises(ValidationError) as caught:
        program_from_template(
            world,
            ProgramTemplate.SPECIAL_ASSISTANCE,
            rates=[
                {"category": "bereaved", "amount": "1200"},
                {"category": "bereaved", "amount": "1300"},
            ],
        )
    assert caught.value.message_dict["rates"] == ["家庭类别“计生特殊家庭(失独)”的标准填写了两次。"]


def test_a_wrong_rule_is_refused_under_its_key(world):
    with pytest.raises(ValidationError) as caught:
        program_from_template(world, "other", rule={"min_age": 70, "max_age": 60})
    assert caught.value.message_dict["rule.max_age"] == [
        "最高年龄(60 周岁)不能小于最低年龄(70 周岁)。"
    ]


def test_a_programme_in_use_keeps_its_stored_decisions(world):
    found = families(world)
    admin = world.a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    with world.a.scope():
        enrollment = apply_services.enrollment_apply(
            actor=admin, program=program, person=found["0101"].persons["head"]
        )
        stored = (enrollment.rule, enrollment.facts, enrollment.reasons, enrollment.amount)
        changed = program_services.program_update(
            actor=admin,
            program=program,
            standard_amount=Decimal("960"),
            rule={**program.rule, "min_age": 65},
        )
        enrollment.refresh_from_db()
        assert (enrollment.rule, enrollment.facts, enrollment.reasons, enrollment.amount) == stored
        assert enrollment.rule["min_age"] == 60 and changed.rule["min_age"] == 65
        with pytest.raises(ValidationError) as caught:
            program_services.program_update(
                actor=admin, program=program, beneficiary_kind="household"
            )
        assert caught.value.message_dict["beneficiary_kind"] == [
            "该项目已有申报记录,不能更改扶助对象类型(个人/家庭户)。"
        ]
        history = ChangeRecord.objects.filter(object_type="benefits.Program", object_id=program.pk)
        update = history.get(action="update")
    assert update.before["standard_amount"] == "720.00"
    assert update.after["standard_amount"] == "960.00"


# --- applying ------------------------------------------------------------------------------


def test_applying_stores_the_judgement_the_event_and_the_change(world):
    found = families(world)
    secretary = world.a.users["village_secretary"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]
    with world.a.scope():
        enrollment = apply_services.enrollment_apply(
            actor=secretary, program=program, person=head, note="村民代表会议通过"
        )
        event = enrollment.events.get()
        change = ChangeRecord.objects.get(
            object_type="benefits.Enrollment", object_id=enrollment.pk
        )
    assert enrollment.status == EnrollmentStatus.APPLIED
    assert enrollment.amount == Decimal("720.00")
    assert (enrollment.village_id, enrollment.group_id) == (head.village_id, head.group_id)
    assert enrollment.household_id == found["0101"].household.pk
    assert enrollment.reasons == [
        "独生子女户",
        "本人为户主",
        "本人 60 周岁",
        "户籍常住",
        "农业户口",
    ]
    assert enrollment.facts["age"] == 60 and enrollment.facts["year"] == this_year()
    assert enrollment.rule == program.rule
    assert (event.action, event.actor, event.reason) == ("apply", secretary, "村民代表会议通过")
    assert (event.to_status, event.rule, event.facts) == ("applied", program.rule, enrollment.facts)
    assert change.node_id == head.group_id and change.action == "create"
    assert "birth_date" not in enrollment.facts and "id_number" not in enrollment.facts


def test_applying_for_someone_not_eligible_says_why(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    with world.a.scope(), pytest.raises(ValidationError) as caught:
        apply_services.enrollment_apply(
            actor=world.a.users["village_secretary"],
            program=program,
            person=found["0101"].persons["spouse"],
        )
    assert caught.value.messages == [
        "钱秀兰不符合“农村部分计划生育家庭奖励扶助”的条件:未满 60 周岁(59 周岁)。"
    ]
    assert caught.value.code == "not_eligible"


def test_a_second_live_application_is_refused(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]
    with world.a.scope():
        first = apply_services.enrollment_apply(
            actor=world.a.users["county_admin"], program=program, person=head
        )
        with pytest.raises(ValidationError) as caught:
            apply_services.enrollment_apply(
                actor=world.a.users["township_staff"], program=program, person=head
            )
        assert caught.value.messages == [
            "赵大山已有“农村部分计划生育家庭奖励扶助”的已申报记录,不能重复申报。"
        ]
        # An exited enrolment no longer holds the place: a new application is accepted.
        Enrollment.objects.filter(pk=first.pk).update(status=EnrollmentStatus.EXITED)
        again = apply_services.enrollment_apply(
            actor=world.a.users["county_admin"], program=program, person=head
        )
    assert again.pk != first.pk


def test_the_unique_index_is_the_last_guard_and_says_so_in_chinese(world):
    """Two clerks judged the same person free at once: the second insert hits the partial
    unique index, whose IntegrityError becomes the same message."""
    found = families(world)
    admin = world.a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]
    with world.a.scope():
        node = head.placed_at()
        evaluation = Evaluation(
            program=program, node=node, year=this_year(), today=D(this_year(), 12, 1),
            restrict=[head.pk],
        )  # fmt: skip
        stale = evaluation.all_decisions()[0]  # judged before the other clerk's insert
        apply_services.enrollment_apply(actor=admin, program=program, person=head)
        with pytest.raises(ValidationError) as caught:
            apply_services._create(
                actor=admin, program=program, evaluation=evaluation, candidate=stale, node=node,
                category=None, note="", today=D(this_year(), 12, 1),
            )  # fmt: skip
        assert caught.value.code == "already"
        assert Enrollment.objects.filter(program=program, person=head).count() == 1


def test_the_index_refuses_a_second_live_row_written_directly(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]
    with world.a.scope():
        first = apply_services.enrollment_apply(
            actor=world.a.users["county_admin"], program=program, person=head
        )
        copy = Enrollment(
            program=program, person=head, household=first.household, amount=Decimal("720")
        )
        copy.place_under(head.placed_at())
        with (
            pytest.raises(IntegrityError, match="enrollment_one_live_per_person"),
            transaction.atomic(),
        ):
            copy.save()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("county_admin", True),
        ("township_staff", True),
        ("village_secretary", True),
        ("county_viewer", False),
        ("group_leader", False),
    ],
)
def test_who_may_apply(world, role, allowed):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    head = found["0101"].persons["head"]  # in the first village's first group
    with world.a.scope():
        if allowed:
            apply_services.enrollment_apply(actor=world.a.users[role], program=program, person=head)
        else:
            with pytest.raises(PermissionDenied):
                apply_services.enrollment_apply(
                    actor=world.a.users[role], program=program, person=head
                )


def test_the_rate_of_the_family_decides_the_amount(world):
    found = families(world)
    admin = world.a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.SPECIAL_ASSISTANCE)
    with world.a.scope():
        enrollment = apply_services.enrollment_apply(
            actor=world.a.users["village_secretary"],
            program=program,
            person=found["0103"].persons["spouse"],
        )
        assert (enrollment.category, enrollment.amount) == ("bereaved", Decimal("1200.00"))
        with pytest.raises(ValidationError) as caught:
            apply_services.enrollment_apply(
                actor=admin,
                program=program,
                person=found["0103"].persons["head"],
                category="disabled_child",
            )
    assert caught.value.message_dict["category"] == ["扶助类别“伤残”与登记的家庭类别不符。"]


def test_household_programmes_apply_for_the_household(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.ACCIDENT_INSURANCE)
    with world.a.scope():
        with pytest.raises(ValidationError) as caught:
            apply_services.enrollment_apply(
                actor=world.a.users["county_admin"],
                program=program,
                person=found["0101"].persons["head"],
            )
        assert "household" in caught.value.message_dict
        enrollment = apply_services.enrollment_apply(
            actor=world.a.users["county_admin"], program=program, household=found["0102"].household
        )
    assert enrollment.person_id is None
    assert enrollment.household_id == found["0102"].household.pk
    assert enrollment.amount == Decimal("100.00")
    assert enrollment.reasons == ["双女户"]


def test_an_inactive_programme_takes_no_application(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE, is_active=False)
    with world.a.scope(), pytest.raises(ValidationError) as caught:
        apply_services.enrollment_apply(
            actor=world.a.users["county_admin"],
            program=program,
            person=found["0101"].persons["head"],
        )
    assert caught.value.code == "program_inactive"


def test_applying_for_a_page_applies_the_eligible_and_says_why_not_the_others(world):
    found = families(world)
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    keys = [found[n].persons[k].pk for n, k in (("0101", "head"), ("0101", "spouse"), ("0103",
            "head"))]  # fmt: skip
    with world.a.scope():
        result = apply_services.enrollment_apply_many(
            actor=world.a.users["village_secretary"],
            program=program,
            node=world.a.villages[0],
            keys=keys,
            form_token=None,
        )
        assert sorted(e.person.name for e in result.applied) == ["周德明", "赵大山"]
        assert result.refused == [
            ("钱秀兰", "钱秀兰不符合“农村部分计划生育家庭奖励扶助”的条件:未满 60 周岁(59 周岁)。")
        ]
        # a foreign person's id among the keys is simply not found under the node
        other = world.a.persons[2].pk  # the second village's
        result = apply_services.enrollment_apply_many(
            actor=world.a.users["village_secretary"],
            program=program,
            node=world.a.villages[0],
            keys=[other],
        )
    assert (result.applied, result.refused) == ([], [])


# --- the annual re-confirmation --------------------------------------------------------------


def _enrolled(world, program, persons):
    admin = world.a.users["county_admin"]
    with world.a.scope():
        rows = [
            apply_services.enrollment_apply(actor=admin, program=program, person=p) for p in persons
        ]
        Enrollment.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=EnrollmentStatus.ENROLLED, enrolled_on=D(this_year(), 1, 15)
        )
    return rows


def test_reconfirmation_flags_deaths_moves_and_facts_worked_by_hand(world):
    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    sun_li = found["0102"].persons["spouse"]
    zhao, zhou = found["0101"].persons["head"], found["0103"].persons["head"]
    rows = _enrolled(world, program, [zhao, sun_li, zhou])
    with a.scope():
        # 赵大山 died; 李桂芝 registered 非农业 now; 周德明's household moves to the second village
        household_services.person_update(
            actor=admin, person=zhao, is_deceased=True, died_on=D(y, 3, 2)
        )
        household_services.person_update(
            actor=admin, person=sun_li, registration_kind="non_agricultural"
        )
        household_services.household_move(
            actor=admin, household=found["0103"].household, to_village=a.villages[1]
        )
        result = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        flags = {
            r.enrollment_id: [f["text"] for f in r.flags]
            for r in Reconfirmation.objects.filter(enrollment__program=program, year=y)
        }
    assert (result.enrolled, result.created, result.flagged) == (3, 3, 3)
    assert flags[rows[0].pk] == [f"本人已去世({y}-03-02)"]
    assert flags[rows[1].pk] == ["不再符合条件:非农业户口"]
    assert flags[rows[2].pk] == [f"已迁至本县{a.villages[1].name},确认后转至该村"]


def test_reconfirmation_runs_once_a_year_and_refreshes_what_is_pending(world):
    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    zhao = found["0101"].persons["head"]
    _enrolled(world, program, [zhao, found["0103"].persons["head"]])
    with a.scope():
        first = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        again = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        assert (first.created, first.flagged, again.created, again.refreshed) == (2, 0, 0, 0)
        household_services.person_update(actor=admin, person=zhao, is_deceased=True)
        third = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        assert (third.created, third.refreshed, third.flagged) == (0, 1, 1)
        assert Reconfirmation.objects.filter(enrollment__program=program, year=y).count() == 2
        # next year is another round
        later = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y + 1)
        assert later.created == 2


def test_exit_keeps_history_and_confirm_follows_a_move(world):
    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    zhao, zhou = found["0101"].persons["head"], found["0103"].persons["head"]
    dead, moved = _enrolled(world, program, [zhao, zhou])
    with a.scope():
        household_services.person_update(actor=admin, person=zhao, is_deceased=True)
        household_services.household_move(
            actor=admin, household=found["0103"].household, to_village=a.villages[1]
        )
        reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        row_dead = Reconfirmation.objects.get(enrollment=dead, year=y)
        row_moved = Reconfirmation.objects.get(enrollment=moved, year=y)
        with pytest.raises(ValidationError) as caught:
            reconfirmation_services.reconfirmation_decide(
                actor=admin, reconfirmation=row_dead, exit=True, reason=""
            )
        assert caught.value.message_dict["reason"] == ["请填写退出原因。"]
        with pytest.raises(ValidationError) as caught:
            reconfirmation_services.reconfirmation_decide(
                actor=admin, reconfirmation=row_moved, exit=False
            )
        assert caught.value.message_dict["reason"] == ["该对象有疑点,继续享受请说明理由。"]
        with pytest.raises(PermissionDenied):
            reconfirmation_services.reconfirmation_decide(
                actor=a.users["township_staff"], reconfirmation=row_dead, exit=True, reason="去世"
            )
        reconfirmation_services.reconfirmation_decide(
            actor=admin, reconfirmation=row_dead, exit=True, reason="本人去世",
            exited_on=D(y, 3, 31), today=D(y, 12, 1),
        )  # fmt: skip
        reconfirmation_services.reconfirmation_decide(
            actor=admin, reconfirmation=row_moved, exit=False, reason="随户迁至本县二村"
        )
        dead.refresh_from_db()
        moved.refresh_from_db()
        row_dead.refresh_from_db()
        events = {
            e.enrollment_id: (e.action, e.reason, e.from_status, e.to_status)
            for e in EnrollmentEvent.objects.filter(action__in=["exit", "reconfirm"])
            if e.enrollment_id in (dead.pk, moved.pk)
        }
        with pytest.raises(ValidationError) as caught:
            reconfirmation_services.reconfirmation_decide(
                actor=admin, reconfirmation=row_dead, exit=True, reason="再退一次"
            )
        assert caught.value.code == "decided"
        changes = ChangeRecord.objects.filter(
            object_type="benefits.Enrollment", object_id=dead.pk, action="update"
        )
        assert changes.get().after["status"] == "exited"
        assert Enrollment.objects.filter(pk=dead.pk).exists()  # nothing deleted
    assert (dead.status, dead.exited_on, dead.exit_reason) == ("exited", D(y, 3, 31), "本人去世")
    assert (row_dead.decision, row_dead.decided_by) == ("exited", admin)
    assert events[dead.pk] == ("exit", "本人去世", "enrolled", "exited")
    assert events[moved.pk] == ("reconfirm", "随户迁至本县二村", "enrolled", "enrolled")
    assert moved.status == "enrolled" and moved.village_id == a.villages[1].pk


def test_confirming_the_unflagged_at_once_judges_them_again(world):
    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    zhao, zhou = found["0101"].persons["head"], found["0103"].persons["head"]
    _enrolled(world, program, [zhao, zhou])
    with a.scope():
        reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        # 周德明 dies after the run: confirming the unflagged flags him instead
        household_services.person_update(actor=admin, person=zhou, is_deceased=True)
        confirmed, flagged = reconfirmation_services.reconfirmation_confirm_unflagged(
            actor=admin, program=program, year=y
        )
        rows = {
            r.enrollment.person_id: r
            for r in Reconfirmation.objects.filter(enrollment__program=program, year=y)
        }
        events = EnrollmentEvent.objects.filter(action="reconfirm", enrollment__program=program)
        assert [e.enrollment.person_id for e in events] == [zhao.pk]
    assert (confirmed, flagged) == (1, 1)
    assert rows[zhao.pk].decision == "confirmed" and rows[zhao.pk].decided_by == admin
    assert rows[zhou.pk].decision == "pending"
    assert rows[zhou.pk].flags == [{"code": "died", "text": "本人已去世"}]


def test_the_worlds_reconfirmations_are_there(world):
    """The shared world's rows (tests/conftest.py): county B's four heads, enrolled and
    re-confirmed for this year without flags."""
    with world.b.scope():
        rows = Reconfirmation.objects.filter(
            year=this_year(), enrollment__program__name=WORLD_PROGRAM
        )
        assert rows.count() == 4
        assert not any(r.flags for r in rows)


def test_an_unreadable_stored_rule_is_flagged_for_a_person_to_check(world):
    from benefits.models import Program

    found = families(world)
    a, y = world.a, this_year()
    admin = a.users["county_admin"]
    program = program_from_template(world, ProgramTemplate.REWARD_ASSISTANCE)
    zhao = found["0101"].persons["head"]
    (row,) = _enrolled(world, program, [zhao])
    with a.scope():
        # an enrolment written by an older version: judged by the programme's current rule
        Enrollment.objects.filter(pk=row.pk).update(rule={"all": [{"fact": "age"}]})
        first = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        assert (first.created, first.flagged) == (1, 0)
        # and the programme's own rule no longer reads either: a person checks
        Program.objects.filter(pk=program.pk).update(rule={"any": []})
        program.refresh_from_db()
        again = reconfirmation_services.reconfirmation_run(actor=admin, program=program, year=y)
        flags = Reconfirmation.objects.get(enrollment=row, year=y).flags
    assert (again.refreshed, again.flagged) == (1, 1)
    assert flags == [
        {"code": "rule", "text": "申报时保存的资格条件无法识别,请人工核对是否仍然符合"}
    ]
