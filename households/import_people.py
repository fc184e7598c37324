"""Resolving the person of a roster row (both rosters: 家庭户成员名册 and the person columns of
会员名册): the ID number (checked once per distinct number of the file), the village and
group, the person's own cells, a known person's name and place, the household and relation
to its head; then applying the plan to the person and their household. Mixed into
households.import_rows.RosterResource, whose prefetch fills what is read here (no query per
row).

Rules a row follows:
- The person is found by ID number in the whole county. A known person keeps their name (a
  different name is NAME_MISMATCH) and must be recorded in the row's village
  (PERSON_ELSEWHERE otherwise: moving people is a relocation, not an import).
- A person not yet registered needs a marital status (MARITAL_REQUIRED): the figures count
  已婚育龄妇女 from it, so nothing is assumed. A registered person's row may leave it empty.
- Empty optional cells never erase stored values; a cell that is filled replaces the value.
- Sex and birth date, when filled, must agree with the ID number; when empty they come from it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from associations.imports import (
    REQUIRED,
    CellError,
    IdUpgrade,
    RowReader,
    as_text,
    choice,
    parse_date,
)
from associations.models import Association, Level

from . import identity, masking
from .categories import Relation, age_on
from .import_columns import (
    DUPLICATE_IN_FILE,
    ETHNICITY_VALUES,
    GROUP_AMBIGUOUS,
    GROUP_UNKNOWN,
    HEAD_TAKEN,
    ID_BIRTH_MISMATCH,
    ID_CHARS,
    ID_EMPTY,
    ID_NUMERIC_CELL,
    ID_SEX_MISMATCH,
    IDENTITY_CODES,
    MARITAL_LABELS,
    MARITAL_REQUIRED,
    MARITAL_VALUES,
    MOTHER_MIN_AGE_GAP,
    NAME_MISMATCH,
    NUMERIC_ID_MESSAGE,
    PERSON_ELSEWHERE,
    PHONE_INVALID,
    REGISTRATION_KIND_VALUES,
    RELATION_VALUES,
    RESIDENCY_VALUES,
    SEX_VALUES,
    VILLAGE_UNKNOWN,
    clean_name,
    group_names_listed,
    group_number,
)
from .models import Household, Person, Residency


class PersonRows:
    """The person-resolving steps of a roster resource (see households.import_rows)."""

    def read_identity(self, r: RowReader) -> tuple[str, identity.IdNumber | None]:
        if r.row.get("__numeric"):
            r.problem("id_number", ID_NUMERIC_CELL, NUMERIC_ID_MESSAGE)
            return "", None
        raw = r.cell("id_number")
        parsed = self.id_cache.get(as_text(raw)) if raw is not None else None
        if parsed is None:
            r.problem("id_number", ID_EMPTY, f"“{r.header('id_number')}”不能为空。")
            return "", None
        if isinstance(parsed, ValidationError):
            inner = parsed.error_list[0]
            r.problem("id_number", IDENTITY_CODES.get(inner.code, ID_CHARS), inner.messages[0])
            return "", None
        first = self.seen_ids.get(parsed.number)
        if first is not None:
            r.problem(
                "id_number",
                DUPLICATE_IN_FILE,
                f"身份证号码与第 {first} 行重复,同一人在文件中只能出现一次。",
            )
            # Not matched to the person the first row registers: its other cells say nothing.
            return "", None
        self.seen_ids[parsed.number] = r.number
        if parsed.upgraded_from:
            self.upgrades.append(
                IdUpgrade(
                    r.number,
                    masking.id_number_for(self.actor, parsed.upgraded_from),
                    masking.id_number_for(self.actor, parsed.number),
                )
            )
        return parsed.number, parsed

    def read_place(self, r: RowReader) -> tuple[Association | None, Association | None]:
        village = None
        text = r.text("village", required=self.target.level != Level.VILLAGE)
        if text:
            found = self.villages_by_key.get(text, [])
            if len(found) == 1:
                village = found[0]
            elif len(found) > 1:
                r.problem(
                    "village",
                    VILLAGE_UNKNOWN,
                    f"{self.target.name}有 {len(found)} 个名为“{text}”的村(社区),"
                    "请改填 12 位区划代码。",
                )
                return None, None
            else:
                r.problem(
                    "village",
                    VILLAGE_UNKNOWN,
                    f"在{self.target.name}找不到村(社区)“{text}”:"
                    "请填写本次导入范围内的村(社区)名称或 12 位区划代码。",
                )
                return None, None
        elif self.target.level == Level.VILLAGE:
            village = self.target
        if village is None:
            return None, None
        text = r.text("group")
        group = self.read_group(r, village, text) if text else None
        return village, group

    def read_group(self, r: RowReader, village: Association, text: str) -> Association | None:
        """The group by its name or code, else by its number as villagers write it (一组, 1组,
        第一小组 for 第一会员小组); several groups with that number is a problem, never a guess."""
        group = self.groups_by_key.get((village.pk, text))
        if group is not None:
            return group
        written = text.removeprefix(village.name)
        number = group_number(written)
        found = self.groups_by_number.get((village.pk, number), []) if number else []
        if len(found) == 1:
            return found[0]
        if found:
            r.problem(
                "group",
                GROUP_AMBIGUOUS,
                f"{village.name}有 {len(found)} 个第 {number} 组:{group_names_listed(found)},"
                "请填写完整的小组名称或 15 位代码。",
            )
            return None
        groups = self.village_groups.get(village.pk, [])
        known = (
            f"本村(社区)的会员小组有:{group_names_listed(groups)}。"
            if groups
            else "本村(社区)还没有会员小组,请先建立小组或将此列留空。"
        )
        r.problem(
            "group",
            GROUP_UNKNOWN,
            f"{village.name}没有名称或代码为“{text}”的会员小组。{known}",
        )
        return None

    def read_person_values(self, r: RowReader, parsed: identity.IdNumber | None) -> dict:
        """The person's filled cells, parsed: {field: value}. Empty cells are absent."""
        values: dict = {}
        name = r.text("name", required=True)
        if name:
            values["name"] = r.limit("name", clean_name(name), 50)
        sex = r.parsed("sex", lambda v: choice(v, SEX_VALUES, "性别"), cached=True)
        birth = r.parsed("birth_date", lambda v: parse_date(v, month_ok=True))
        if parsed is not None:
            if sex and sex != parsed.sex:
                r.problem(
                    "sex",
                    ID_SEX_MISMATCH,
                    f"性别“{identity.SEX_LABELS[sex]}”与身份证号码"
                    f"(第 17 位表示{identity.SEX_LABELS[parsed.sex]}性)不一致。",
                )
            if birth is not None:
                day, day_known = birth
                same = (
                    day == parsed.birth_date
                    if day_known
                    else (day.year, day.month) == (parsed.birth_date.year, parsed.birth_date.month)
                )
                if not same:
                    r.problem(
                        "birth_date",
                        ID_BIRTH_MISMATCH,
                        f"出生日期 {as_text(r.cell('birth_date'))} 与身份证号码中的 "
                        f"{parsed.birth_date.isoformat()} 不一致。",
                    )
            if sex:
                values["sex"] = parsed.sex
            if birth is not None:
                values["birth_date"] = parsed.birth_date
        ethnicity = r.parsed(
            "ethnicity", lambda v: choice(v, ETHNICITY_VALUES, "民族"), cached=True
        )
        if ethnicity:
            values["ethnicity"] = ethnicity
        phone = r.parsed("phone", _phone)
        if phone:
            values["phone"] = phone
        address = r.limit("address", r.text("address"), 200)
        if address:
            values["address"] = address
        if "residency" in self.table.columns:
            residency = r.parsed(
                "residency", lambda v: choice(v, RESIDENCY_VALUES, "户籍状态"), cached=True
            )
            if residency:
                values["residency"] = residency
        if "registration_kind" in self.table.columns:
            kind = r.parsed(
                "registration_kind",
                lambda v: choice(v, REGISTRATION_KIND_VALUES, "户口性质"),
                cached=True,
            )
            if kind:
                values["registration_kind"] = kind
        if "marital_status" in self.table.columns:
            marital = r.parsed(
                "marital_status", lambda v: choice(v, MARITAL_VALUES, "婚姻状况"), cached=True
            )
            if marital:
                values["marital_status"] = marital
        return values

    def check_new_person(self, r: RowReader, values: dict) -> None:
        """A person the county does not know yet is registered with their marital status:
        the figures count 已婚育龄妇女 from it, so it is never assumed. (A filled cell that is
        not a status has its own problem already.)"""
        if "marital_status" in values or as_text(r.cell("marital_status")):
            return
        missing = "" if "marital_status" in self.table.columns else "请在表中加上这一列。"
        r.problem(
            "marital_status",
            MARITAL_REQUIRED,
            f"新登记的人员必须填写“{r.header('marital_status')}”({MARITAL_LABELS})。{missing}",
        )

    def check_known_person(self, r: RowReader, person, values: dict, village) -> bool:
        """Checks a registered person's row; False when the person is out of the actor's
        reach, and the row must then say nothing more about them (no name, no membership)."""
        elsewhere = village is not None and person.village_id != village.pk
        if elsewhere and not masking.sees_registration_place(self.actor):
            # Out of the actor's reach: nothing about the person but that they exist.
            r.problem("id_number", PERSON_ELSEWHERE, masking.ELSEWHERE_IN_COUNTY)
            return False
        name = values.get("name")
        if name and clean_name(person.name) != name:
            r.problem(
                "name",
                NAME_MISMATCH,
                f"该身份证号码在本县登记的姓名是“{identity.mask_name(person.name)}”,"
                f"与表中的“{name}”不一致。请核对姓名或身份证号码。",
            )
        if village is not None and person.village_id != village.pk:
            place = self.person_places.get(person.village_id) or self.nodes[person.village_id].name
            r.problem(
                "id_number",
                PERSON_ELSEWHERE,
                f"此人登记在{place},不在{village.name}。如已迁入,请先在系统中办理迁移。",
            )
        return True

    def read_household(self, r: RowReader, village, person, *, required: bool):
        """(household or None, relation or None); queues nothing."""
        number = r.limit("household_number", r.text("household_number", required=required), 30)
        relation = r.parsed(
            "relation_to_head",
            lambda v: choice(v, RELATION_VALUES, "与户主关系"),
            required=required,
            cached=True,
        )
        if not number or village is None:
            return None, relation
        household = self.households.get((village.pk, number))
        joining = person is None or household is None or person.household_id != household.pk
        if relation is None and joining and not required:  # (required: reported above)
            r.problem(
                "relation_to_head",
                REQUIRED,
                f"填写了户编号,“{r.header('relation_to_head')}”不能为空。",
            )
        if relation == Relation.HEAD and household is not None:
            holder = household.head
            holder_row = self.head_rows.get(id(household))
            if holder is not None and not same(holder, person):
                where = f"第 {holder_row} 行的" if holder_row else "已登记的"
                r.problem(
                    "relation_to_head",
                    HEAD_TAKEN,
                    f"{number}户已有户主({where}{identity.mask_name(holder.name)}),"
                    "一户只能有一位户主。",
                )
        return household or number, relation

    def apply_person(self, plan: PersonPlan) -> tuple[object, bool]:
        """Apply a person's plan (and its household link); returns (person, changed): the
        Person when created or changed, else the stored tuple it was read as."""
        village, group = plan.village, plan.group
        household = plan.household
        if isinstance(household, str):  # a new household of this file
            household = self.new_household(plan, household)
        person = plan.person
        if person is None:
            # No marital status is assumed: resolve() refused a new person's row without one.
            values = {"ethnicity": "01", "residency": Residency.REGISTERED, **plan.values}
            person = Person(id_number=plan.id_number, **values)
            person.sex = person.sex or plan.parsed.sex
            person.birth_date = person.birth_date or plan.parsed.birth_date
            person.name_initials = identity.pinyin_initials(person.name)
            person.place_under(group or village)
            if household is not None:
                person.household = household
                person.relation_to_head = plan.relation or ""
                self.affected_households[id(household)] = household
            self.persons[plan.id_number] = person
            self.pending.new_persons.append(person)
            self.touch(person, new=True)
            self.link_head(plan, household, person)
            return person, True
        changes = {k: v for k, v in plan.values.items() if getattr(person, k) != v}
        if group is not None and person.group_id != group.pk:
            changes["group_id"] = group.pk
        old_household = None
        if household is not None and person.household_id != household.pk:
            old_household = self.households_by_id.get(person.household_id)
            changes["household"] = household
        if household is not None and plan.relation and person.relation_to_head != plan.relation:
            changes["relation_to_head"] = plan.relation
        head_changed = self.link_head(plan, household, person)
        if not changes:
            return person, head_changed
        person = self.editable(person)
        self.touch(person, new=False)
        for name, value in changes.items():
            setattr(person, name, value)
        if "name" in changes:
            person.name_initials = identity.pinyin_initials(person.name)
        person.updated_at = self.now
        self.pending.changed_persons.append(person)
        if household is not None:
            self.affected_households[id(household)] = household
        if old_household is not None:
            self.affected_households[id(old_household)] = old_household
            if old_household.head_id == person.pk:
                self.touch(old_household, new=False)
                old_household.head = None
                self.mark_household_changed(old_household)
        elif (
            "household" not in changes
            and person.household_id
            and (
                {"sex", "birth_date", "residency", "marital_status", "relation_to_head"}
                & set(changes)
            )
        ):
            current = self.households_by_id.get(person.household_id)
            if current is not None:
                self.affected_households[id(current)] = current
            else:
                self.stale_household_ids.add(person.household_id)
        return person, True

    def new_household(self, plan: PersonPlan, number: str) -> Household:
        key = (plan.village.pk, number)
        household = Household(
            number=number,
            address=plan.values.get("address", ""),
            residency=plan.values.get("residency", Residency.REGISTERED),
            phone=plan.values.get("phone", "") if plan.relation == Relation.HEAD else "",
        )
        household.place_under(plan.group or plan.village)
        self.households[key] = household
        self.pending.new_households.append(household)
        self.touch(household, new=True)
        return household

    def link_head(self, plan: PersonPlan, household: Household | None, person: Person) -> bool:
        """The row's person heads the household: make it so, and let the head's row carry the
        household's own fields. Returns whether the household changed."""
        if household is None or plan.relation != Relation.HEAD:
            return False
        values = {"address": plan.values.get("address"), "phone": plan.values.get("phone")}
        if "residency" in plan.values:
            values["residency"] = plan.values["residency"]
        changes = {k: v for k, v in values.items() if v and getattr(household, k) != v}
        if not same(household.head, person):
            changes["head"] = self.editable(person)
        if not changes:
            return False
        self.head_rows[id(household)] = plan.row_number
        self.touch(household, new=household.pk is None)
        for name, value in changes.items():
            setattr(household, name, value)
        self.mark_household_changed(household)
        self.affected_households[id(household)] = household
        return True

    def mark_household_changed(self, household: Household) -> None:
        if household.pk is None:
            return  # written with its head by the flush
        household.updated_at = self.now
        if all(h is not household for h in self.pending.changed_households):
            self.pending.changed_households.append(household)


@dataclass
class PersonPlan:
    row_number: int
    person: object  # the stored tuple of a registered person, a Person of this file, or None
    values: dict
    village: Association
    group: Association | None
    household: Household | str | None  # a number: a household this file creates
    relation: str | None
    id_number: str = ""
    parsed: identity.IdNumber | None = None
    mother_number: str = ""  # the household roster's mother column, checked


@dataclass
class RowPlan:
    instance: object
    is_new: bool
    person: PersonPlan
    member: dict | None = None
    changed: bool = True
    membership: object = None  # the stored tuple of the person's active membership


def mother_old_enough(mother_born: datetime.date, child_born: datetime.date) -> bool:
    return child_born >= mother_born and age_on(mother_born, child_born) >= MOTHER_MIN_AGE_GAP


def same(a, b) -> bool:
    """The same person: the same object, or two loads of the same row."""
    if a is None or b is None:
        return a is b
    return a is b or (a.pk is not None and a.pk == b.pk)


def _phone(value) -> str:
    try:
        return identity.validate_phone(as_text(value))
    except ValidationError as error:
        raise CellError(PHONE_INVALID, error.messages[0]) from None
