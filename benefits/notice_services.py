"""The notice phase of the enrolment workflow (benefits.workflow_services has the whole picture):
posting a public notice (公示) of applied enrolments, and the objections (异议) raised while
it runs and resolved by the township or county.

- notice: the village or township (can_apply at the node) posts a notice of applied enrolments
  for ``program.notice_days`` days; they move to in_notice. A programme that needs no notice
  is refused (its applications are reviewed straight from applied).
- objection: recorded during the notice period (can_apply); resolved by the township or
  county (can_review). An upheld one returns the application to the village (rejected, the
  finding as the reason); review waits until every objection is resolved.

The steps share workflow_services' machinery: the locked row, its event and change record,
the form token (a form sent twice acts once) and the day (``workflow_services.today``)."""

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

from . import workflow_services as steps
from .models import Enrollment, Objection, Program, PublicNotice
from .permissions import can_apply
from .validation import field_error

Status = steps.Status
Action = steps.Action

NOTICE_FIELDS = ["program", "title", "starts_on", "ends_on", "objection_contact"]
OBJECTION_FIELDS = ["raised_on", "raised_by", "content", "upheld", "resolution", "resolved_by"]

NO_NOTICE_RIGHT = "只有村(社区)、乡镇(街道)工作人员和县级管理员可以发布公示。"
NO_OBJECTION_RIGHT = "只有村(社区)、乡镇(街道)工作人员和县级管理员可以登记异议。"
NO_RESOLVE_RIGHT = "只有乡镇(街道)工作人员和县级管理员可以处理异议。"


# --- public notice ------------------------------------------------------------------------------


def _explain_unpostable(program: Program, node: Association, ids: set[int]) -> ValidationError:
    rows = Enrollment.objects.filter(pk__in=ids).select_related("person", "household__head")
    messages = []
    for row in rows.order_by("pk"):
        name = steps.beneficiary_name(row)
        if row.program_id != program.pk:
            messages.append(f"{name}的申报不属于“{program.name}”。")
        elif getattr(row, f"{node.level}_id") != node.pk:
            messages.append(f"{name}不在{node.name}。")
        else:
            messages.append(f"{name}的申报{steps.status_label(row.status)},不能再公示。")
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
        raise field_error("node", "公示须以村(社区)或乡镇(街道)名义发布。", "notice_node_level")
    if not program.needs_notice:
        raise field_error(
            "program", f"“{program.name}”审批前无需公示,申报后可直接审核。", "notice_not_needed"
        )
    if not program.is_active:
        raise field_error("program", f"“{program.name}”已停用。", "program_inactive")
    contact = steps.required_text(objection_contact, "objection_contact", "异议受理方式", 200)
    starts_on = starts_on or steps.today()
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
            raise field_error("enrollments", "请选择要公示的申报。", "required")
        candidates = candidates.filter(pk__in=wanted)
    rows = list(candidates.order_by("pk"))
    if enrollments is not None and len(rows) < len(wanted):
        raise _explain_unpostable(program, node, wanted - {row.pk for row in rows})
    if not rows:
        raise field_error(
            "enrollments", f"{node.name}没有“{program.name}”待公示的申报。", "nothing_to_notice"
        )
    latest = max(row.applied_on for row in rows)
    steps.not_before(
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
    notice.full_clean(
        exclude=[*steps.PLACEMENT, "program", "created_by"], validate_constraints=False
    )
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
        before = snapshot(row, steps.ENROLLMENT_FIELDS)
        row.status, row.notice = Status.IN_NOTICE, notice
        events.append(
            steps.enrollment_event(
                row, actor=actor, action=Action.NOTICE, reason=reason, from_status=before["status"]
            )
        )
        changes.add(
            node=nodes[row.group_id or row.village_id],
            obj=row,
            action=ChangeRecord.Action.UPDATE,
            before=before,
            after=snapshot(row, steps.ENROLLMENT_FIELDS),
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
    enrollment = steps.locked(enrollment)
    require(steps.may_object(actor, enrollment), NO_OBJECTION_RIGHT)
    content = steps.required_text(content, "content", "异议内容", steps.REASON_MAX)
    raised_by = steps.optional_text(raised_by, "raised_by", "提出人", 50)
    earlier = submissions.claim(
        actor=actor, token=form_token, node=enrollment.placed_at(), model=Objection
    )
    if earlier is not None:
        earlier.replayed = True
        return earlier
    if enrollment.status != Status.IN_NOTICE or enrollment.notice_id is None:
        raise ValidationError(
            f"只有公示中的申报可以登记异议(该申报{steps.status_label(enrollment.status)})。",
            code="not_in_notice",
        )
    notice = enrollment.notice
    raised_on = raised_on or steps.today()
    steps.not_in_future(raised_on, "raised_on", "提出日期")
    if not notice.starts_on <= raised_on <= notice.ends_on:
        raise field_error(
            "raised_on",
            f"异议应在公示期内提出(公示期 {notice.starts_on:%Y-%m-%d} 至 "
            f"{notice.ends_on:%Y-%m-%d})。",
            "objection_outside_period",
        )
    objection = Objection(
        enrollment=enrollment,
        raised_on=raised_on,
        raised_by=raised_by,
        content=content,
        recorded_by=actor,
    )
    steps.place_like(objection, enrollment)
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
    steps.enrollment_event(
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
    enrollment = steps.locked(objection.enrollment)
    require(steps.may_review(actor, enrollment), NO_RESOLVE_RIGHT)
    if upheld is None:
        raise field_error("upheld", "请选择异议是否成立。", "required")
    resolution = steps.required_text(resolution, "resolution", "处理结果", steps.REASON_MAX)
    if steps.claimed(actor=actor, token=form_token, enrollment=enrollment) is not None:
        objection.replayed = True
        return objection
    if objection.resolved_at is not None:
        raise ValidationError(
            f"该异议已于 {timezone.localtime(objection.resolved_at):%Y-%m-%d %H:%M} 处理。",
            code="already_resolved",
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
        event = steps.transition(
            enrollment,
            actor=actor,
            action=Action.OBJECTION_RESOLVED,
            to_status=Status.REJECTED,
            reason=finding,
            return_reason=finding,
        )
    else:
        event = steps.enrollment_event(
            enrollment,
            actor=actor,
            action=Action.OBJECTION_RESOLVED,
            reason=finding,
            from_status=enrollment.status,
        )
        event.save()
    submissions.complete(token=form_token, obj=event)
    return objection
