"""The application (申报): a village (or township, or the county admin) applies for a person or
household of a programme. The rule is judged again at that moment (benefits.candidates, the
same judgement as the candidates list) and stored with the enrolment and its first event:
editing the programme's rule later changes no stored decision.

A second live application of the same beneficiary to the same programme is refused with a
message; the partial unique indexes of Enrollment are the last guard against two clerks
applying at once (their IntegrityError becomes the same message)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord
from associations.permissions import require
from households.models import Household, Person

from . import permissions
from .candidates import Candidate, Evaluation
from .models import (
    BeneficiaryKind,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Program,
)
from .validation import field_error
from .workflow_services import enrollment_event

ENROLLMENT_FIELDS = [
    "program",
    "person",
    "household",
    "category",
    "amount",
    "status",
    "reasons",
    "facts",
    "rule",
    "applied_on",
    "county",
    "township",
    "village",
    "group",
]
NOT_ALLOWED = "只有村(社区)、乡镇(街道)工作人员和县级管理员可以申报。"
LIVE_LABELS = dict(EnrollmentStatus.choices)


def already_message(name: str, program: Program, status: str = "") -> str:
    state = LIVE_LABELS.get(status, "进行中的申报") if status else "进行中的申报或在册"
    return f"{name}已有“{program.name}”的{state}记录,不能重复申报。"


@dataclass
class ApplyResult:
    applied: list[Enrollment] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    replayed: bool = False


def _node_of(place: tuple) -> int:
    """The id of the association a row sits at: its group, else its village."""
    _county, _township, village, group = place
    return group or village


def _name(candidate: Candidate) -> str:
    """Who a message names: the person (a household's head), else the household's number."""
    return candidate.name or f"{candidate.facts.household_number}户"


def _create(
    *,
    actor,
    program: Program,
    evaluation: Evaluation,
    candidate: Candidate,
    node: Association,
    category: str | None,
    note: str,
    today: datetime.date,
) -> Enrollment:
    """One application of a judged candidate (inside the caller's transaction)."""
    decision = candidate.decision
    name = _name(candidate)
    if candidate.live_id:
        raise ValidationError(already_message(name, program, candidate.live_status), "already")
    if not decision.eligible:
        raise ValidationError(
            f"{name}不符合“{program.name}”的条件:{decision.exclusions_text}。",
            code="not_eligible",
        )
    rates = evaluation.rates
    if category:
        if category not in rates:
            raise field_error(
                "category", f"“{program.name}”没有这一类别的标准。", "category_unknown"
            )
        if category not in candidate.facts.categories:
            raise field_error(
                "category",
                f"扶助类别“{rates[category].label}”与登记的家庭类别不符。",
                "category_mismatch",
            )
    else:
        category = decision.category
    enrollment = Enrollment(
        program=program,
        person_id=None if evaluation.households else candidate.facts.person_id,
        household_id=candidate.facts.household_id,
        category=category,
        amount=rates[category].amount if category in rates else program.standard_amount,
        status=EnrollmentStatus.APPLIED,
        reasons=decision.reasons,
        facts=decision.facts,
        rule=evaluation.rule.to_json(),
        applied_on=today,
    )
    enrollment.place_under(node)
    enrollment.full_clean(
        exclude=[
            "county",
            "township",
            "village",
            "group",
            "program",
            "person",
            "household",
            "notice",
            "bank_account",
        ],
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError as error:
        if "enrollment_one_live_per" in str(error):
            raise ValidationError(already_message(name, program), code="already") from None
        raise
    enrollment_event(
        enrollment,
        actor=actor,
        action=EnrollmentEvent.Action.APPLY,
        reason=(note or "").strip(),
        from_status="",
        actor_label=actor.get_username(),
    ).save()
    record_change(
        actor=actor,
        node=node,
        obj=enrollment,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(enrollment, ENROLLMENT_FIELDS),
    )
    return enrollment


def _check_program(program: Program) -> None:
    if not program.is_active:
        raise ValidationError(f"项目“{program.name}”已停用,不能申报。", code="program_inactive")


@transaction.atomic
def enrollment_apply(
    *,
    actor,
    program: Program,
    person: Person | None = None,
    household: Household | None = None,
    category: str | None = None,
    note: str = "",
    year: int | None = None,
    today: datetime.date | None = None,
    form_token=None,
) -> Enrollment:
    """Apply for ``person`` (a person programme) or ``household`` (a household programme),
    both read through the actor's scope. Refused (ValidationError, in Chinese) when the
    beneficiary does not meet the rule, or already has a live application or enrolment."""
    today = today or timezone.localdate()
    year = year or today.year
    households = program.beneficiary_kind == BeneficiaryKind.HOUSEHOLD
    beneficiary = household if households else person
    if beneficiary is None:
        wanted = "家庭户" if households else "人员"
        field_name = "household" if households else "person"
        raise field_error(
            field_name, f"“{program.name}”按{wanted}申报,请选择{wanted}。", "required"
        )
    node = beneficiary.placed_at()
    require(permissions.can_apply(actor, node), NOT_ALLOWED)
    _check_program(program)
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=Enrollment)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    evaluation = Evaluation(
        program=program, node=node, year=year, today=today, restrict=[beneficiary.pk]
    )
    judged = evaluation.all_decisions()
    if not judged:
        raise ValidationError("找不到该扶助对象。", code="not_found")
    enrollment = _create(
        actor=actor,
        program=program,
        evaluation=evaluation,
        candidate=judged[0],
        node=node,
        category=category,
        note=note,
        today=today,
    )
    submissions.complete(token=form_token, obj=enrollment)
    return enrollment


@transaction.atomic
def enrollment_apply_many(
    *,
    actor,
    program: Program,
    node: Association,
    keys: list[int],
    note: str = "",
    year: int | None = None,
    today: datetime.date | None = None,
    form_token=None,
) -> ApplyResult:
    """Apply for several candidates of a page at once (``keys``: person ids, or household ids
    of a household programme, under ``node``). Each is judged and applied on its own: one
    refused does not stop the others; the result says who was applied for and why the others
    were not."""
    today = today or timezone.localdate()
    year = year or today.year
    require(permissions.can_apply(actor, node), NOT_ALLOWED)
    _check_program(program)
    if not keys:
        raise ValidationError("请先勾选要申报的对象。", code="nothing_selected")
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=Enrollment)
    if earlier is not None:
        return ApplyResult(replayed=True)
    evaluation = Evaluation(program=program, node=node, year=year, today=today, restrict=keys)
    candidates = evaluation.all_decisions()
    nodes = Association.objects.in_bulk({_node_of(c.extra["place"]) for c in candidates})
    result = ApplyResult()
    for candidate in candidates:
        name = _name(candidate)
        place = nodes[_node_of(candidate.extra["place"])]
        if not permissions.can_apply(actor, place):
            result.refused.append((name, NOT_ALLOWED))
            continue
        try:
            with transaction.atomic():
                enrollment = _create(
                    actor=actor,
                    program=program,
                    evaluation=evaluation,
                    candidate=candidate,
                    node=place,
                    category=None,
                    note=note,
                    today=today,
                )
        except ValidationError as error:
            result.refused.append((name, ";".join(error.messages)))
            continue
        result.applied.append(enrollment)
    if result.applied:
        submissions.complete(token=form_token, obj=result.applied[0])
    return result
