"""The enrolment workflow after the application (DOMAIN.md §4): public notice (公示),
objections, the township's review (审核), the county's approval (审批), returns and exits.

    applied ──notice──▶ in_notice ──(period over, objections resolved)──▶ reviewed ──▶ enrolled
       │                    │  ▲ objection / resolve                         │             │
       └──(no notice)───────┼──┴──────────────────────────────────────────▶ │             ▼
                            ▼                                                ▼           exited
                        rejected ◀──── return (township: applied, in_notice; county: reviewed)

- notice: the village or township (can_apply at the node) posts a notice of applied enrolments
  for ``program.notice_days`` days; a programme that needs no notice skips it (review straight
  from applied).
- objection: recorded during the notice (can_apply); resolved by the township or county
  (can_review). While one is unresolved, review is refused; an upheld one returns the
  application.
- review: only after the notice period has ended (``ends_on < today``) and every objection is
  resolved; return with a reason instead (the village sees it).
- approve (county admin): reviewed → enrolled; exit (county admin): enrolled → exited.

This module holds what every step shares (the locked row, its event, the change record, the
form token, the day) and the steps of review, return, approval and exit; the notice and its
objections are benefits.notice_services, on the same footing.

Every step locks the enrolment row, checks the actor's permission over the enrolment's village
(out of scope was a 404 before), validates, writes, and records an EnrollmentEvent (who, when,
why, from and to status, the rule and facts it was judged by) and a ChangeRecord. A form sent
twice acts once (associations.submissions): the second sending gets the first one's result,
marked ``replayed``. Errors are ValidationErrors with stable codes and Chinese messages."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from associations import submissions
from associations.history import record_change, snapshot
from associations.models import ChangeRecord
from associations.permissions import require

from .models import Enrollment, EnrollmentEvent, EnrollmentStatus
from .permissions import can_apply, can_approve, can_review
from .validation import field_error

Status = EnrollmentStatus
Action = EnrollmentEvent.Action

ENROLLMENT_FIELDS = [
    "status",
    "notice",
    "enrolled_on",
    "exited_on",
    "exit_reason",
    "return_reason",
]
PLACEMENT = ("county", "township", "village", "group")
REASON_MAX = 500
EXIT_REASON_MAX = 200
RETURNABLE = (Status.APPLIED, Status.IN_NOTICE, Status.REVIEWED)

NO_REVIEW_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以审核。"
NO_RETURN_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以退回申报。"
NO_RETURN_REVIEWED_RIGHT = "已审核的申报只能由县级管理员在审批时退回。"
NO_APPROVE_RIGHT = "只有县级管理员可以审批。"
NO_EXIT_RIGHT = "只有县级管理员可以办理退出。"


def today() -> datetime.date:
    """The day the workflow's dates are judged by (tests fix it here, for both modules)."""
    return timezone.localdate()


# --- checks of what the user typed -------------------------------------------------------------


def required_text(value, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise field_error(field, f"请填写{label}。", "required")
    return optional_text(text, field, label, limit)


def optional_text(value, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise field_error(field, f"{label}最多 {limit} 个字(现有 {len(text)} 个)。", "max_length")
    return text


def not_in_future(day: datetime.date, field: str, label: str) -> None:
    if day > today():
        raise field_error(field, f"{label}晚于今天,不能登记尚未发生的事。", "future_date")


def not_before(day: datetime.date, earliest, *, field: str, label: str, what: str, code: str):
    """Refuse a date before the step it follows (``earliest`` None: nothing to follow)."""
    if earliest is not None and day < earliest:
        raise field_error(field, f"{label}不能早于{what}({earliest:%Y-%m-%d})。", code)


def _step_date(day, earliest, *, field: str, label: str, what: str, code: str):
    """The day a step takes effect: today unless given, not in the future, not before the
    step it follows (``what``, on ``earliest``)."""
    day = day or today()
    not_in_future(day, field, label)
    not_before(day, earliest, field=field, label=label, what=what, code=code)
    return day


def status_label(status: str) -> str:
    return Status(status).label


def _require_status(enrollment: Enrollment, status: str, only: str) -> None:
    """``only``: who may take the step, e.g. "只有已审核的申报可以审批"."""
    if enrollment.status != status:
        raise ValidationError(
            f"{only}(该申报{status_label(enrollment.status)})。", code="wrong_status"
        )


def beneficiary_name(enrollment: Enrollment) -> str:
    """The person's name, or for a household programme the head's (else the household's
    number)."""
    if enrollment.person_id:
        return enrollment.person.name
    head = enrollment.household.head
    return head.name if head else f"{enrollment.household.number}户"


# --- permissions over one enrolment (for pages: which actions to offer) ----------------------


def may_object(user, enrollment: Enrollment) -> bool:
    return can_apply(user, enrollment.village)


def may_review(user, enrollment: Enrollment) -> bool:
    return can_review(user, enrollment.village)


def may_return(user, enrollment: Enrollment) -> bool:
    if enrollment.status == Status.REVIEWED:
        return may_approve(user, enrollment)
    return may_review(user, enrollment)


def may_approve(user, enrollment: Enrollment) -> bool:
    return can_approve(user) and can_review(user, enrollment.village)


def review_blocker(enrollment: Enrollment, *, on: datetime.date | None = None):
    """Why the enrolment cannot be reviewed on the day (a ValidationError), or None."""
    on = on or today()
    status = enrollment.status
    if status == Status.APPLIED or (status == Status.IN_NOTICE and enrollment.notice_id is None):
        if enrollment.program.needs_notice:
            return ValidationError(
                f"“{enrollment.program.name}”审批前须公示:请先发布公示,公示期满且异议处理"
                "完毕后再审核。",
                code="notice_required",
            )
        return None
    if status == Status.IN_NOTICE:
        notice = enrollment.notice
        if notice.ends_on >= on:
            first_day = notice.ends_on + datetime.timedelta(days=1)
            return ValidationError(
                f"公示期为 {notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d},"
                f"公示期满后({first_day:%Y-%m-%d} 起)才能审核。",
                code="notice_running",
            )
        open_count = enrollment.objections.filter(resolved_at__isnull=True).count()
        if open_count:
            return ValidationError(
                f"公示期间收到的异议还有 {open_count} 条未处理,处理完毕后才能审核。",
                code="objection_unresolved",
            )
        return None
    return ValidationError(f"该申报{status_label(status)},不能审核。", code="wrong_status")


# --- the enrolment's row and its steps --------------------------------------------------------


def locked(enrollment: Enrollment) -> Enrollment:
    """The enrolment's row, locked for the step (with its programme, notice, place and
    person: the change record is labelled with the name)."""
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("program", "notice", "village", "group", "person")
        .get(pk=enrollment.pk)
    )


def place_like(row, enrollment: Enrollment) -> None:
    """Put a row of the enrolment (its event, objection, re-confirmation) where it is now."""
    for field in PLACEMENT:
        setattr(row, f"{field}_id", getattr(enrollment, f"{field}_id"))


def _actor_label(actor) -> str:
    name = getattr(actor, "display_name", "") or actor.get_username()
    username = actor.get_username()
    return f"{name}({username})" if name != username else name


def enrollment_event(
    enrollment: Enrollment,
    *,
    actor,
    action: str,
    reason: str,
    from_status: str,
    facts: dict | None = None,
    actor_label: str | None = None,
) -> EnrollmentEvent:
    """The step's event (unsaved), to the enrolment's status now, with the rule it was judged
    by and ``facts`` (the enrolment's own unless given). ``actor_label``: the actor's name and
    account unless given."""
    event = EnrollmentEvent(
        enrollment=enrollment,
        action=action,
        actor=actor,
        actor_label=_actor_label(actor) if actor_label is None else actor_label,
        at=timezone.now(),
        reason=reason[:REASON_MAX],
        from_status=from_status,
        to_status=enrollment.status,
        rule=enrollment.rule,
        facts=enrollment.facts if facts is None else facts,
    )
    place_like(event, enrollment)
    return event


def transition(
    enrollment: Enrollment, *, actor, action: str, to_status: str, reason: str = "", **changes
) -> EnrollmentEvent:
    """Move the (locked) enrolment to `to_status` with `changes`, and record the step."""
    before = snapshot(enrollment, ENROLLMENT_FIELDS)
    from_status = enrollment.status
    enrollment.status = to_status
    for field, value in changes.items():
        setattr(enrollment, field, value)
    enrollment.save(update_fields=["status", *changes, "updated_at"])
    event = enrollment_event(
        enrollment, actor=actor, action=action, reason=reason, from_status=from_status
    )
    event.save()
    record_change(
        actor=actor,
        node=enrollment.placed_at(),
        obj=enrollment,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(enrollment, ENROLLMENT_FIELDS),
    )
    return event


def replayed(enrollment: Enrollment) -> Enrollment:
    """The enrolment as the earlier sending of the form left it, marked ``replayed``."""
    fresh = Enrollment.objects.select_related("program", "notice").get(pk=enrollment.pk)
    fresh.replayed = True
    return fresh


def claimed(*, actor, token, enrollment: Enrollment):
    """The earlier sending's step of the same form (an EnrollmentEvent), or None."""
    return submissions.claim(
        actor=actor, token=token, node=enrollment.placed_at(), model=EnrollmentEvent
    )


# --- review, return, approval, exit -----------------------------------------------------------


@transaction.atomic
def enrollment_review(*, actor, enrollment: Enrollment, opinion: str = "", form_token=None):
    """审核通过 (township staff or county admin): after the notice period (the day after it
    ends) with every objection resolved, or straight from applied if no notice is needed."""
    enrollment = locked(enrollment)
    require(may_review(actor, enrollment), NO_REVIEW_RIGHT)
    opinion = optional_text(opinion, "opinion", "审核意见", REASON_MAX)
    if claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return replayed(enrollment)
    blocker = review_blocker(enrollment)
    if blocker is not None:
        raise blocker
    event = transition(
        enrollment, actor=actor, action=Action.REVIEW, to_status=Status.REVIEWED, reason=opinion
    )
    submissions.complete(token=form_token, obj=event)
    return enrollment


@transaction.atomic
def enrollment_return(*, actor, enrollment: Enrollment, reason: str, form_token=None):
    """退回 with the reason the village sees: by the township (or county) while the
    application is applied or in notice, by the county admin once reviewed."""
    enrollment = locked(enrollment)
    require(may_review(actor, enrollment), NO_RETURN_RIGHT)
    if enrollment.status == Status.REVIEWED:
        require(can_approve(actor), NO_RETURN_REVIEWED_RIGHT)
    reason = required_text(reason, "reason", "退回原因", REASON_MAX)
    if claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return replayed(enrollment)
    if enrollment.status not in RETURNABLE:
        raise ValidationError(
            f"该申报{status_label(enrollment.status)},不能退回。", code="wrong_status"
        )
    event = transition(
        enrollment,
        actor=actor,
        action=Action.RETURN,
        to_status=Status.REJECTED,
        reason=reason,
        return_reason=reason,
    )
    submissions.complete(token=form_token, obj=event)
    return enrollment


@transaction.atomic
def enrollment_approve(
    *,
    actor,
    enrollment: Enrollment,
    enrolled_on: datetime.date | None = None,
    opinion: str = "",
    form_token=None,
):
    """审批通过 (county admin): reviewed → enrolled (在册) from `enrolled_on` (today)."""
    enrollment = locked(enrollment)
    require(may_approve(actor, enrollment), NO_APPROVE_RIGHT)
    opinion = optional_text(opinion, "opinion", "审批意见", REASON_MAX)
    if claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return replayed(enrollment)
    _require_status(enrollment, Status.REVIEWED, "只有已审核的申报可以审批")
    enrolled_on = _step_date(
        enrolled_on,
        enrollment.applied_on,
        field="enrolled_on",
        label="在册日期",
        what="申报日期",
        code="before_application",
    )
    event = transition(
        enrollment,
        actor=actor,
        action=Action.APPROVE,
        to_status=Status.ENROLLED,
        reason=opinion,
        enrolled_on=enrolled_on,
        return_reason="",
    )
    submissions.complete(token=form_token, obj=event)
    return enrollment


@transaction.atomic
def enrollment_exit(
    *,
    actor,
    enrollment: Enrollment,
    reason: str,
    exited_on: datetime.date | None = None,
    form_token=None,
):
    """退出 (county admin): an enrolled beneficiary leaves the programme on `exited_on` with the
    reason; the enrolment and its history stay."""
    enrollment = locked(enrollment)
    require(may_approve(actor, enrollment), NO_EXIT_RIGHT)
    reason = required_text(reason, "reason", "退出原因", EXIT_REASON_MAX)
    if claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return replayed(enrollment)
    _require_status(enrollment, Status.ENROLLED, "只有在册的扶助对象可以退出")
    exited_on = _step_date(
        exited_on,
        enrollment.enrolled_on,
        field="exited_on",
        label="退出日期",
        what="在册日期",
        code="before_enrolment",
    )
    event = transition(
        enrollment,
        actor=actor,
        action=Action.EXIT,
        to_status=Status.EXITED,
        reason=reason,
        exited_on=exited_on,
        exit_reason=reason,
    )
    submissions.complete(token=form_token, obj=event)
    return enrollment
