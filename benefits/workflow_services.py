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
from associations.bulk import insert_many
from associations.history import ChangeRows, record_change, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.permissions import require

from .models import (
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Objection,
    Program,
    PublicNotice,
)
from .permissions import can_apply, can_approve, can_review

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
NOTICE_FIELDS = ["program", "title", "starts_on", "ends_on", "objection_contact"]
OBJECTION_FIELDS = ["raised_on", "raised_by", "content", "upheld", "resolution", "resolved_by"]
PLACEMENT = ("county", "township", "village", "group")
REASON_MAX = 500
EXIT_REASON_MAX = 200
RETURNABLE = (Status.APPLIED, Status.IN_NOTICE, Status.REVIEWED)

NO_NOTICE_RIGHT = "只有村(社区)、乡镇(街道)工作人员和县级管理员可以发布公示。"
NO_OBJECTION_RIGHT = "只有村(社区)、乡镇(街道)工作人员和县级管理员可以登记异议。"
NO_RESOLVE_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以处理异议。"
NO_REVIEW_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以审核。"
NO_RETURN_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以退回申报。"
NO_RETURN_REVIEWED_RIGHT = "已审核的申报只能由县级管理员在审批时退回。"
NO_APPROVE_RIGHT = "只有县级管理员可以审批。"
NO_EXIT_RIGHT = "只有县级管理员可以办理退出。"


def today() -> datetime.date:
    """The day the workflow's dates are judged by (tests fix it)."""
    return timezone.localdate()


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: error}) if field else error


def _actor_label(actor) -> str:
    name = getattr(actor, "display_name", "") or actor.get_username()
    username = actor.get_username()
    return f"{name}({username})" if name != username else name


def _required_text(value, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise _error(f"请填写{label}。", "required", field)
    if len(text) > limit:
        raise _error(f"{label}最多 {limit} 个字(现有 {len(text)} 个)。", "max_length", field)
    return text


def _optional_text(value, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise _error(f"{label}最多 {limit} 个字(现有 {len(text)} 个)。", "max_length", field)
    return text


def _not_in_future(day: datetime.date, field: str, label: str) -> None:
    if day > today():
        raise _error(f"{label}晚于今天,不能登记尚未发生的事。", "future_date", field)


def _not_before(day: datetime.date, earliest, *, field: str, label: str, what: str, code: str):
    """Refuse a date before the step it follows (``earliest`` None: nothing to follow)."""
    if earliest is not None and day < earliest:
        raise _error(f"{label}不能早于{what}({earliest:%Y-%m-%d})。", code, field)


def beneficiary_name(enrollment: Enrollment) -> str:
    """The person's name, or for a household programme the head's (else the household's
    number)."""
    if enrollment.person_id:
        return enrollment.person.name
    head = enrollment.household.head
    return head.name if head else f"{enrollment.household.number}户"


def _status_label(status: str) -> str:
    return Status(status).label


# --- permissions over one enrolment (for pages: which actions to offer) ----------------------


def may_object(user, enrollment: Enrollment) -> bool:
    return can_apply(user, enrollment.village)


def may_review(user, enrollment: Enrollment) -> bool:
    return can_review(user, enrollment.village)


def may_return(user, enrollment: Enrollment) -> bool:
    if enrollment.status == Status.REVIEWED:
        return can_approve(user) and can_review(user, enrollment.village)
    return can_review(user, enrollment.village)


def may_approve(user, enrollment: Enrollment) -> bool:
    return can_approve(user) and can_review(user, enrollment.village)


def review_blocker(enrollment: Enrollment, *, on: datetime.date | None = None):
    """Why the enrolment cannot be reviewed on the day (a ValidationError), or None."""
    on = on or today()
    status = enrollment.status
    if status == Status.APPLIED or (status == Status.IN_NOTICE and enrollment.notice_id is None):
        if enrollment.program.needs_notice:
            return _error(
                f"“{enrollment.program.name}”审批前须公示:请先发布公示,公示期满且异议处理"
                "完毕后再审核。",
                "notice_required",
            )
        return None
    if status == Status.IN_NOTICE:
        notice = enrollment.notice
        if notice.ends_on >= on:
            first_day = notice.ends_on + datetime.timedelta(days=1)
            return _error(
                f"公示期为 {notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d},"
                f"公示期满后({first_day:%Y-%m-%d} 起)才能审核。",
                "notice_running",
            )
        open_count = enrollment.objections.filter(resolved_at__isnull=True).count()
        if open_count:
            return _error(
                f"公示期间收到的异议还有 {open_count} 条未处理,处理完毕后才能审核。",
                "objection_unresolved",
            )
        return None
    return _error(f"该申报{_status_label(status)},不能审核。", "wrong_status")


# --- the enrolment's row and its steps --------------------------------------------------------


def _lock(enrollment: Enrollment) -> Enrollment:
    """The enrolment's row, locked for the step (with its programme, notice, place and
    person: the change record is labelled with the name)."""
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("program", "notice", "village", "group", "person")
        .get(pk=enrollment.pk)
    )


def _place_like(row, enrollment: Enrollment) -> None:
    for field in PLACEMENT:
        setattr(row, f"{field}_id", getattr(enrollment, f"{field}_id"))


def _event(enrollment: Enrollment, *, actor, action: str, reason: str, from_status: str):
    event = EnrollmentEvent(
        enrollment=enrollment,
        action=action,
        actor=actor,
        actor_label=_actor_label(actor),
        at=timezone.now(),
        reason=reason[:REASON_MAX],
        from_status=from_status,
        to_status=enrollment.status,
        rule=enrollment.rule,
        facts=enrollment.facts,
    )
    _place_like(event, enrollment)
    return event


def _transition(
    enrollment: Enrollment, *, actor, action: str, to_status: str, reason: str = "", **changes
) -> EnrollmentEvent:
    """Move the (locked) enrolment to `to_status` with `changes`, and record the step."""
    before = snapshot(enrollment, ENROLLMENT_FIELDS)
    from_status = enrollment.status
    enrollment.status = to_status
    for field, value in changes.items():
        setattr(enrollment, field, value)
    enrollment.save(update_fields=["status", *changes, "updated_at"])
    event = _event(enrollment, actor=actor, action=action, reason=reason, from_status=from_status)
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


def _replayed(enrollment: Enrollment) -> Enrollment:
    fresh = Enrollment.objects.select_related("program", "notice").get(pk=enrollment.pk)
    fresh.replayed = True
    return fresh


def _claimed(*, actor, token, enrollment: Enrollment):
    """The earlier sending's step of the same form (an EnrollmentEvent), or None."""
    return submissions.claim(
        actor=actor, token=token, node=enrollment.placed_at(), model=EnrollmentEvent
    )


# --- public notice ------------------------------------------------------------------------------


def _explain_unpostable(program: Program, node: Association, ids: set[int]) -> ValidationError:
    rows = Enrollment.objects.filter(pk__in=ids).select_related("person", "household__head")
    messages = []
    for row in rows.order_by("pk"):
        name = beneficiary_name(row)
        if row.program_id != program.pk:
            messages.append(f"{name}的申报不属于“{program.name}”。")
        elif getattr(row, f"{node.level}_id") != node.pk:
            messages.append(f"{name}不在{node.name}。")
        else:
            messages.append(f"{name}的申报{_status_label(row.status)},不能再公示。")
    if len(messages) < len(ids):
        messages.append("所选的申报有的不存在或不在您的管辖范围内。")
    return ValidationError(
        {"enrollments": [ValidationError(m, code="not_postable") for m in messages]}
    )


@transaction.atomic
def notice_publish(
    *,
    actor,
    program: Program,
    node: Association,
    objection_contact: str,
    enrollments=None,
    starts_on: datetime.date | None = None,
    form_token=None,
) -> PublicNotice:
    """Post a public notice (公示) of the programme's applied enrolments at a village or
    township: `enrollments` (each applied, of the programme, under the node), or all applied
    ones at the node when None. The notice runs from `starts_on` (today by default) for
    ``program.notice_days`` days; the enrolments move to in_notice."""
    require(can_apply(actor, node), NO_NOTICE_RIGHT)
    if node.level not in (Level.VILLAGE, Level.TOWNSHIP):
        raise _error("公示须以村(社区)或乡镇(街道)名义发布。", "notice_node_level", "node")
    if not program.needs_notice:
        raise _error(
            f"“{program.name}”审批前无需公示,申报后可直接审核。", "notice_not_needed", "program"
        )
    if not program.is_active:
        raise _error(f"“{program.name}”已停用。", "program_inactive", "program")
    contact = _required_text(objection_contact, "objection_contact", "异议受理方式", 200)
    starts_on = starts_on or today()
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=PublicNotice)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    # With the person: each enrolment's change record is labelled with the name.
    candidates = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("program", "person")
        .filter(program=program, status=Status.APPLIED, **{f"{node.level}_id": node.pk})
    )
    if enrollments is not None:
        wanted = {e.pk for e in enrollments}
        if not wanted:
            raise _error("请选择要公示的申报。", "required", "enrollments")
        candidates = candidates.filter(pk__in=wanted)
    rows = list(candidates.order_by("pk"))
    if enrollments is not None and len(rows) < len(wanted):
        raise _explain_unpostable(program, node, wanted - {row.pk for row in rows})
    if not rows:
        raise _error(
            f"{node.name}没有“{program.name}”待公示的申报。", "nothing_to_notice", "enrollments"
        )
    latest = max(row.applied_on for row in rows)
    _not_before(
        starts_on,
        latest,
        field="starts_on",
        label="公示开始日期",
        what="申报日期",
        code="notice_before_application",
    )
    notice = PublicNotice(
        program=program,
        title=f"{node.name} {program.name} 公示"[:200],
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=program.notice_days - 1),
        objection_contact=contact,
        created_by=actor,
    )
    notice.place_under(node)
    notice.full_clean(exclude=[*PLACEMENT, "program", "created_by"], validate_constraints=False)
    notice.save()
    record_change(
        actor=actor,
        node=node,
        obj=notice,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(notice, NOTICE_FIELDS),
    )
    _move_into_notice(rows, notice, actor)
    submissions.complete(token=form_token, obj=notice)
    return notice


def _move_into_notice(rows: list[Enrollment], notice: PublicNotice, actor) -> None:
    """The enrolments to in_notice in one UPDATE, with their events and change records."""
    now = timezone.now()
    Enrollment.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Status.IN_NOTICE, notice=notice, updated_at=now
    )
    reason = f"{notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}"
    nodes = {
        node.pk: node
        for node in Association.objects.filter(
            pk__in={row.group_id or row.village_id for row in rows}
        )
    }
    changes = ChangeRows(actor)
    events = []
    for row in rows:
        before = snapshot(row, ENROLLMENT_FIELDS)
        row.status, row.notice = Status.IN_NOTICE, notice
        events.append(
            _event(
                row, actor=actor, action=Action.NOTICE, reason=reason, from_status=before["status"]
            )
        )
        changes.add(
            node=nodes[row.group_id or row.village_id],
            obj=row,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=snapshot(row, ENROLLMENT_FIELDS),
        )
    insert_many(events, ids=False)
    changes.insert()


# --- objections ---------------------------------------------------------------------------------


@transaction.atomic
def objection_record(
    *,
    actor,
    enrollment: Enrollment,
    content: str,
    raised_by: str = "",
    raised_on: datetime.date | None = None,
    form_token=None,
) -> Objection:
    """An objection raised during the notice (by a villager, named as text, or anonymous)."""
    enrollment = _lock(enrollment)
    require(may_object(actor, enrollment), NO_OBJECTION_RIGHT)
    content = _required_text(content, "content", "异议内容", REASON_MAX)
    raised_by = _optional_text(raised_by, "raised_by", "提出人", 50)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=enrollment.placed_at(), model=Objection
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    if enrollment.status != Status.IN_NOTICE or enrollment.notice_id is None:
        raise _error(
            f"只有公示中的申报可以登记异议(该申报{_status_label(enrollment.status)})。",
            "not_in_notice",
        )
    notice = enrollment.notice
    raised_on = raised_on or today()
    _not_in_future(raised_on, "raised_on", "提出日期")
    if not notice.starts_on <= raised_on <= notice.ends_on:
        raise _error(
            f"异议应在公示期内提出(公示期 {notice.starts_on:%Y-%m-%d} 至 "
            f"{notice.ends_on:%Y-%m-%d})。",
            "objection_outside_period",
            "raised_on",
        )
    objection = Objection(
        enrollment=enrollment,
        raised_on=raised_on,
        raised_by=raised_by,
        content=content,
        recorded_by=actor,
    )
    _place_like(objection, enrollment)
    objection.save()
    record_change(
        actor=actor,
        node=enrollment.placed_at(),
        obj=objection,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(objection, OBJECTION_FIELDS),
    )
    who = raised_by or "匿名"
    _event(
        enrollment,
        actor=actor,
        action=Action.OBJECTION,
        reason=f"{who}:{content}",
        from_status=enrollment.status,
    ).save()
    submissions.complete(token=form_token, obj=objection)
    return objection


@transaction.atomic
def objection_resolve(
    *, actor, objection: Objection, upheld: bool | None, resolution: str, form_token=None
) -> Objection:
    """The township's or county's finding on an objection. Upheld: the application goes back
    to the village (rejected, with the finding as the reason)."""
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    enrollment = _lock(objection.enrollment)
    require(may_review(actor, enrollment), NO_RESOLVE_RIGHT)
    if upheld is None:
        raise _error("请选择异议是否成立。", "required", "upheld")
    resolution = _required_text(resolution, "resolution", "处理结果", REASON_MAX)
    if _claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        objection.replayed = True
        return objection
    if objection.resolved_at is not None:
        raise _error(
            f"该异议已于 {timezone.localtime(objection.resolved_at):%Y-%m-%d %H:%M} 处理。",
            "already_resolved",
        )
    before = snapshot(objection, OBJECTION_FIELDS)
    objection.upheld, objection.resolution = bool(upheld), resolution
    objection.resolved_by, objection.resolved_at = actor, timezone.now()
    objection.save(update_fields=["upheld", "resolution", "resolved_by", "resolved_at"])
    record_change(
        actor=actor,
        node=enrollment.placed_at(),
        obj=objection,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(objection, OBJECTION_FIELDS),
    )
    finding = f"异议{'成立' if upheld else '不成立'}:{resolution}"
    if upheld and enrollment.status in (Status.APPLIED, Status.IN_NOTICE):
        event = _transition(
            enrollment,
            actor=actor,
            action=Action.OBJECTION_RESOLVED,
            to_status=Status.REJECTED,
            reason=finding,
            return_reason=finding,
        )
    else:
        event = _event(
            enrollment,
            actor=actor,
            action=Action.OBJECTION_RESOLVED,
            reason=finding,
            from_status=enrollment.status,
        )
        event.save()
    submissions.complete(token=form_token, obj=event)
    return objection


# --- review, return, approval, exit -----------------------------------------------------------


@transaction.atomic
def enrollment_review(*, actor, enrollment: Enrollment, opinion: str = "", form_token=None):
    """审核通过 (township staff or county admin): after the notice period (the day after it
    ends) with every objection resolved, or straight from applied if no notice is needed."""
    enrollment = _lock(enrollment)
    require(may_review(actor, enrollment), NO_REVIEW_RIGHT)
    opinion = _optional_text(opinion, "opinion", "审核意见", REASON_MAX)
    if _claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return _replayed(enrollment)
    blocker = review_blocker(enrollment)
    if blocker is not None:
        raise blocker
    event = _transition(
        enrollment, actor=actor, action=Action.REVIEW, to_status=Status.REVIEWED, reason=opinion
    )
    submissions.complete(token=form_token, obj=event)
    return enrollment


@transaction.atomic
def enrollment_return(*, actor, enrollment: Enrollment, reason: str, form_token=None):
    """退回 with the reason the village sees: by the township (or county) while the
    application is applied or in notice, by the county admin once reviewed."""
    enrollment = _lock(enrollment)
    require(may_review(actor, enrollment), NO_RETURN_RIGHT)
    if enrollment.status == Status.REVIEWED:
        require(can_approve(actor), NO_RETURN_REVIEWED_RIGHT)
    reason = _required_text(reason, "reason", "退回原因", REASON_MAX)
    if _claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return _replayed(enrollment)
    if enrollment.status not in RETURNABLE:
        raise _error(f"该申报{_status_label(enrollment.status)},不能退回。", "wrong_status")
    event = _transition(
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
    enrollment = _lock(enrollment)
    require(may_approve(actor, enrollment), NO_APPROVE_RIGHT)
    opinion = _optional_text(opinion, "opinion", "审批意见", REASON_MAX)
    if _claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return _replayed(enrollment)
    if enrollment.status != Status.REVIEWED:
        raise _error(
            f"只有已审核的申报可以审批(该申报{_status_label(enrollment.status)})。",
            "wrong_status",
        )
    enrolled_on = enrolled_on or today()
    _not_in_future(enrolled_on, "enrolled_on", "在册日期")
    _not_before(
        enrolled_on,
        enrollment.applied_on,
        field="enrolled_on",
        label="在册日期",
        what="申报日期",
        code="before_application",
    )
    event = _transition(
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
    enrollment = _lock(enrollment)
    require(may_approve(actor, enrollment), NO_EXIT_RIGHT)
    reason = _required_text(reason, "reason", "退出原因", EXIT_REASON_MAX)
    if _claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        return _replayed(enrollment)
    if enrollment.status != Status.ENROLLED:
        raise _error(
            f"只有在册的扶助对象可以退出(该申报{_status_label(enrollment.status)})。",
            "wrong_status",
        )
    exited_on = exited_on or today()
    _not_in_future(exited_on, "exited_on", "退出日期")
    _not_before(
        exited_on,
        enrollment.enrolled_on,
        field="exited_on",
        label="退出日期",
        what="在册日期",
        code="before_enrolment",
    )
    event = _transition(
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
