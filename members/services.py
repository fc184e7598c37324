"""Writes of the members app: joining, leaving, group roles, contact households, pairings,
commendations, volunteer teams and council seat holders."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from associations import period_locks, permissions, submissions
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, CouncilSeat, Level
from associations.scope import Scope, activate
from associations.validators import refuse_unknown_fields
from households import services as household_services
from households.models import HardshipAssessment, Household, Person

from .models import (
    Commendation,
    ContactHousehold,
    ElderKind,
    GroupRole,
    Member,
    MemberCategory,
    Pairing,
    SeatHolder,
    VolunteerMembership,
    VolunteerTeam,
)

MEMBER_FIELDS = [
    "person",
    "association",
    "member_number",
    "joined_on",
    "categories",
    "elder_kind",
    "is_backbone",
    "status",
    "left_on",
    "leave_reason",
    "group",
]
MAX_CONTACT_HEADS = 3


def today() -> datetime.date:
    return timezone.localdate()


def _require_edit(actor, node: Association) -> None:
    permissions.require(permissions.can_edit_node(actor, node))


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _insert(obj, *, actor, node: Association, fields: list[str], conflict: tuple[str, str, str]):
    """Insert a new row, turning a unique-constraint clash into the field error `conflict`
    (field, message, code), and record its creation."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise _error(*conflict) from error
    record_change(
        actor=actor,
        node=node,
        obj=obj,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(obj, fields),
    )


def membership_elsewhere(*, county_id: int, person_id: int) -> Member | None:
    """The person's active membership anywhere in the county, for the refusal message. Looks
    county-wide on purpose: the answer names only an association and a member number."""
    with activate(Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)):
        return (
            Member.objects.filter(person_id=person_id, status=Member.Status.ACTIVE)
            .select_related("association")
            .first()
        )


def _already_member_error(member: Member | None) -> ValidationError:
    where = (
        f"{member.association.name}(会员证号 {member.member_number})" if member else "本县其他协会"
    )
    return _error(
        "person",
        f"此人已是{where}的会员,一人在本县只能有一个有效会籍。",
        "already_member_elsewhere",
    )


def next_member_number(village: Association) -> str:
    numbers = Member.objects.filter(village=village).values_list("member_number", flat=True)
    numeric = [int(n) for n in numbers if n.isdigit()]
    return f"{max(numeric, default=0) + 1:04d}"


def _clean_categories(categories, elder_kind: str) -> tuple[list[str], str]:
    categories = sorted(set(categories or []))
    unknown = set(categories) - set(MemberCategory.values)
    if unknown:
        raise _error("categories", f"未知的会员类别:{'、'.join(unknown)}。", "invalid_choice")
    if elder_kind and MemberCategory.ELDER not in categories:
        categories.append(MemberCategory.ELDER)
        categories.sort()
    if elder_kind and elder_kind not in ElderKind.values:
        raise _error("elder_kind", "未知的五老类别。", "invalid_choice")
    return categories, elder_kind or ""


def _check_group(association: Association, group: Association | None) -> None:
    if association.level != Level.VILLAGE:
        raise _error("association", "会员只能加入村(社区)级协会。", "not_a_village")
    if group is not None and group.parent_id != association.pk:
        raise _error("group", "会员小组不属于该协会。", "group_not_in_village")


def _refuse_locked(member: Member, before: dict | None) -> None:
    """A membership counted by a locked assessment period: joining in it, or a changed
    joining or leaving date from or into it, is refused (associations.period_locks)."""
    if before is None:
        dates = [("joined_on", member.joined_on)]
    else:
        dates = []
        for field in ("joined_on", "left_on"):
            after = getattr(member, field)
            after = after.isoformat() if after is not None else None
            if before.get(field) != after:
                dates += [(field, before.get(field)), (field, after)]
    period_locks.refuse_if_locked(county_id=member.county_id, dates=dates)


def _save_member(member: Member, *, actor, before: dict | None) -> Member:
    _refuse_locked(member, before)
    member.full_clean(
        exclude=["county", "township", "village", "group", "person", "association"],
        validate_unique=False,
        validate_constraints=False,
    )
    after = snapshot(member, MEMBER_FIELDS)
    if before is not None and before == after:
        return member
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as error:
        text = str(error)
        if "member_one_active_membership_in_county" in text:
            raise _already_member_error(
                membership_elsewhere(county_id=member.county_id, person_id=member.person_id)
            ) from error
        if "member_number_unique_in_village" in text:
            raise _error(
                "member_number",
                f"本协会已有会员证号 {member.member_number}。",
                "member_number_taken",
            ) from error
        raise
    record_change(
        actor=actor,
        node=member.placed_at(),
        obj=member,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    return member


@transaction.atomic
def member_register(
    *,
    actor,
    person: Person,
    association: Association,
    group: Association | None = None,
    form_token=None,
    **membership,
) -> Member:
    """入会. Refused when the person already has an active membership anywhere in the county.
    `membership`: what `_register` takes (member_number, joined_on, categories, elder_kind,
    is_backbone). `form_token`: a form sent twice registers once (associations.submissions);
    the second sending gets the first one's member, marked `replayed`."""
    _check_group(association, group)
    _require_edit(actor, group or association)
    earlier = _earlier_sending(actor, form_token, group or association)
    if earlier is not None:
        return earlier
    member = _register(
        actor=actor, person=person, association=association, group=group, **membership
    )
    submissions.complete(token=form_token, obj=member)
    return member


@transaction.atomic
def member_register_new_person(
    *,
    actor,
    association: Association,
    person_fields: dict,
    group: Association | None = None,
    form_token=None,
    **membership,
) -> Member:
    """A person not yet recorded, and their membership, in one transaction: the person is
    created by households.services.person_create (its checks, its change record, its
    duplicate message), in the village and group of the membership. Notices of the person
    service (a 15-digit number upgraded) are on the returned member's `notices`."""
    _check_group(association, group)
    _require_edit(actor, group or association)
    earlier = _earlier_sending(actor, form_token, group or association)
    if earlier is not None:
        return earlier
    person = household_services.person_create(
        actor=actor, village=association, group=group, **person_fields
    )
    member = _register(
        actor=actor, person=person, association=association, group=group, **membership
    )
    member.notices = getattr(person, "notices", [])
    submissions.complete(token=form_token, obj=member)
    return member


def _earlier_sending(actor, form_token, node: Association) -> Member | None:
    earlier = submissions.claim(actor=actor, token=form_token, node=node, model=Member)
    if earlier is not None:
        earlier.replayed = True
    return earlier


def _register(
    *,
    actor,
    person: Person,
    association: Association,
    group: Association | None = None,
    member_number: str = "",
    joined_on: datetime.date | None = None,
    categories: list[str] | None = None,
    elder_kind: str = "",
    is_backbone: bool = False,
) -> Member:
    if person.is_deceased:
        raise _error("person", "此人已去世,不能登记为会员。", "person_deceased")
    joined_on = joined_on or today()
    if joined_on > today():
        raise _error("joined_on", "入会日期晚于今天。", "future_date")
    categories, elder_kind = _clean_categories(categories, elder_kind)
    member = Member(
        person=person,
        association=association,
        member_number=(member_number or "").strip() or next_member_number(association),
        joined_on=joined_on,
        categories=categories,
        elder_kind=elder_kind,
        is_backbone=is_backbone,
    )
    member.place_under(group or association)
    return _save_member(member, actor=actor, before=None)


EDITABLE_MEMBER_FIELDS = {"member_number", "joined_on", "categories", "elder_kind", "is_backbone"}


@transaction.atomic
def member_update(*, actor, member: Member, group=..., **fields) -> Member:
    _require_edit(actor, member.placed_at())
    if member.status != Member.Status.ACTIVE:
        raise ValidationError("已退会的会籍不能修改;如需恢复请重新入会。", code="member_left")
    refuse_unknown_fields(Member, fields, EDITABLE_MEMBER_FIELDS)
    before = snapshot(member, MEMBER_FIELDS)
    if group is not ...:
        _check_group(member.association, group)
        member.place_under(group or member.association)
    if "categories" in fields or "elder_kind" in fields:
        fields["categories"], fields["elder_kind"] = _clean_categories(
            fields.get("categories", member.categories), fields.get("elder_kind", member.elder_kind)
        )
    for field, value in fields.items():
        setattr(member, field, value.strip() if isinstance(value, str) else value)
    return _save_member(member, actor=actor, before=before)


@transaction.atomic
def member_leave(*, actor, member: Member, left_on: datetime.date, reason: str) -> Member:
    """退会: the row stays, with date and reason; current group roles end the same day."""
    _require_edit(actor, member.placed_at())
    if member.status != Member.Status.ACTIVE:
        raise ValidationError("该会员已退会。", code="member_left")
    if not reason:
        raise _error("leave_reason", "请选择退会原因。", "required")
    if left_on < member.joined_on:
        raise _error("left_on", "退会日期早于入会日期。", "left_before_joined")
    if left_on > today():
        raise _error("left_on", "退会日期晚于今天。", "future_date")
    period_locks.refuse_if_locked(county_id=member.county_id, dates=[("left_on", left_on)])
    _check_nothing_starts_after(member, left_on)
    before = snapshot(member, MEMBER_FIELDS)
    member.status, member.left_on, member.leave_reason = Member.Status.LEFT, left_on, reason
    GroupRole.objects.filter(member=member, ends_on__isnull=True).update(ends_on=left_on)
    Pairing.objects.filter(member=member, ends_on__isnull=True).update(ends_on=left_on)
    return _save_member(member, actor=actor, before=before)


def _check_nothing_starts_after(member: Member, left_on: datetime.date) -> None:
    """The current roles and pairings end on the day the member leaves: one that starts later
    cannot end then (the database refuses an end before a start), so the date must be wrong."""
    later = [
        *(
            ("职务", day)
            for day in GroupRole.objects.filter(
                member=member, ends_on__isnull=True, starts_on__gt=left_on
            ).values_list("starts_on", flat=True)
        ),
        *(
            ("结对帮扶", day)
            for day in Pairing.objects.filter(
                member=member, ends_on__isnull=True, starts_on__gt=left_on
            ).values_list("starts_on", flat=True)
        ),
    ]
    if later:
        what, day = min(later, key=lambda item: item[1])
        raise _error(
            "left_on",
            f"退会日期早于该会员现有{what}的开始日期({day:%Y-%m-%d}),请核对退会日期。",
            "left_before_current_duty",
        )


# --- group roles ---------------------------------------------------------------------------


@transaction.atomic
def group_role_assign(
    *, actor, member: Member, role: str, starts_on: datetime.date | None = None
) -> GroupRole:
    """A group's leader (replacing the current one) or one of its 2-3 contact-household heads."""
    if not member.group_id:
        raise _error("member", "该会员未编入会员小组。", "member_without_group")
    _require_edit(actor, member.group)
    if member.status != Member.Status.ACTIVE:
        raise _error("member", "已退会的会员不能任职。", "member_left")
    starts_on = starts_on or today()
    current = GroupRole.objects.filter(group=member.group, role=role, ends_on__isnull=True)
    if current.filter(member=member).exists():
        raise _error("member", "该会员已担任此职务。", "role_held")
    if role == GroupRole.Role.LEADER:
        for previous in current:
            previous.ends_on = starts_on
            previous.save(update_fields=["ends_on"])
    elif current.count() >= MAX_CONTACT_HEADS:
        raise _error(
            "role", f"每个会员小组最多 {MAX_CONTACT_HEADS} 名联系户长。", "too_many_contact_heads"
        )
    assignment = GroupRole(member=member, role=role, starts_on=starts_on)
    assignment.place_under(member.group)
    assignment.save()
    record_change(
        actor=actor,
        node=member.group,
        obj=assignment,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(assignment, ["member", "role", "starts_on"]),
    )
    return assignment


@transaction.atomic
def group_role_end(*, actor, assignment: GroupRole, ends_on: datetime.date | None = None):
    _require_edit(actor, assignment.group)
    if assignment.ends_on is not None:
        raise ValidationError("该职务已卸任。", code="role_ended")
    before = snapshot(assignment, ["member", "role", "starts_on", "ends_on"])
    assignment.ends_on = ends_on or today()
    assignment.save(update_fields=["ends_on"])
    record_change(
        actor=actor,
        node=assignment.group,
        obj=assignment,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(assignment, ["member", "role", "starts_on", "ends_on"]),
    )
    return assignment


# --- contact households and pairings ---------------------------------------------------------


def _check_same_village(member: Member, household: Household) -> None:
    if household.village_id != member.village_id:
        raise _error("household", "只能选择会员所在村(社区)的家庭户。", "household_elsewhere")


@transaction.atomic
def contact_household_add(
    *, actor, member: Member, household: Household, since: datetime.date | None = None
) -> ContactHousehold:
    _require_edit(actor, member.placed_at())
    if member.status != Member.Status.ACTIVE:
        raise _error("member", "已退会的会员不能联系农户。", "member_left")
    _check_same_village(member, household)
    link = ContactHousehold(member=member, household=household, since=since or today())
    link.place_under(member.placed_at())
    _insert(
        link,
        actor=actor,
        node=member.placed_at(),
        fields=["member", "household", "since"],
        conflict=("household", "该户已是此会员的联系户。", "contact_exists"),
    )
    return link


@transaction.atomic
def contact_household_remove(*, actor, link: ContactHousehold) -> None:
    _require_edit(actor, link.member.placed_at())
    record_change(
        actor=actor,
        node=link.member.placed_at(),
        obj=link,
        action=ChangeRecord.Action.DELETE,
        before=snapshot(link, ["member", "household", "since"]),
        after=None,
    )
    link.delete()


@transaction.atomic
def pairing_start(
    *, actor, member: Member, household: Household, starts_on=None, notes: str = ""
) -> Pairing:
    """结对帮扶: only with a household on this year's hardship roster."""
    _require_edit(actor, member.placed_at())
    _check_same_village(member, household)
    starts_on = starts_on or today()
    on_roster = HardshipAssessment.objects.filter(
        household=household, year=starts_on.year, status=HardshipAssessment.Status.IN_ROSTER
    ).exists()
    if not on_roster:
        raise _error(
            "household", f"该户不在 {starts_on.year} 年计生困难家庭名册中。", "not_hardship"
        )
    pairing = Pairing(member=member, household=household, starts_on=starts_on, notes=notes)
    pairing.place_under(household.group or household.village)
    _insert(
        pairing,
        actor=actor,
        node=pairing.placed_at(),
        fields=["member", "household", "starts_on", "notes"],
        conflict=("household", "该户已有结对帮扶的会员。", "pairing_exists"),
    )
    return pairing


@transaction.atomic
def pairing_end(*, actor, pairing: Pairing, ends_on=None) -> Pairing:
    _require_edit(actor, pairing.placed_at())
    if pairing.ends_on is not None:
        raise ValidationError("该结对帮扶已结束。", code="pairing_ended")
    ends_on = ends_on or today()
    if ends_on < pairing.starts_on:
        raise _error("ends_on", "结束日期早于开始日期。", "ends_before_start")
    before = snapshot(pairing, ["ends_on"])
    pairing.ends_on = ends_on
    pairing.save(update_fields=["ends_on"])
    record_change(
        actor=actor,
        node=pairing.placed_at(),
        obj=pairing,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(pairing, ["ends_on"]),
    )
    return pairing


# --- commendations, volunteers, council seats ------------------------------------------------


@transaction.atomic
def commendation_add(
    *,
    actor,
    kind: str,
    year: int,
    award_level: str,
    member: Member | None = None,
    group: Association | None = None,
    notes: str = "",
) -> Commendation:
    if kind == Commendation.Kind.ADVANCED_GROUP:
        if group is None or group.level != Level.GROUP:
            raise _error("group", "先进会员小组的表彰须选择会员小组。", "group_required")
        node, member = group, None
    else:
        if member is None:
            raise _error("member", "请选择受表彰的会员。", "member_required")
        node = member.placed_at()
    _require_edit(actor, node)
    if year > today().year:
        raise _error("year", "不能登记未来年度的表彰。", "future_year")
    commendation = Commendation(
        kind=kind, year=year, award_level=award_level, member=member, notes=notes
    )
    commendation.place_under(node)
    _insert(
        commendation,
        actor=actor,
        node=node,
        fields=["kind", "year", "award_level", "member", "notes"],
        conflict=("kind", "该表彰已登记。", "commendation_exists"),
    )
    return commendation


@transaction.atomic
def volunteer_team_create(
    *, actor, node: Association, name: str, service: str, parent: VolunteerTeam | None = None
) -> VolunteerTeam:
    _require_edit(actor, node)
    team = VolunteerTeam(name=(name or "").strip(), service=service, parent=parent)
    team.place_under(node)
    _insert(
        team,
        actor=actor,
        node=node,
        fields=["name", "service", "parent"],
        conflict=("name", "已有同名的服务队。", "team_exists"),
    )
    return team


def team_node(team: VolunteerTeam) -> Association:
    """The node that runs the team: the lowest of its ancestor keys."""
    return team.group or team.village or team.township or team.county


@transaction.atomic
def volunteer_join(*, actor, team: VolunteerTeam, member: Member, joined_on=None):
    node = team_node(team)
    _require_edit(actor, node)
    if member.status != Member.Status.ACTIVE:
        raise _error("member", "已退会的会员不能加入服务队。", "member_left")
    if MemberCategory.VOLUNTEER not in member.categories:
        member.categories = sorted([*member.categories, MemberCategory.VOLUNTEER])
        member.save(update_fields=["categories", "updated_at"])
    link = VolunteerMembership(team=team, member=member, joined_on=joined_on or today())
    link.place_under(node)
    _insert(
        link,
        actor=actor,
        node=node,
        fields=["team", "member", "joined_on"],
        conflict=("member", "该会员已在此服务队中。", "volunteer_exists"),
    )
    return link


@transaction.atomic
def seat_link_member(*, actor, seat: CouncilSeat, member: Member) -> SeatHolder:
    """The council seat is held by this member; the seat's name follows the member's."""
    association = seat.council.association
    permissions.require(permissions.can_manage_council(actor, association))
    if member.status != Member.Status.ACTIVE:
        raise _error("member", "已退会的会员不能担任理事。", "member_left")
    SeatHolder.objects.filter(seat=seat).delete()
    holder = SeatHolder(seat=seat, member=member)
    holder.place_under(association)
    holder.save()
    if seat.person_name != member.person.name:
        CouncilSeat.objects.filter(pk=seat.pk).update(person_name=member.person.name)
    record_change(
        actor=actor,
        node=association,
        obj=holder,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(holder, ["seat", "member"]),
    )
    return holder
