"""Writes of the activities app: activities with their attendees and materials, and home visits.

Who may write (associations.permissions.can_record_field_work): a group leader records the
activities of their own group and the visits made by members of their group; a village
secretary those of the village and its groups; township and county staff those at or below
their node. County viewers read only. Every write is recorded in ChangeRecord."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from associations import period_locks, permissions, submissions
from associations.attachments import services as attachment_services
from associations.history import build_change, record_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.validators import refuse_unknown_fields
from households.models import Household
from members.models import Member, Pairing

from .models import (
    Activity,
    ActivityAttachment,
    Attendance,
    HomeVisit,
    Material,
    MaterialHandout,
)

ACTIVITY_FIELDS = [
    "association",
    "kind",
    "meeting_type",
    "service_type",
    "title",
    "date",
    "end_date",
    "place",
    "theme",
    "themed_day",
    "participants",
    "consultations",
    "trainees",
    "organiser",
    "summary",
    "external_ref",
]
EDITABLE_ACTIVITY_FIELDS = set(ACTIVITY_FIELDS) - {"association"}
ATTENDANCE_FIELDS = ["activity", "member"]
HANDOUT_FIELDS = ["activity", "material", "quantity"]
PLACEMENT = ["county", "township", "village", "group"]


def today() -> datetime.date:
    return timezone.localdate()


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def require_field_work(actor, node: Association) -> None:
    permissions.require(permissions.can_record_field_work(actor, node))


def _not_in_future(field: str, value: datetime.date | None, label: str) -> None:
    if value is not None and value > today():
        raise _error(field, f"{label}晚于今天,不能登记尚未发生的事。", "future_date")


def _stripped(fields: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


def _member_active_on(member: Member, day: datetime.date) -> bool:
    return member.joined_on <= day and (member.left_on is None or member.left_on >= day)


def _place_with(row, member: Member) -> None:
    """Copy the member's ancestor keys onto a row that sits where the member sits (without
    reading the member's group or village)."""
    for field in PLACEMENT:
        setattr(row, f"{field}_id", getattr(member, f"{field}_id"))


def _in_subtree(obj, node: Association) -> bool:
    """Whether a row (or node) with ancestor keys lies at or below `node`."""
    return getattr(obj, f"{node.level}_id") == node.pk


# --- activities ------------------------------------------------------------------------------


def _check_activity(activity: Activity, before: dict | None) -> None:
    _not_in_future("date", activity.date, "活动日期")
    if activity.end_date is not None and activity.end_date < activity.date:
        raise _error("end_date", "结束日期早于活动日期。", "ends_before_start")
    if activity.kind == Activity.Kind.MEETING and not activity.meeting_type:
        raise _error("meeting_type", "会议须选择会议类型。", "required")
    if activity.kind != Activity.Kind.MEETING and activity.meeting_type:
        raise _error("meeting_type", "只有会议才有会议类型。", "not_a_meeting")
    if activity.kind == Activity.Kind.SERVICE and not activity.service_type:
        raise _error("service_type", "服务活动须选择服务类型。", "required")
    if activity.kind != Activity.Kind.SERVICE and activity.service_type:
        raise _error("service_type", "只有服务活动才有服务类型。", "not_a_service")
    county_id = activity.association.county_id
    for field, label in (("theme", "主题"), ("themed_day", "主题日")):
        choice = getattr(activity, field)
        if choice is not None and choice.county_id != county_id:
            raise _error(field, f"该{label}不属于本县。", "other_county")
        # A retired choice stays on the records that have it, but is not chosen anew.
        newly_chosen = before is None or before.get(field) != getattr(activity, f"{field}_id")
        if choice is not None and not choice.is_active and newly_chosen:
            raise _error(field, f"该{label}已停用。", "retired")
    activity.full_clean(
        exclude=[*PLACEMENT, "association", "theme", "themed_day"],
        validate_unique=False,
        validate_constraints=False,
    )


def _save_with_external_ref(obj, constraint: str, noun: str) -> None:
    """Save; a reference another record of the county holds is the field's error, in words."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        if constraint in str(error):
            raise _error(
                "external_ref", f"外部编号 {obj.external_ref} 已被本县其他{noun}使用。", "taken"
            ) from error
        raise


def _refuse_locked(row, field: str, before: dict | None) -> None:
    """A record dated in a locked assessment period (its date before or after the change)
    is not created, changed or deleted (associations.period_locks)."""
    dates = [(field, getattr(row, field))]
    if before is not None:
        dates.insert(0, (field, before.get(field)))
    period_locks.refuse_if_locked(county_id=row.county_id, dates=dates)


def _save_activity(activity: Activity, *, actor, before: dict | None) -> Activity:
    _check_activity(activity, before)
    _refuse_locked(activity, "date", before)
    after = snapshot(activity, ACTIVITY_FIELDS)
    if before is not None and before == after:
        return activity
    _save_with_external_ref(activity, "activity_external_ref_unique_in_county", "活动")
    record_change(
        actor=actor,
        node=activity.association,
        obj=activity,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    return activity


@transaction.atomic
def activity_create(
    *,
    actor,
    association: Association,
    kind: str,
    date: datetime.date,
    attendees: Iterable[Member] = (),
    whole_groups: Iterable[Association] = (),
    materials: Mapping[Material, int] | None = None,
    form_token=None,
    **fields,
) -> Activity:
    """An activity held by `association`, with the members who took part (`attendees`, plus
    every member of each of `whole_groups` on the day) and the materials handed out
    ({material: quantity}). `fields`: the other fields of Activity (title, place, theme, …).
    `form_token`: a form sent twice creates one activity (associations.submissions); the
    second sending gets the first one's activity, marked `replayed`."""
    require_field_work(actor, association)
    refuse_unknown_fields(Activity, fields, EDITABLE_ACTIVITY_FIELDS)
    earlier = submissions.claim(actor=actor, token=form_token, node=association, model=Activity)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    activity = Activity(association=association, kind=kind, date=date, **_stripped(fields))
    activity.place_under(association)
    _save_activity(activity, actor=actor, before=None)
    if attendees or whole_groups:
        _add_attendees(activity, [*attendees, *_group_members(activity, whole_groups)], actor)
    if materials:
        handouts_set(actor=actor, activity=activity, materials=materials)
    submissions.complete(token=form_token, obj=activity)
    return activity


@transaction.atomic
def activity_update(
    *,
    actor,
    activity: Activity,
    attendees: Iterable[Member] | None = None,
    whole_groups: Iterable[Association] = (),
    materials: Mapping[Material, int] | None = None,
    **fields,
) -> Activity:
    """Change an activity's fields; `attendees` and `materials`, when given, replace the
    activity's attendee list and handouts. `whole_groups` adds every member of each group on
    the day: to `attendees` when given (the list becomes both), else to the current list. A
    date change keeps the attendees only if each was a member on the new date."""
    require_field_work(actor, activity.association)
    refuse_unknown_fields(Activity, fields, EDITABLE_ACTIVITY_FIELDS)
    before = snapshot(activity, ACTIVITY_FIELDS)
    for field, value in _stripped(fields).items():
        setattr(activity, field, value)
    _save_activity(activity, actor=actor, before=before)
    whole_groups = list(whole_groups)
    if whole_groups:
        if attendees is None:
            attendees = [a.member for a in activity.attendances.select_related("member__person")]
        attendees = [*attendees, *_group_members(activity, whole_groups)]
    if attendees is not None:
        attendance_set(actor=actor, activity=activity, members=attendees)
    elif "date" in fields:
        kept = [a.member for a in activity.attendances.select_related("member__person")]
        _check_attendees(activity, kept)
    if materials is not None:
        handouts_set(actor=actor, activity=activity, materials=materials)
    return activity


@transaction.atomic
def activity_delete(*, actor, activity: Activity) -> None:
    """Deletes the activity with its attendance rows, handouts and attachments, each
    recorded (the attachments' files are removed once the deletion commits)."""
    require_field_work(actor, activity.association)
    _refuse_locked(activity, "date", None)
    attachment_services.attachments_delete_all(
        actor=actor,
        queryset=ActivityAttachment.objects.filter(activity=activity),
        node=activity.association,
    )
    rows = [*activity.attendances.all(), *activity.handouts.all()]
    changes = [_deletion(actor, row, activity.association) for row in rows]
    changes.append(_deletion(actor, activity, activity.association, ACTIVITY_FIELDS))
    record_changes(changes)
    activity.delete()


def _deletion(actor, row, node: Association, fields=None) -> ChangeRecord:
    if fields is None:
        fields = ATTENDANCE_FIELDS if isinstance(row, Attendance) else HANDOUT_FIELDS
    return build_change(
        actor=actor,
        node=node,
        obj=row,
        action=ChangeRecord.Action.DELETE,
        before=snapshot(row, fields),
        after=None,
    )


# --- attendance ------------------------------------------------------------------------------


def _check_attendees(activity: Activity, members: list[Member]) -> None:
    node = activity.association
    for member in members:
        if not _in_subtree(member, node):
            raise _error(
                "attendees",
                f"会员 {member.person.name} 不属于{node.name},不能登记为本次活动的参加会员。",
                "member_elsewhere",
            )
        if not _member_active_on(member, activity.date):
            raise _error(
                "attendees",
                f"活动当天 {member.person.name} 不是在册会员(入会或退会日期不符)。",
                "member_not_active",
            )


def _group_members(activity: Activity, groups: Iterable[Association]) -> list[Member]:
    """Everyone who was a member of the groups on the activity's date: "the whole group"."""
    groups = list(groups)
    for group in groups:
        if group.level != Level.GROUP or not _in_subtree(group, activity.association):
            raise _error(
                "whole_groups",
                f"{group.name}不是{activity.association.name}的会员小组。",
                "group_elsewhere",
            )
    return group_members_on(groups, activity.date)


def group_members_on(groups: Iterable[Association], day: datetime.date) -> list[Member]:
    """Everyone who was a member of the groups on the day ("the whole group")."""
    groups = list(groups)
    if not groups:
        return []
    return list(
        Member.objects.filter(group__in=groups, joined_on__lte=day)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=day))
        .select_related("person")
    )


def _add_attendees(activity: Activity, members: list[Member], actor) -> list[Attendance]:
    unique = list({member.pk: member for member in members}.values())
    _check_attendees(activity, unique)
    rows = []
    for member in unique:
        row = Attendance(activity=activity, member=member)
        row.place_under(activity.association)
        rows.append(row)
    try:
        with transaction.atomic():
            Attendance.objects.bulk_create(rows)
    except IntegrityError as error:
        raise _error("attendees", "有会员已登记参加本次活动。", "attendance_exists") from error
    record_changes(
        [
            build_change(
                actor=actor,
                node=activity.association,
                obj=row,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after=snapshot(row, ATTENDANCE_FIELDS),
            )
            for row in rows
        ]
    )
    return rows


@transaction.atomic
def attendance_set(*, actor, activity: Activity, members: Iterable[Member]) -> None:
    """The activity's attendees become exactly `members`: the missing ones are added, the
    others removed (each recorded)."""
    require_field_work(actor, activity.association)
    _refuse_locked(activity, "date", None)
    wanted = {member.pk: member for member in members}
    current = {row.member_id: row for row in activity.attendances.all()}
    removed = [row for member_id, row in current.items() if member_id not in wanted]
    if removed:
        record_changes([_deletion(actor, row, activity.association) for row in removed])
        Attendance.objects.filter(pk__in=[row.pk for row in removed]).delete()
    added = [member for member_id, member in wanted.items() if member_id not in current]
    if added:
        _add_attendees(activity, added, actor)


@transaction.atomic
def attendance_add_group(*, actor, activity: Activity, group: Association) -> int:
    """ "The whole group": every member of the group on the activity's date who is not yet
    listed becomes an attendee. Returns how many were added."""
    require_field_work(actor, activity.association)
    _refuse_locked(activity, "date", None)
    listed = set(activity.attendances.values_list("member_id", flat=True))
    members = [m for m in _group_members(activity, [group]) if m.pk not in listed]
    if members:
        _add_attendees(activity, members, actor)
    return len(members)


# --- materials handed out --------------------------------------------------------------------


@transaction.atomic
def handouts_set(*, actor, activity: Activity, materials: Mapping[Material, int]) -> None:
    """The activity's handouts become `materials` ({material: quantity}); a material with
    quantity 0 or None, or not named, is not handed out."""
    require_field_work(actor, activity.association)
    _refuse_locked(activity, "date", None)
    current = {row.material_id: row for row in activity.handouts.all()}
    wanted = {}
    for material, quantity in materials.items():
        if material.county_id != activity.county_id:
            raise _error("materials", "该物资不属于本县。", "other_county")
        if not material.is_active and material.pk not in current:
            raise _error("materials", f"物资“{material}”已停用。", "retired")
        if quantity is not None and quantity < 0:
            raise _error("materials", f"{material.name}的数量不能为负数。", "negative")
        if quantity:
            wanted[material.pk] = (material, int(quantity))
    node = activity.association
    changes = []
    for material_id, row in current.items():
        if material_id not in wanted:
            changes.append(_deletion(actor, row, node))
            row.delete()
        elif row.quantity != wanted[material_id][1]:
            before = snapshot(row, HANDOUT_FIELDS)
            row.quantity = wanted[material_id][1]
            row.save(update_fields=["quantity"])
            changes.append(_handout_change(actor, row, node, before, ChangeRecord.Action.UPDATE))
    for material_id, (material, quantity) in wanted.items():
        if material_id not in current:
            row = MaterialHandout(activity=activity, material=material, quantity=quantity)
            row.place_under(node)
            row.save()
            changes.append(_handout_change(actor, row, node, None, ChangeRecord.Action.CREATE))
    record_changes(changes)


def _handout_change(actor, row, node, before, action) -> ChangeRecord:
    return build_change(
        actor=actor,
        node=node,
        obj=row,
        action=action,
        before=before,
        after=snapshot(row, HANDOUT_FIELDS),
    )


# --- home visits -----------------------------------------------------------------------------

VISIT_FIELDS = [
    "visitor",
    "household",
    "visited_on",
    "purpose",
    "notes",
    "follow_up_needed",
    "follow_up_done_on",
    "pairing",
    "external_ref",
]
EDITABLE_VISIT_FIELDS = {
    "household",
    "visited_on",
    "purpose",
    "notes",
    "follow_up_needed",
    "follow_up_done_on",
    "external_ref",
}


def _pairing_on(visitor: Member, household: Household, day: datetime.date) -> Pairing | None:
    """The visitor's pairing (结对帮扶) with the household that runs on the visit date."""
    return (
        Pairing.objects.filter(member=visitor, household=household, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .first()
    )


def _check_visit(visit: HomeVisit) -> None:
    visitor, household = visit.visitor, visit.household
    _not_in_future("visited_on", visit.visited_on, "走访日期")
    if household.village_id != visitor.village_id:
        raise _error(
            "household",
            f"走访户不在走访人 {visitor.person.name} 所在的村(社区),只能走访本村的家庭户。",
            "household_elsewhere",
        )
    if not _member_active_on(visitor, visit.visited_on):
        raise _error(
            "visitor", f"走访当天 {visitor.person.name} 不是在册会员。", "member_not_active"
        )
    if visit.follow_up_done_on is not None:
        if not visit.follow_up_needed:
            raise _error(
                "follow_up_done_on", "未标记需要跟进,不能填写跟进完成日期。", "no_follow_up"
            )
        if visit.follow_up_done_on < visit.visited_on:
            raise _error("follow_up_done_on", "跟进完成日期早于走访日期。", "done_before_visit")
        _not_in_future("follow_up_done_on", visit.follow_up_done_on, "跟进完成日期")
    visit.full_clean(
        exclude=[*PLACEMENT, "visitor", "household", "pairing"],
        validate_unique=False,
        validate_constraints=False,
    )


def _save_visit(visit: HomeVisit, *, actor, before: dict | None) -> HomeVisit:
    _check_visit(visit)
    _refuse_locked(visit, "visited_on", before)
    visit.pairing = _pairing_on(visit.visitor, visit.household, visit.visited_on)
    after = snapshot(visit, VISIT_FIELDS)
    if before is not None and before == after:
        return visit
    _save_with_external_ref(visit, "visit_external_ref_unique_in_county", "走访记录")
    record_change(
        actor=actor,
        node=visit.visitor.placed_at(),
        obj=visit,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    return visit


@transaction.atomic
def visit_record(
    *,
    actor,
    visitor: Member,
    household: Household,
    visited_on: datetime.date,
    purpose: str,
    form_token=None,
    **fields,
) -> HomeVisit:
    """入户随访 by `visitor` to a household of the visitor's village. The visit sits where the
    visitor sits; it is linked to the visitor's pairing with the household, if one runs on the
    visit date. `fields`: notes, follow_up_needed, follow_up_done_on, external_ref.
    `form_token`: a form sent twice records one visit (the second gets it, `replayed`)."""
    node = visitor.placed_at()
    require_field_work(actor, node)
    refuse_unknown_fields(HomeVisit, fields, EDITABLE_VISIT_FIELDS - {"household"})
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=HomeVisit)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    visit = HomeVisit(
        visitor=visitor,
        household=household,
        visited_on=visited_on,
        purpose=purpose,
        **_stripped(fields),
    )
    _place_with(visit, visitor)
    _save_visit(visit, actor=actor, before=None)
    submissions.complete(token=form_token, obj=visit)
    return visit


@transaction.atomic
def visit_update(*, actor, visit: HomeVisit, **fields) -> HomeVisit:
    """Change a visit (not its visitor: record another visit instead). The pairing link
    follows the household and date."""
    require_field_work(actor, visit.visitor.placed_at())
    refuse_unknown_fields(HomeVisit, fields, EDITABLE_VISIT_FIELDS)
    before = snapshot(visit, VISIT_FIELDS)
    for field, value in _stripped(fields).items():
        setattr(visit, field, value)
    return _save_visit(visit, actor=actor, before=before)


@transaction.atomic
def visit_delete(*, actor, visit: HomeVisit) -> None:
    require_field_work(actor, visit.visitor.placed_at())
    _refuse_locked(visit, "visited_on", None)
    record_change(
        actor=actor,
        node=visit.visitor.placed_at(),
        obj=visit,
        action=ChangeRecord.Action.DELETE,
        before=snapshot(visit, VISIT_FIELDS),
        after=None,
    )
    visit.delete()


# --- attachments (photos, sign-in sheets, minutes) -------------------------------------------


def may_attach(user, activity: Activity) -> bool:
    """Who may add or delete an activity's attachments: whoever records the activity."""
    return permissions.can_record_field_work(user, activity.association)


def _refuse_locked_attachment(actor, activity: Activity) -> None:
    if may_attach(actor, activity):  # (the others get their 403 from the attachment service)
        period_locks.refuse_if_locked(county_id=activity.county_id, dates=[(None, activity.date)])


ATTACHMENTS = attachment_services.AttachmentRules(
    model=ActivityAttachment,
    may_write=may_attach,
    node_of=lambda activity: activity.association,
    check=_refuse_locked_attachment,
)


def activity_attachment_add(*, actor, activity: Activity, upload) -> ActivityAttachment:
    """A photo or document attached to the activity (checked, pictures re-encoded without
    their metadata: associations.attachments). Refused in a locked period, like the activity."""
    return ATTACHMENTS.add(actor=actor, owner=activity, upload=upload)


def activity_attachment_delete(*, actor, attachment: ActivityAttachment) -> None:
    ATTACHMENTS.delete(actor=actor, attachment=attachment)
