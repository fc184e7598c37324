"""The members roster (会员名册), declared for the import pipeline: one row per person and
their membership of the row's village association. The person columns and their rules are
the households app's (households.import_columns, households.import_people); what is about
the membership is here.

Rules of the membership: one active membership per person in the county
(ALREADY_MEMBER_ELSEWHERE names where); member numbers unique among the village's active
members; an empty number gets the next free one (0001, 0002 …) for a new member and keeps the
stored one otherwise; a deceased person is not made a member.

The kind registers itself when the app is ready (members.apps)."""

from __future__ import annotations

import re

from associations import period_locks
from associations.bulk import row_class
from associations.imports import (
    DATE_INVALID,
    CellError,
    ColumnSpec,
    ImportKind,
    RowReader,
    as_text,
    choice,
    parse_date,
    register,
    yes_no,
)
from associations.imports.columns import CHOICE_INVALID
from associations.imports.stored import read_stored
from associations.imports.workbooks import AllowedValues
from associations.models import Association
from households import masking
from households.import_columns import (
    ADDRESS,
    BIRTH_DATE,
    ETHNICITY,
    EXAMPLE_ID,
    GROUP,
    HOUSEHOLD_NUMBER,
    ID_NUMBER,
    MARITAL,
    NAME,
    PERSON_CODES,
    PERSON_CONSTRAINTS,
    PHONE,
    RELATION,
    ROSTER_NOTES,
    SEX,
    VILLAGE,
    person_allowed_values,
    village_required_above_villages,
)
from households.import_people import PersonPlan, RowPlan
from households.import_rows import RosterResource

from .models import ElderKind, Member, MemberCategory
from .services import MEMBER_FIELDS

KIND_MEMBERS = "members"

ALREADY_MEMBER_ELSEWHERE = "ALREADY_MEMBER_ELSEWHERE"
MEMBER_NUMBER_TAKEN = "MEMBER_NUMBER_TAKEN"
PERSON_DECEASED = "PERSON_DECEASED"
MEMBER_CODES = {
    PERSON_DECEASED: "此人已登记为去世",
    ALREADY_MEMBER_ELSEWHERE: "已是本县其他协会的会员",
    MEMBER_NUMBER_TAKEN: "会员证号已被使用",
}
MEMBER_CONSTRAINTS = {
    "member_one_active_membership_in_county": (
        "此人已由他人同时登记为本县的会员,一人在本县只能有一个有效会籍",
        "id_number",
    ),
    "member_number_unique_in_village": (
        "该会员证号已由他人同时分配给本村的其他会员",
        "member_number",
    ),
    "member_elder_kind_needs_elder": ("填写了五老类别,会员类别中却没有“五老”", "elder_kind"),
}

# --- columns ----------------------------------------------------------------------------------

MEMBER_NUMBER = ColumnSpec(
    "member_number", "会员证号", ("会员证号码", "会员证编号", "会员编号", "会员号"), text=True
)
JOINED_ON = ColumnSpec("joined_on", "入会日期", ("入会时间", "入会年月"))
CATEGORIES = ColumnSpec(
    "categories", "会员类别", ("类别", "会员类型"), help="可填多个,用顿号(、)或逗号分开"
)
ELDER_KIND = ColumnSpec("elder_kind", "五老类别", ("五老",))
BACKBONE = ColumnSpec("is_backbone", "骨干会员", ("是否骨干会员", "是否骨干", "骨干"), help="是/否")

MEMBER_COLUMNS = [
    NAME,
    SEX,
    ID_NUMBER,
    BIRTH_DATE,
    ETHNICITY,
    PHONE,
    ADDRESS,
    MARITAL,
    HOUSEHOLD_NUMBER,
    RELATION,
    VILLAGE,
    GROUP,
    MEMBER_NUMBER,
    JOINED_ON,
    CATEGORIES,
    ELDER_KIND,
    BACKBONE,
]
MEMBER_EXAMPLE = {
    "name": "张三(示例)",
    "sex": "男",
    "id_number": EXAMPLE_ID,
    "birth_date": "1990-03-07",
    "ethnicity": "汉族",
    "phone": "13812345678",
    "address": "示例村 1 号",
    "marital_status": "已婚",
    "household_number": "",
    "relation_to_head": "",
    "village": "",
    "group": "",
    "member_number": "",
    "joined_on": "2024-05-29",
    "categories": "育龄群众积极分子、志愿者",
    "elder_kind": "",
    "is_backbone": "否",
}

CATEGORY_VALUES = {label: value for value, label in MemberCategory.choices}
CATEGORY_VALUES.update(
    {"五老人员": MemberCategory.ELDER, "积极分子": MemberCategory.FERTILE_ACTIVIST}
)
ELDER_VALUES = {label: value for value, label in ElderKind.choices}
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")


def parse_categories(value) -> tuple[list[str], str]:
    """Categories and, when a 五老 kind is written among them (老党员), that kind."""
    categories: set[str] = set()
    elder_kind = ""
    unknown = []
    for part in LIST_SEPARATORS.split(as_text(value)):
        if not part:
            continue
        if part in CATEGORY_VALUES:
            categories.add(CATEGORY_VALUES[part])
        elif part in ELDER_VALUES:
            categories.add(MemberCategory.ELDER)
            elder_kind = elder_kind or ELDER_VALUES[part]
        else:
            unknown.append(part)
    if unknown:
        raise CellError(
            CHOICE_INVALID,
            f"“{'、'.join(unknown)}”不是有效的会员类别。可填:"
            f"{'、'.join(label for _v, label in MemberCategory.choices)}。",
        )
    return sorted(categories), elder_kind


def member_allowed_values() -> list[AllowedValues]:
    return [
        *person_allowed_values(),
        AllowedValues("会员类别", [label for _v, label in MemberCategory.choices]),
        AllowedValues("五老类别", [label for _v, label in ElderKind.choices], "elder_kind"),
        AllowedValues("骨干会员", ["是", "否"], "is_backbone"),
    ]


MEMBER_UPDATE_FIELDS = [
    "member_number",
    "joined_on",
    "categories",
    "elder_kind",
    "is_backbone",
    "township",
    "village",
    "group",
    "updated_at",
]


class NewMember(row_class(Member)):
    """A membership this import creates, as a plain row (bulk.Row): a model instance for
    each of thousands of new members cost more than their COPY. ``person``: the stored
    tuple or the Person of the row, whose id is written as person_id once it has one."""

    def __str__(self) -> str:
        return f"{self.member_number} {self.person.name}"  # as Member's


class MemberRosterResource(RosterResource):
    """会员名册: one row per person and their membership of the row's village association."""

    kind = KIND_MEMBERS
    fields_of = {**RosterResource.fields_of, Member: MEMBER_FIELDS}

    class Meta:
        model = Member

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.new_members: list[NewMember] = []
        self.changed_members: list[Member] = []

    def locked_spans(self, county_id: int) -> list:
        """The county's locked assessment periods, fetched once per import."""
        if getattr(self, "_locked_spans", None) is None:
            self._locked_spans = period_locks.locked_spans(county_id)
        return self._locked_spans

    def write_dependents(self) -> None:
        for member in self.new_members:
            member.person_id = member.person.pk  # a person of this file has one by now
        self.insert(self.new_members)
        self.update(self.changed_members, MEMBER_UPDATE_FIELDS)

    def clear_dependents(self) -> None:
        self.new_members.clear()
        self.changed_members.clear()

    def prefetch_more(self, persons: list, dataset) -> None:
        self.memberships: dict = {}  # person id -> the stored tuple of their active membership
        self.association_names: dict[int, str] = {}
        if persons:
            for member in read_stored(
                Member.objects.filter(
                    person_id__any_of=[p.pk for p in persons], status=Member.Status.ACTIVE
                )
            ):
                self.memberships[member.person_id] = member
            elsewhere = {m.association_id for m in self.memberships.values()} - set(self.nodes)
            self.association_names = dict(
                Association.objects.filter(pk__in=elsewhere).values_list("pk", "name")
            )
        self.numbers_taken: dict[tuple[int, str], int] = {}  # -> person id or -row
        self.next_number: dict[int, int] = {}
        villages = self.villages_in_file(dataset)
        if not villages:
            return
        for village_id, number, person_id, status in (
            Member.objects.filter(village_id__in=list(villages))
            .order_by()
            .values_list("village_id", "member_number", "person_id", "status")
        ):
            if status == Member.Status.ACTIVE:
                self.numbers_taken[(village_id, number)] = person_id
            if number.isdigit():
                self.next_number[village_id] = max(self.next_number.get(village_id, 0), int(number))

    def association_name(self, pk: int) -> str:
        node = self.nodes.get(pk)
        return node.name if node is not None else self.association_names.get(pk, "本县其他村")

    def resolve(self, r: RowReader) -> RowPlan:
        id_number, parsed = self.read_identity(r)
        values = self.read_person_values(r, parsed)
        village, group = self.read_place(r)
        person = self.persons.get(id_number) if id_number else None
        membership = None
        if person is not None and not self.check_known_person(r, person, values, village):
            pass  # out of the actor's reach: the row says only "elsewhere in the county"
        elif person is not None:
            if person.is_deceased:
                r.problem("name", PERSON_DECEASED, "此人已登记为去世,不能登记为会员。")
            membership = self.memberships.get(person.pk) if person.pk else None
            if (
                membership is not None
                and village is not None
                and membership.association_id != village.pk
            ):
                r.problem(
                    "id_number",
                    ALREADY_MEMBER_ELSEWHERE,
                    f"此人已是{self.association_name(membership.association_id)}的会员"
                    f"(会员证号 {membership.member_number}),一人在本县只能有一个有效会籍。",
                )
        elif id_number:
            self.check_new_person(r, values)
        household, relation = self.read_household(r, village, person, required=False)
        member = self.read_member(r, village, person, membership)
        plan = PersonPlan(r.number, person, values, village, group, household, relation)
        plan.id_number, plan.parsed = id_number, parsed
        instance = membership or NewMember()
        return RowPlan(
            instance=instance,
            is_new=membership is None,
            person=plan,
            member=member,
            membership=membership,
        )

    def read_member(self, r: RowReader, village, person, membership) -> dict:
        values: dict = {}
        number = r.limit("member_number", r.text("member_number"), 30)
        if number and village is not None:
            key = (village.pk, number)
            holder = self.numbers_taken.get(key)
            mine = person is not None and person.pk is not None and holder == person.pk
            if holder is not None and not mine:
                where = f"第 {-holder} 行" if holder < 0 else f"{village.name}的其他会员"
                r.problem(
                    "member_number",
                    MEMBER_NUMBER_TAKEN,
                    f"会员证号 {number} 已被{where}使用,同一协会的会员证号不能重复。",
                )
            else:
                self.numbers_taken[key] = person.pk if mine else -r.number
            values["member_number"] = number
        joined = r.parsed("joined_on", lambda v: parse_date(v, month_ok=True), cached=True)
        if joined is not None:
            if joined[0] > self.today:
                r.problem("joined_on", DATE_INVALID, f"入会日期 {joined[0].isoformat()} 晚于今天。")
            elif village is not None and getattr(membership, "joined_on", None) != joined[0]:
                locked = period_locks.label_in(self.locked_spans(village.county_id), joined[0])
                if locked:
                    r.problem("joined_on", DATE_INVALID, period_locks.message(locked))
            values["joined_on"] = joined[0]
        categories = r.parsed("categories", parse_categories, cached=True)
        elder_kind = r.parsed(
            "elder_kind", lambda v: choice(v, ELDER_VALUES, "五老类别"), cached=True
        )
        if categories is not None:
            written, written_kind = categories
            values["categories"] = list(written)  # (the parse is shared by the rows)
            elder_kind = elder_kind or written_kind or None
        if elder_kind:
            values["elder_kind"] = elder_kind
        backbone = r.parsed("is_backbone", lambda v: yes_no(v, "骨干会员"), cached=True)
        if backbone is not None:
            values["is_backbone"] = backbone
        return values

    def apply(self, plan: RowPlan) -> None:
        person, person_changed = self.apply_person(plan.person)
        village, group = plan.person.village, plan.person.group
        values = dict(plan.member)
        member = plan.instance
        if plan.is_new:
            number = values.pop("member_number", "")
            if not number:
                number = self.take_next_number(village.pk, plan.person.row_number)
            member.person = person
            member.association_id = village.pk
            member.member_number = number
            member.joined_on = values.pop("joined_on", self.today)
            member.categories = values.get("categories", [])
            member.elder_kind = values.get("elder_kind", "")
            member.is_backbone = values.get("is_backbone", False)
            self.clean_elder(member, values)
            member.place_under(group or self.nodes.get(person.group_id) or village)
            self.new_members.append(member)
            self.touch(member, new=True)
            plan.changed = True
            return
        member = plan.membership
        changes = {k: v for k, v in values.items() if getattr(member, k) != v}
        if "categories" in values or "elder_kind" in values:
            categories = values.get("categories", member.categories)
            elder_kind = values.get("elder_kind", member.elder_kind)
            if elder_kind and MemberCategory.ELDER not in categories:
                categories = sorted([*categories, MemberCategory.ELDER])
            if MemberCategory.ELDER not in categories:
                elder_kind = ""
            changes = {k: v for k, v in changes.items() if k not in ("categories", "elder_kind")}
            if sorted(member.categories) != categories:
                changes["categories"] = categories
            if member.elder_kind != elder_kind:
                changes["elder_kind"] = elder_kind
        if group is not None and member.group_id != group.pk:
            changes["group_id"] = group.pk
        if changes:
            member = member.as_model()
            member.person = self.editable(person)  # cached for the change record's label
            self.touch(member, new=False)
            for name, value in changes.items():
                setattr(member, name, value)
            member.updated_at = self.now
            self.changed_members.append(member)
        plan.changed = bool(changes) or person_changed

    @staticmethod
    def clean_elder(member: Member, values: dict) -> None:
        if member.elder_kind and MemberCategory.ELDER not in member.categories:
            member.categories = sorted([*member.categories, MemberCategory.ELDER])
        if MemberCategory.ELDER not in member.categories:
            member.elder_kind = ""

    def take_next_number(self, village_id: int, row_number: int) -> str:
        """The next free number of the village (0001, 0002 …), as services.next_member_number
        gives it."""
        while True:
            value = self.next_number.get(village_id, 0) + 1
            self.next_number[village_id] = value
            number = f"{value:04d}"
            if (village_id, number) not in self.numbers_taken:
                self.numbers_taken[(village_id, number)] = -row_number
                return number


MEMBERS = register(
    ImportKind(
        key=KIND_MEMBERS,
        label="会员名册",
        sheet_title="会员名册",
        columns=MEMBER_COLUMNS,
        example=MEMBER_EXAMPLE,
        resource=MemberRosterResource,
        notes=ROSTER_NOTES,
        code_labels={**PERSON_CODES, **MEMBER_CODES},
        allowed=member_allowed_values,
        adapt_columns=village_required_above_villages,
        constraints={**PERSON_CONSTRAINTS, **MEMBER_CONSTRAINTS},
        order=10,
        masked_columns=masking.identity_redactors(),
        sees_full=masking.sees_full_identity,
    )
)
