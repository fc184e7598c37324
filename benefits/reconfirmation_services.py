"""The annual re-confirmation (资格确认) of a programme's enrolled beneficiaries.

``reconfirmation_run`` reads the registry for every enrolled beneficiary of the programme at
once and writes one Reconfirmation per enrolment and year (a unique constraint: running it
again refreshes the flags of those still pending and adds the newly enrolled). What it flags:

- 死亡: the person died (a household programme: nobody of the household is alive);
- 迁出: the person is no longer in a household of the county's registry (移出本户), or is
  recorded as 流入 (registered elsewhere) — the registry's ways of saying someone left;
- 迁移: the person (household) now lives in another village of the county: confirming moves
  the enrolment there, so the new village sees it;
- the rule: the facts no longer meet the rule the enrolment was judged by (stored with it),
  each failing condition in Chinese ("不在 2026 年计生困难家庭名册").

The county admin then confirms (继续享受) or exits (退出) each one, with the reason: an exit
sets the enrolment EXITED with the date and reason; both write an EnrollmentEvent (RECONFIRM
or EXIT) and a change record. Nothing is deleted."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from associations.history import ChangeRows, record_change, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require

from . import permissions
from .candidates import Candidate, Evaluation
from .eligibility import Rule, stored_rule
from .models import (
    BeneficiaryKind,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Program,
    Reconfirmation,
)
from .validation import field_error
from .workflow_services import PLACEMENT, enrollment_event, place_like

NOT_ALLOWED = "只有县级管理员可以进行年度资格确认。"
RECONFIRMATION_FIELDS = ["enrollment", "year", "flags", "decision", "reason", "decided_by"]
ENROLLMENT_STATE = ["status", "exited_on", "exit_reason", "county", "township", "village", "group"]


class Flag:
    DIED = "died"
    MOVED_OUT = "moved_out"
    MOVED = "moved"
    RULE = "rule"


@dataclass
class RunResult:
    created: int = 0
    refreshed: int = 0
    flagged: int = 0
    enrolled: int = 0


UNREADABLE_FLAG = "申报时保存的资格条件无法识别,请人工核对是否仍然符合"


def _flags(
    enrollment: Enrollment, candidate: Candidate | None, unreadable: bool = False
) -> list[dict]:
    """What the registry says against an enrolment, as [{"code", "text"}]."""
    if candidate is None:  # not in the registry under the county any more
        return [{"code": Flag.MOVED_OUT, "text": "登记信息中已找不到该对象"}]
    facts, flags = candidate.facts, []
    households = enrollment.person_id is None
    if households and not facts.household_alive:
        flags.append({"code": Flag.DIED, "text": "户内人员均已去世"})
    if not households:
        if not facts.alive:
            died = f"({facts.died_on.isoformat()})" if facts.died_on else ""
            flags.append({"code": Flag.DIED, "text": f"本人已去世{died}"})
        if facts.household_id is None:
            flags.append({"code": Flag.MOVED_OUT, "text": "已移出家庭户,不在本县户籍登记中"})
        elif facts.residency == "inflow":
            flags.append({"code": Flag.MOVED_OUT, "text": "户籍不在本县(登记为流入人口)"})
    if facts.village_id != enrollment.village_id:
        flags.append({"code": Flag.MOVED, "text": f"已迁至本县{facts.village_name},确认后转至该村"})
    if unreadable:
        flags.append({"code": Flag.RULE, "text": UNREADABLE_FLAG})
    already = {flag["text"] for flag in flags}
    for text in candidate.decision.exclusions:
        if text.startswith("本人已去世") or text in already or text == "未登记所在家庭户":
            continue
        flags.append({"code": Flag.RULE, "text": f"不再符合条件:{text}"})
    return flags


def _judge(
    enrollments: list[Enrollment], *, program: Program, node, year, today
) -> dict[int, tuple[Candidate | None, bool]]:
    """{enrollment id: (Candidate or None, whether its rule was unreadable)}, judged by the
    rule each was stored with (one evaluation per distinct stored rule, usually one). A rule
    that cannot be read (written by hand or an older version) falls back to the programme's
    current one; when neither reads, only death and moves are judged and the row says so."""
    households = program.beneficiary_kind == BeneficiaryKind.HOUSEHOLD
    by_rule: dict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in enrollments:
        stored = enrollment.rule or program.rule or {}
        by_rule[json.dumps(stored, sort_keys=True, default=str)].append(enrollment)
    judged: dict[int, tuple[Candidate | None, bool]] = {}
    for group in by_rule.values():
        rule = stored_rule(group[0].rule or program.rule) or stored_rule(program.rule)
        unreadable = rule is None
        keys = [e.household_id if households else e.person_id for e in group]
        evaluation = Evaluation(
            program=program, node=node, year=year, today=today, rule=rule or Rule(),
            restrict=keys,
        )  # fmt: skip
        found = {c.key: c for c in evaluation.all_decisions()}
        for enrollment in group:
            key = enrollment.household_id if households else enrollment.person_id
            judged[enrollment.pk] = (found.get(key), unreadable)
    return judged


def _county(actor) -> Association:
    return Association.objects.get(pk=actor.county_id)


@transaction.atomic
def reconfirmation_run(
    *, actor, program: Program, year: int, today: datetime.date | None = None
) -> RunResult:
    """Flag every enrolled beneficiary of the programme for ``year`` (see the module)."""
    require(permissions.can_approve(actor), NOT_ALLOWED)
    today = today or timezone.localdate()
    county = _county(actor)
    enrollments = list(
        Enrollment.objects.filter(program=program, status=EnrollmentStatus.ENROLLED).order_by("id")
    )
    existing = {
        r.enrollment_id: r
        for r in Reconfirmation.objects.filter(
            enrollment__program=program, year=year
        ).select_for_update()
    }
    judged = _judge(enrollments, program=program, node=county, year=year, today=today)
    result = RunResult(enrolled=len(enrollments))
    new, changed = [], []
    for enrollment in enrollments:
        flags = _flags(enrollment, *judged[enrollment.pk])
        result.flagged += bool(flags)
        row = existing.get(enrollment.pk)
        if row is None:
            row = Reconfirmation(enrollment=enrollment, year=year, flags=flags)
            place_like(row, enrollment)
            new.append(row)
        elif row.decision == Reconfirmation.Decision.PENDING and row.flags != flags:
            row.flags = flags
            changed.append(row)
    Reconfirmation.objects.bulk_create(new, batch_size=1000)
    Reconfirmation.objects.bulk_update(changed, ["flags"], batch_size=1000)
    result.created, result.refreshed = len(new), len(changed)
    history = ChangeRows(actor)
    nodes = Association.objects.in_bulk(
        {row.group_id or row.village_id for row in [*new, *changed]}
    )
    for rows, action in ((new, ChangeRecord.Action.CREATE), (changed, ChangeRecord.Action.UPDATE)):
        for row in rows:
            history.add(
                node=nodes[row.group_id or row.village_id],
                obj=row,
                action=action,
                before=None,
                after=snapshot(row, RECONFIRMATION_FIELDS),
            )
    history.insert()
    return result


def _event(*, actor, enrollment: Enrollment, action, reason: str, facts: dict):
    """The decision's event: from enrolled to the enrolment's status now."""
    return enrollment_event(
        enrollment,
        actor=actor,
        action=action,
        reason=reason,
        from_status=EnrollmentStatus.ENROLLED,
        facts=facts,
        actor_label=actor.get_username(),
    )


def _decide(
    *,
    actor,
    row: Reconfirmation,
    candidate: Candidate | None,
    exit: bool,
    reason: str,
    exited_on: datetime.date,
) -> EnrollmentEvent:
    """Write one decision (the caller checked permission and state); returns its event."""
    enrollment = row.enrollment
    node = enrollment.placed_at()
    before = snapshot(enrollment, ENROLLMENT_STATE)
    facts = candidate.decision.facts if candidate is not None else {}
    if exit:
        enrollment.status = EnrollmentStatus.EXITED
        enrollment.exited_on = exited_on
        enrollment.exit_reason = reason[:200]
        action = EnrollmentEvent.Action.EXIT
    else:
        action = EnrollmentEvent.Action.RECONFIRM
        moved = candidate is not None and candidate.facts.village_id != enrollment.village_id
        if moved:  # the beneficiary moved within the county: the enrolment follows
            for level, value in zip(PLACEMENT, candidate.extra["place"], strict=True):
                setattr(enrollment, f"{level}_id", value)
    after = snapshot(enrollment, ENROLLMENT_STATE)
    if after != before:
        enrollment.save(update_fields=[*ENROLLMENT_STATE, "updated_at"])
        record_change(
            actor=actor,
            node=node,
            obj=enrollment,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=after,
        )
    row_before = snapshot(row, RECONFIRMATION_FIELDS)
    row.decision = Reconfirmation.Decision.EXITED if exit else Reconfirmation.Decision.CONFIRMED
    row.reason = reason[:500]
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
    record_change(
        actor=actor,
        node=node,
        obj=row,
        action=ChangeRecord.Action.UPDATE,
        before=row_before,
        after=snapshot(row, RECONFIRMATION_FIELDS),
    )
    return _event(actor=actor, enrollment=enrollment, action=action, reason=reason, facts=facts)


def _pending(row: Reconfirmation) -> None:
    if row.decision != Reconfirmation.Decision.PENDING:
        raise ValidationError(
            f"{row.year} 年的资格确认已经办理({row.get_decision_display()})。", code="decided"
        )
    if row.enrollment.status != EnrollmentStatus.ENROLLED:
        raise ValidationError(
            f"该对象现为“{row.enrollment.get_status_display()}”,不在册,无需确认。",
            code="not_enrolled",
        )


@transaction.atomic
def reconfirmation_decide(
    *,
    actor,
    reconfirmation: Reconfirmation,
    exit: bool,
    reason: str = "",
    exited_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> Reconfirmation:
    """Confirm (继续享受) or exit (退出) one enrolment. An exit needs its reason; so does
    confirming one the registry flagged."""
    require(permissions.can_approve(actor), NOT_ALLOWED)
    today = today or timezone.localdate()
    row = (
        Reconfirmation.objects.select_for_update()
        .select_related("enrollment__program")
        .get(pk=reconfirmation.pk)
    )
    _pending(row)
    reason = (reason or "").strip()
    if exit and not reason:
        raise field_error("reason", "请填写退出原因。", "required")
    if not exit and row.flags and not reason:
        raise field_error("reason", "该对象有疑点,继续享受请说明理由。", "required")
    exited_on = exited_on or today
    if exit and exited_on > today:
        raise field_error("exited_on", "退出日期不能晚于今天。", "future")
    enrollment = row.enrollment
    program = enrollment.program
    judged = _judge([enrollment], program=program, node=_county(actor), year=row.year, today=today)
    event = _decide(
        actor=actor,
        row=row,
        candidate=judged[enrollment.pk][0],
        exit=exit,
        reason=reason,
        exited_on=exited_on,
    )
    event.save()
    return row


@transaction.atomic
def reconfirmation_confirm_unflagged(
    *, actor, program: Program, year: int, today: datetime.date | None = None
) -> tuple[int, int]:
    """Confirm at once every pending re-confirmation of the year that the registry did not
    flag, judged again now: one the registry flags by now is left pending with its new flags.
    Returns (confirmed, newly flagged)."""
    require(permissions.can_approve(actor), NOT_ALLOWED)
    today = today or timezone.localdate()
    rows = list(
        Reconfirmation.objects.select_for_update()
        .select_related("enrollment")
        .filter(
            enrollment__program=program,
            enrollment__status=EnrollmentStatus.ENROLLED,
            year=year,
            decision=Reconfirmation.Decision.PENDING,
            flags=[],
        )
        .order_by("id")
    )
    judged = _judge(
        [row.enrollment for row in rows], program=program, node=_county(actor), year=year,
        today=today,
    )  # fmt: skip
    now = timezone.now()
    confirmed, flagged, events = [], [], []
    history = ChangeRows(actor)
    nodes = Association.objects.in_bulk({row.group_id or row.village_id for row in rows})
    for row in rows:
        candidate, unreadable = judged[row.enrollment_id]
        before = snapshot(row, RECONFIRMATION_FIELDS)
        flags = _flags(row.enrollment, candidate, unreadable)
        if flags:
            row.flags = flags
            flagged.append(row)
        else:
            row.decision = Reconfirmation.Decision.CONFIRMED
            row.decided_by, row.decided_at = actor, now
            confirmed.append(row)
            events.append(
                _event(
                    actor=actor,
                    enrollment=row.enrollment,
                    action=EnrollmentEvent.Action.RECONFIRM,
                    reason="",
                    facts=candidate.decision.facts,
                )
            )
        history.add(
            node=nodes[row.group_id or row.village_id],
            obj=row,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=snapshot(row, RECONFIRMATION_FIELDS),
        )
    Reconfirmation.objects.bulk_update(
        confirmed, ["decision", "decided_by", "decided_at"], batch_size=1000
    )
    Reconfirmation.objects.bulk_update(flagged, ["flags"], batch_size=1000)
    EnrollmentEvent.objects.bulk_create(events, batch_size=1000)
    history.insert()
    return len(confirmed), len(flagged)
