"""Writes of the households app: persons, households, hardship surveys, assistance, moves.

Every function is keyword-only and atomic; it validates, checks the actor's permission, writes,
recomputes the household's derived categories and records the change. The checks of a
person's identity and dates, and the duplicate-ID message, are in person_checks."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from associations import permissions, submissions
from associations.attachments import services as attachment_services
from associations.history import record_change, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.validators import refuse_unknown_fields

from . import identity
from .categories import HouseholdFacts, PersonFacts, family_categories, family_types
from .models import (
    AssistanceRecord,
    HardshipAssessment,
    Household,
    HouseholdAttachment,
    Person,
    Relocation,
    Residency,
)
from .person_checks import _check_life_dates, _clean_identity, duplicate_person_error

PERSON_FIELDS = [
    "household",
    "relation_to_head",
    "name",
    "id_number",
    "sex",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "residency",
    "marital_status",
    "married_on",
    "is_deceased",
    "died_on",
    "disability_grade",
    "mother",
    "only_child_certificate_number",
    "only_child_certificate_date",
    "registration_kind",
    "village",
    "group",
]
HOUSEHOLD_FIELDS = ["number", "head", "address", "residency", "phone", "village", "group"]
EDITABLE_PERSON_FIELDS = set(PERSON_FIELDS) - {"household", "village", "group"}


def today() -> datetime.date:
    return timezone.localdate()


def _require_edit(actor, node: Association) -> None:
    permissions.require(permissions.can_edit_node(actor, node))


def _check_place(village: Association, group: Association | None) -> None:
    if village.level != Level.VILLAGE:
        raise ValidationError(
            {"village": ValidationError("请选择村(社区)。", code="not_a_village")}
        )
    if group is not None and group.parent_id != village.pk:
        raise ValidationError(
            {
                "group": ValidationError(
                    "会员小组不属于所选的村(社区)。", code="group_not_in_village"
                )
            }
        )


def _place(row, village: Association, group: Association | None) -> None:
    row.place_under(group or village)


# --- persons -------------------------------------------------------------------------------


def _save_person(person: Person, *, actor, before: dict | None) -> Person:
    notices = _clean_identity(person)
    _check_life_dates(person)
    person.name = (person.name or "").strip()
    person.name_initials = identity.pinyin_initials(person.name)
    person.full_clean(
        exclude=["county", "township", "village", "group", "household", "mother"],
        validate_unique=False,
        validate_constraints=False,
    )
    after = snapshot(person, PERSON_FIELDS)
    if before is not None and after == before:
        return person
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        if "person_id_unique_in_county" in str(error):
            raise duplicate_person_error(person, actor) from error
        raise
    record_change(
        actor=actor,
        node=person.placed_at(),
        obj=person,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    person.notices = notices
    return person


@transaction.atomic
def person_create(
    *,
    actor,
    village: Association,
    group: Association | None = None,
    household=None,
    form_token=None,
    **fields,
) -> Person:
    """A person in a village; with `household`, as a member of it (place taken from it).
    `form_token`: see associations.submissions (a form sent twice creates one person)."""
    if household is not None:
        village, group = household.village, household.group
    _check_place(village, group)
    _require_edit(actor, group or village)
    refuse_unknown_fields(Person, fields, EDITABLE_PERSON_FIELDS)
    earlier = submissions.claim(actor=actor, token=form_token, node=group or village, model=Person)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    person = Person(household=household, **fields)
    _place(person, village, group)
    _save_person(person, actor=actor, before=None)
    if household is not None:
        _after_household_change(household, actor=actor, new_member=person)
    submissions.complete(token=form_token, obj=person)
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    _require_edit(actor, person.placed_at())
    refuse_unknown_fields(Person, fields, EDITABLE_PERSON_FIELDS)
    before = snapshot(person, PERSON_FIELDS)
    for field, value in fields.items():
        setattr(person, field, value.strip() if isinstance(value, str) else value)
    _save_person(person, actor=actor, before=before)
    if person.household_id:
        _after_household_change(person.household, actor=actor)
    return person


@transaction.atomic
def person_remove_from_household(*, actor, person: Person) -> Person:
    """The person leaves the household but stays recorded in the village."""
    household = person.household
    if household is None:
        return person
    _require_edit(actor, person.placed_at())
    before = snapshot(person, PERSON_FIELDS)
    person.household = None
    person.relation_to_head = ""
    person.save(update_fields=["household", "relation_to_head", "updated_at"])
    record_change(
        actor=actor,
        node=person.placed_at(),
        obj=person,
        action=ChangeRecord.Action.UPDATE,
        before=before,
        after=snapshot(person, PERSON_FIELDS),
    )
    if household.head_id == person.pk:
        household.head = None
        household.save(update_fields=["head", "updated_at"])
    _after_household_change(household, actor=actor)
    return person


@transaction.atomic
def person_move(
    *, actor, person: Person, to_household: Household, relation_to_head: str, moved_on=None
) -> Person:
    """A person joins another household, in this village or another of the county."""
    _require_edit(actor, person.placed_at())
    _require_edit(actor, to_household.placed_at())
    if to_household.pk == person.household_id:
        raise ValidationError("此人已在该户。", code="same_household")
    old_household = person.household
    from_village = person.village
    before = snapshot(person, PERSON_FIELDS)
    person.household = to_household
    person.relation_to_head = relation_to_head
    _place(person, to_household.village, to_household.group)
    person.save()
    record_change(
        actor=actor,
        node=person.placed_at(),
        obj=person,
        action=ChangeRecord.Action.MOVE,
        before=before,
        after=snapshot(person, PERSON_FIELDS),
    )
    if from_village.pk != to_household.village_id:
        relocation = Relocation(
            person=person,
            from_village=from_village,
            from_household_number=old_household.number if old_household else "",
            moved_on=moved_on or today(),
            actor=actor,
        )
        _place(relocation, to_household.village, to_household.group)
        relocation.save()
    if old_household is not None:
        if old_household.head_id == person.pk:
            old_household.head = None
            old_household.save(update_fields=["head", "updated_at"])
        _after_household_change(old_household, actor=actor)
    _after_household_change(to_household, actor=actor, new_member=person)
    return person


# --- households ----------------------------------------------------------------------------


def _save_household(household: Household, *, actor, before: dict | None) -> Household:
    household.number = (household.number or "").strip()
    if household.phone:
        household.phone = identity.validate_phone(household.phone)
    household.full_clean(
        exclude=["county", "township", "village", "group", "head"],
        validate_unique=False,
        validate_constraints=False,
    )
    after = snapshot(household, HOUSEHOLD_FIELDS)
    if before is not None and after == before:
        return household
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError as error:
        if "household_number_unique_in_village" in str(error):
            raise ValidationError(
                {
                    "number": ValidationError(
                        f"本村已有户编号为 {household.number} 的家庭户。", code="household_exists"
                    )
                }
            ) from error
        raise
    record_change(
        actor=actor,
        node=household.placed_at(),
        obj=household,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    return household


@transaction.atomic
def household_create(
    *,
    actor,
    village: Association,
    group: Association | None = None,
    number: str,
    address: str = "",
    residency: str = Residency.REGISTERED,
    phone: str = "",
) -> Household:
    _check_place(village, group)
    _require_edit(actor, group or village)
    household = Household(number=number, address=address, residency=residency, phone=phone)
    _place(household, village, group)
    household = _save_household(household, actor=actor, before=None)
    refresh_categories(household)
    return household


@transaction.atomic
def household_update(*, actor, household: Household, **fields) -> Household:
    _require_edit(actor, household.placed_at())
    allowed = {"number", "address", "residency", "phone", "head", "group"}
    refuse_unknown_fields(Household, fields, allowed)
    before = snapshot(household, HOUSEHOLD_FIELDS)
    if (
        "head" in fields
        and fields["head"] is not None
        and fields["head"].household_id != household.pk
    ):
        raise ValidationError(
            {"head": ValidationError("户主必须是本户成员。", code="head_not_member")}
        )
    if "group" in fields:
        group = fields.pop("group")
        _check_place(household.village, group)
        _place(household, household.village, group)
        Person.objects.filter(household=household).update(group=group)
    for field, value in fields.items():
        setattr(household, field, value.strip() if isinstance(value, str) else value)
    _save_household(household, actor=actor, before=before)
    _after_household_change(household, actor=actor)
    return household


@transaction.atomic
def household_move(
    *,
    actor,
    household: Household,
    to_village: Association,
    to_group: Association | None = None,
    new_number: str = "",
    moved_on=None,
) -> Household:
    """The whole household moves to another village of the county; its persons follow."""
    _require_edit(actor, household.placed_at())
    _check_place(to_village, to_group)
    _require_edit(actor, to_group or to_village)
    if to_village.pk == household.village_id:
        raise ValidationError(
            {"to_village": ValidationError("目标村与现在所在村相同。", code="same_village")}
        )
    from_village, old_number = household.village, household.number
    before = snapshot(household, HOUSEHOLD_FIELDS)
    household.number = new_number or household.number
    _place(household, to_village, to_group)
    _save_household(household, actor=actor, before=before)
    keys = {f"{k}_id": getattr(household, f"{k}_id") for k in ("township", "village", "group")}
    moved = Person.objects.filter(household=household).update(**keys)
    HouseholdAttachment.objects.filter(household=household).update(**keys)
    relocation = Relocation(
        household=household,
        from_village=from_village,
        from_household_number=old_number,
        moved_on=moved_on or today(),
        actor=actor,
        note=f"随户迁移 {moved} 人",
    )
    _place(relocation, to_village, to_group)
    relocation.save()
    return household


def _after_household_change(household: Household, *, actor, new_member: Person | None = None):
    """A head is needed: the first member with relation 户主 becomes it."""
    if household.head_id is None:
        head = (new_member if new_member and new_member.relation_to_head == "head" else None) or (
            Person.objects.filter(household=household, relation_to_head="head").first()
        )
        if head is not None:
            household.head = head
            household.save(update_fields=["head", "updated_at"])
    refresh_categories(household)


def household_facts(household: Household, members=None) -> HouseholdFacts:
    members = members if members is not None else Person.objects.filter(household=household)
    return HouseholdFacts(
        residency=household.residency,
        persons=tuple(
            PersonFacts(
                key=p.pk,
                relation=p.relation_to_head or "other",
                sex=p.sex,
                birth_date=p.birth_date,
                is_deceased=p.is_deceased,
                died_on=p.died_on,
                residency=p.residency,
                marital_status=p.marital_status,
                married_on=p.married_on,
                disability_grade=p.disability_grade,
                has_only_child_certificate=bool(p.only_child_certificate_number),
                mother_key=p.mother_id,
            )
            for p in members
        ),
    )


def refresh_categories(household: Household, *, on=None, members=None) -> bool:
    """Recompute the derived categories; returns whether they changed. Derived data, so no
    change record of its own (the change that caused it is recorded)."""
    on = on or today()
    facts = household_facts(household, members)
    categories = sorted(c.value for c in family_categories(facts, today=on))
    types = sorted(t.value for t in family_types(facts, today=on))
    changed = categories != sorted(household.categories) or types != sorted(household.family_types)
    household.categories, household.family_types = categories, types
    household.categories_refreshed_on = on
    Household.objects.filter(pk=household.pk).update(
        categories=categories, family_types=types, categories_refreshed_on=on
    )
    return changed


# --- hardship and assistance ---------------------------------------------------------------

HARDSHIP_FIELDS = ["household", "year", "reasons", "status", "notes", "assessed_on"]


@transaction.atomic
def hardship_record(
    *,
    actor,
    household: Household,
    year: int,
    reasons: list[str],
    status: str = HardshipAssessment.Status.IN_ROSTER,
    notes: str = "",
    assessed_on=None,
) -> HardshipAssessment:
    """Enter or update the household's line in a year's hardship survey."""
    _require_edit(actor, household.placed_at())
    if not reasons:
        raise ValidationError(
            {"reasons": ValidationError("请至少选择一项困难原因。", code="required")}
        )
    if year > today().year:
        raise ValidationError({"year": ValidationError("不能登记未来年度。", code="future_year")})
    entry = HardshipAssessment.objects.filter(household=household, year=year).first()
    before = snapshot(entry, HARDSHIP_FIELDS) if entry else None
    entry = entry or HardshipAssessment(household=household, year=year)
    entry.reasons, entry.status, entry.notes = sorted(set(reasons)), status, notes
    entry.assessed_on = assessed_on
    _place(entry, household.village, household.group)
    entry.full_clean(
        exclude=["county", "township", "village", "group", "household"],
        validate_unique=False,
        validate_constraints=False,
    )
    after = snapshot(entry, HARDSHIP_FIELDS)
    if before == after:
        return entry
    entry.save()
    record_change(
        actor=actor,
        node=household.placed_at(),
        obj=entry,
        action=ChangeRecord.Action.CREATE if before is None else ChangeRecord.Action.UPDATE,
        before=before,
        after=after,
    )
    return entry


ASSISTANCE_FIELDS = ["household", "kind", "given_on", "amount", "goods", "given_by", "notes"]


@transaction.atomic
def assistance_add(*, actor, household: Household, **fields) -> AssistanceRecord:
    _require_edit(actor, household.placed_at())
    record = AssistanceRecord(household=household, **fields)
    if record.given_on and record.given_on > today():
        raise ValidationError({"given_on": ValidationError("日期晚于今天。", code="future_date")})
    if record.amount is None and not (record.goods or "").strip():
        raise ValidationError(
            {"amount": ValidationError("请填写金额或物品。", code="amount_or_goods")}
        )
    if record.amount is not None and record.amount <= 0:
        raise ValidationError(
            {
                "amount": ValidationError(
                    "金额应大于 0 元;只送物品时金额不填。", code="amount_not_positive"
                )
            }
        )
    _place(record, household.village, household.group)
    record.full_clean(
        exclude=["county", "township", "village", "group", "household"],
        validate_unique=False,
        validate_constraints=False,
    )
    record.save()
    record_change(
        actor=actor,
        node=household.placed_at(),
        obj=record,
        action=ChangeRecord.Action.CREATE,
        before=None,
        after=snapshot(record, ASSISTANCE_FIELDS),
    )
    return record


# --- attachments (the household's archive: photos, certificates) ---------------------------


def may_attach(user, household: Household) -> bool:
    """Whoever may edit the household adds and deletes its attachments."""
    return permissions.can_edit_node(user, household.placed_at())


ATTACHMENTS = attachment_services.AttachmentRules(
    model=HouseholdAttachment,
    may_write=may_attach,
    node_of=lambda household: household.placed_at(),
)


def household_attachment_add(*, actor, household: Household, upload) -> HouseholdAttachment:
    return ATTACHMENTS.add(actor=actor, owner=household, upload=upload)


def household_attachment_delete(*, actor, attachment: HouseholdAttachment) -> None:
    ATTACHMENTS.delete(actor=actor, attachment=attachment)
