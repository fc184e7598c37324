"""The household roster (家庭户成员名册), declared for the import pipeline: one row per
person, with the household number and the relation to its head, and optionally the mother.

The kind registers itself when the app is ready (households.apps)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from associations.imports import ImportKind, RowReader, as_text, is_numeric_id, register

from . import identity, masking
from .import_columns import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_EXAMPLE,
    HOUSEHOLD_NOTES,
    ID_CHARS,
    ID_NUMERIC_CELL,
    IDENTITY_CODES,
    MOTHER_ID,
    MOTHER_MIN_AGE_GAP,
    MOTHER_NOT_FEMALE,
    MOTHER_NOT_FOUND,
    MOTHER_SELF,
    MOTHER_TOO_YOUNG,
    NUMERIC_ID_MESSAGE,
    PERSON_CODES,
    PERSON_CONSTRAINTS,
    ROSTER_NOTES,
    person_allowed_values,
    village_required_above_villages,
)
from .import_people import PersonPlan, RowPlan, mother_old_enough
from .import_rows import RosterResource
from .models import Person, Sex

KIND_HOUSEHOLDS = "households"


class HouseholdRosterResource(RosterResource):
    """家庭户成员名册: one row per person, with the household number and relation to head."""

    kind = KIND_HOUSEHOLDS

    class Meta:
        model = Person

    def resolve(self, r: RowReader) -> RowPlan:
        id_number, parsed = self.read_identity(r)
        values = self.read_person_values(r, parsed)
        village, group = self.read_place(r)
        person = self.persons.get(id_number) if id_number else None
        if person is not None:
            self.check_known_person(r, person, values, village)
        elif id_number:
            self.check_new_person(r, values)
        household, relation = self.read_household(r, village, person, required=True)
        plan = PersonPlan(r.number, person, values, village, group, household, relation)
        plan.id_number, plan.parsed = id_number, parsed
        plan.mother_number = self.read_mother(r, id_number, parsed)
        return RowPlan(instance=person or Person(), is_new=person is None, person=plan)

    def prefetch_more(self, persons: list[Person], dataset) -> None:
        """The persons of the file's own rows, by number: a mother may be a later row."""
        self.file_people: dict[str, identity.IdNumber] = {}
        self.file_rows: dict[str, int] = {}
        cells = zip(dataset["id_number"], dataset["__numeric"], dataset["__row"], strict=True)
        for value, numeric, row_number in cells:
            parsed = None if value is None or numeric else self.id_cache.get(as_text(value))
            if isinstance(parsed, identity.IdNumber) and parsed.number not in self.file_people:
                self.file_people[parsed.number] = parsed
                self.file_rows[parsed.number] = row_number

    def read_mother(self, r: RowReader, own_number: str, own: identity.IdNumber | None) -> str:
        """The number of the row's mother when the cell is filled: a woman of this county,
        registered or in this file (before or after this row), at least 12 years older."""
        key = MOTHER_ID.key
        raw = r.cell(key)
        if raw is None or key not in self.table.columns:
            return ""
        if is_numeric_id(raw):
            r.problem(key, ID_NUMERIC_CELL, NUMERIC_ID_MESSAGE)
            return ""
        parsed = self.id_cache.get(as_text(raw))
        if isinstance(parsed, ValidationError):
            inner = parsed.error_list[0]
            r.problem(key, IDENTITY_CODES.get(inner.code, ID_CHARS), inner.messages[0])
            return ""
        if parsed is None:
            return ""
        number = parsed.number
        if number == own_number:
            r.problem(key, MOTHER_SELF, "母亲身份证号码与本人的相同,母亲不能是本人。")
            return ""
        registered = self.persons.get(number)
        if registered is not None:
            sex, birth_date = registered.sex, registered.birth_date
            who = f"“{identity.mask_name(registered.name)}”"
            if registered.village_id not in self.nodes and not masking.sees_registration_place(
                self.actor
            ):
                who = "本县登记的此人"  # out of reach: not even a masked name (issue 12)
        elif number in self.file_people:
            sex, birth_date = parsed.sex, parsed.birth_date
            who = f"第 {self.file_rows[number]} 行的人"
        else:
            r.problem(
                key,
                MOTHER_NOT_FOUND,
                "本县没有登记这个身份证号码的人,文件中也没有这一行。"
                "请先登记母亲,或把母亲也写进本文件(前后行均可)。",
            )
            return ""
        if sex != Sex.FEMALE:
            r.problem(
                key, MOTHER_NOT_FEMALE, f"母亲身份证号码对应的是{who},性别为男,不能作为母亲。"
            )
            return ""
        if own is not None and not mother_old_enough(birth_date, own.birth_date):
            r.problem(
                key,
                MOTHER_TOO_YOUNG,
                f"母亲出生于 {birth_date.isoformat()},本人出生于 {own.birth_date.isoformat()}:"
                f"母亲应比子女年长 {MOTHER_MIN_AGE_GAP} 岁以上,请核对两个身份证号码。",
            )
            return ""
        return number

    def apply(self, plan: RowPlan) -> None:
        person, changed = self.apply_person(plan.person)
        mother_changed = self.link_mother(person, plan.person.mother_number)
        plan.instance = self.persons.get(plan.person.id_number, person)
        plan.changed = changed or mother_changed

    def link_mother(self, person, number: str) -> bool:
        """Queue the link to the row's mother (written by the flush once she has her id: she
        may be a later row); an empty cell keeps what is recorded."""
        if not number:
            return False
        mother = self.persons.get(number)
        if mother is not None and mother.pk is not None and person.mother_id == mother.pk:
            return False
        person = self.editable(person)
        self.touch(person, new=person.pk is None)
        self.mother_links.append((person, number))
        household = self.households_by_id.get(person.household_id)
        if household is not None:  # (a new person's household is already marked)
            self.affected_households[id(household)] = household
        elif person.household_id:
            self.stale_household_ids.add(person.household_id)
        return True


HOUSEHOLDS = register(
    ImportKind(
        key=KIND_HOUSEHOLDS,
        label="家庭户成员名册",
        sheet_title="家庭户成员",
        columns=HOUSEHOLD_COLUMNS,
        example=HOUSEHOLD_EXAMPLE,
        resource=HouseholdRosterResource,
        notes=ROSTER_NOTES + HOUSEHOLD_NOTES,
        code_labels=PERSON_CODES,
        allowed=person_allowed_values,
        adapt_columns=village_required_above_villages,
        constraints=PERSON_CONSTRAINTS,
        order=20,
        masked_columns=masking.identity_redactors(),
        sees_full=masking.sees_full_identity,
    )
)
