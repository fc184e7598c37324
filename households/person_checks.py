"""Checks of a person before it is saved: the ID number, birth date, sex and phone
normalised and checked against each other, the dates of a life in order, and the message
for an ID number already recorded in the county (saying where)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from associations.models import Level

from . import identity, masking
from .models import Person


@dataclass(frozen=True)
class Registration:
    """Where in the county a person with a given ID number is recorded."""

    person_id: int
    name: str
    village_id: int
    village_name: str
    township_name: str
    household_number: str

    def place(self) -> str:
        household = f" {self.household_number}户" if self.household_number else ""
        return f"{self.township_name}{self.village_name}{household}"


def registered_at(*, county_id: int, id_number: str) -> Registration | None:
    """The person recorded under this ID number anywhere in the county, for the duplicate
    message. Looks county-wide on purpose: the actor typed the number, and the message names
    only a village, a household number and a masked name."""
    from associations.scope import Scope, activate

    with activate(Scope(county_id=county_id, node_id=county_id, level=Level.COUNTY)):
        person = (
            Person.objects.filter(id_number=id_number)
            .select_related("village__parent", "household")
            .only("name", "village__name", "village__parent__name", "household__number")
            .first()
        )
    if person is None:
        return None
    township = person.village.parent
    return Registration(
        person_id=person.pk,
        name=person.name,
        village_id=person.village_id,
        village_name=person.village.name,
        township_name=township.name if township else "",
        household_number=person.household.number if person.household_id else "",
    )


def duplicate_person_error(person: Person, actor=None) -> ValidationError:
    """The ID number is recorded already: say what to do next, revealing no more than that
    task needs. In the same village the actor sees the person anyway (params carry the id, for
    a link to them). Elsewhere in the county the person is out of the village's reach: township
    staff and above are told the township and village (they arrange the relocation, 迁移); a
    village secretary only that it is registered elsewhere in the county, so the message is no
    oracle for where anyone lives (households.masking.sees_registration_place)."""
    masked = identity.mask_id_number(person.id_number)
    found = registered_at(county_id=person.county_id, id_number=person.id_number)
    if found is None:  # recorded in a transaction not visible yet
        message = f"身份证号码 {masked} 已在本县登记,同一人在本县只能登记一次。"
        return ValidationError({"id_number": ValidationError(message, code="person_exists")})
    if found.village_id == person.village_id:
        household = f"{found.household_number}户的" if found.household_number else ""
        message = (
            f"身份证号码 {masked} 已登记为本村{household}“{found.name}”,同一人在本县只能登记一次。"
        )
        params = {"person_id": found.person_id, "same_village": True}
    elif masking.sees_registration_place(actor):
        message = (
            f"身份证号码 {masked} 已登记在{found.village_name},"
            f"不在{person.village.name}。如已迁入,请先在系统中办理迁移,不要重复登记。"
        )
        params = {"same_village": False}
    else:
        message = masking.ELSEWHERE_IN_COUNTY
        params = {"same_village": False}
    return ValidationError(
        {"id_number": ValidationError(message, code="person_exists", params=params)}
    )


def duplicate_in_village(error: ValidationError) -> int | None:
    """The id of the already recorded person when `error` says the ID number is taken in
    the same village (pages then link to that person)."""
    for item in getattr(error, "error_dict", {}).get("id_number", []):
        if item.code == "person_exists" and (item.params or {}).get("same_village"):
            return item.params["person_id"]
    return None


def _clean_identity(person: Person) -> list[str]:
    """Normalise and check ID number, birth date, sex and phone; returns notices to show."""
    notices = []
    errors: dict[str, list[ValidationError]] = {}
    if person.id_number:
        try:
            parsed = identity.parse_id_number(person.id_number)
        except ValidationError as error:
            errors["id_number"] = error.error_list
        else:
            person.id_number = parsed.number
            if parsed.upgraded_from:
                notices.append(identity.upgrade_notice(parsed))
            if person.birth_date is None:
                person.birth_date = parsed.birth_date
            if not person.sex:
                person.sex = parsed.sex
            try:
                identity.check_id_matches(parsed, birth_date=person.birth_date, sex=person.sex)
            except ValidationError as error:
                for field, field_errors in error.error_dict.items():
                    errors.setdefault(field, []).extend(field_errors)
    else:
        person.id_number = None
    if person.phone:
        try:
            person.phone = identity.validate_phone(person.phone)
        except ValidationError as error:
            errors["phone"] = error.error_list
    if person.birth_date is None and not errors:
        errors["birth_date"] = [ValidationError("请填写出生日期或身份证号码。", code="required")]
    if not person.sex and not errors:
        errors["sex"] = [ValidationError("请选择性别。", code="required")]
    if errors:
        raise ValidationError(errors)
    return notices


def _check_life_dates(person: Person) -> None:
    errors = {}
    if person.died_on and not person.is_deceased:
        person.is_deceased = True
    if person.birth_date and person.birth_date > timezone.localdate():
        # Ages (members' lists, figures) are counted from it: a future one cannot be.
        errors["birth_date"] = ValidationError("出生日期晚于今天。", code="future_date")
    if person.died_on and person.birth_date and person.died_on < person.birth_date:
        errors["died_on"] = ValidationError("去世日期早于出生日期。", code="died_before_birth")
    if person.died_on and person.died_on > timezone.localdate():
        errors["died_on"] = ValidationError("去世日期晚于今天。", code="future_date")
    if person.married_on and person.birth_date and person.married_on < person.birth_date:
        errors["married_on"] = ValidationError(
            "结婚日期早于出生日期。", code="married_before_birth"
        )
    if person.mother_id and person.mother_id == person.pk:
        errors["mother"] = ValidationError("母亲不能是本人。", code="mother_self")
    if person.mother_id and person.mother.sex != "female":
        errors["mother"] = ValidationError("所选母亲的性别不是女。", code="mother_not_female")
    if errors:
        raise ValidationError(errors)
