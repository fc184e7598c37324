"""What each row of a roster (会员花名册, 家庭户成员名册) does when it is imported.

The engine is django-import-export: a `Resource` per kind whose `import_data(dataset,
dry_run=...)` runs inside one transaction. The dry run and the real import are the SAME code
path — every row is resolved, validated and written (in bulk) — and the dry run is rolled back
at the end, so the preview counts exactly what the commit will do, database constraints
included. A commit is all-or-nothing: one invalid row, or a database error at any row, and
nothing is written.

Speed: `before_import` loads everything the rows need in a handful of queries (villages and
groups of the target subtree; persons by ID number, each list sent as one array parameter,
and their active memberships county-wide; households by village and number when the file
names households; the villages' member numbers), so resolving a row does no query. New rows
go in by COPY (`associations.bulk.insert_many`), changed ones by bulk UPDATEs in batches;
the change records (one per created or changed person, household and membership, with
before and after) go in by COPY as well. `manage.py benchmark_import` measures it.

Rules a row follows:
- The person is found by ID number in the whole county. A known person keeps their name (a
  different name is NAME_MISMATCH) and must be recorded in the row's village
  (PERSON_ELSEWHERE otherwise: moving people is a relocation, not an import).
- A person not yet registered needs a marital status (MARITAL_REQUIRED): the figures count
  已婚育龄妇女 from it, so nothing is assumed. A registered person's row may leave it empty.
- Empty optional cells never erase stored values; a cell that is filled replaces the value.
- Sex and birth date, when filled, must agree with the ID number; when empty they come from it.
- A row is "unchanged" when every filled cell equals what is stored: importing the same file
  twice changes nothing the second time.
- Members: one active membership per person in the county (ALREADY_MEMBER_ELSEWHERE names
  where); member numbers unique among the village's active members; an empty number gets the
  next free one (0001, 0002 …) for a new member and keeps the stored one otherwise.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from import_export import resources
from stdnum.cn import ric

from associations.bulk import insert_many
from associations.history import build_change, record_changes, snapshot
from associations.models import Association, ChangeRecord, Level
from associations.scope import Scope, activate
from households import identity, masking
from households.categories import Relation, age_on, family_categories, family_types
from households.models import Household, Person, Residency, Sex
from households.services import HOUSEHOLD_FIELDS, PERSON_FIELDS, household_facts

from . import import_files
from .import_columns import (
    ALREADY_MEMBER_ELSEWHERE,
    DATE_INVALID,
    DUPLICATE_IN_FILE,
    ELDER_VALUES,
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
    KIND_HOUSEHOLDS,
    KIND_MEMBERS,
    KINDS,
    MARITAL_LABELS,
    MARITAL_REQUIRED,
    MARITAL_VALUES,
    MEMBER_NUMBER_TAKEN,
    MOTHER_ID,
    MOTHER_MIN_AGE_GAP,
    MOTHER_NOT_FEMALE,
    MOTHER_NOT_FOUND,
    MOTHER_SELF,
    MOTHER_TOO_YOUNG,
    NAME_MISMATCH,
    NUMERIC_ID_MESSAGE,
    PERSON_DECEASED,
    PERSON_ELSEWHERE,
    PHONE_INVALID,
    RELATION_VALUES,
    REQUIRED,
    RESIDENCY_VALUES,
    SEX_VALUES,
    TOO_LONG,
    UNKNOWN_COLUMN,
    VILLAGE_UNKNOWN,
    YES_NO,
    CellError,
    IdUpgrade,
    RowProblem,
    choice,
    clean_name,
    group_names_listed,
    group_number,
    parse_categories,
    parse_date,
)
from .import_files import Table, as_text
from .models import Member, MemberCategory
from .services import MEMBER_FIELDS

# --- the row context --------------------------------------------------------------------------


class RowReader:
    """One row's cells, parsed; problems collected instead of raised, so a row reports every
    bad cell at once."""

    def __init__(self, resource: RosterResource, row: dict):
        self.resource = resource
        self.row = row
        self.number = row["__row"]
        self.problems: list[RowProblem] = []

    def header(self, key: str) -> str:
        return self.resource.headers[key]

    def problem(self, key: str, code: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, self.header(key), code, message, key))

    def cell(self, key: str):
        return self.row.get(key)

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.row.get(key)
        text = "" if value is None else as_text(value)
        if not text and required:
            self.problem(key, REQUIRED, f"“{self.header(key)}”不能为空。")
        return text

    def limit(self, key: str, text: str, length: int) -> str:
        """The text, or "" with a TOO_LONG problem when it does not fit its field."""
        if len(text) > length:
            self.problem(
                key, TOO_LONG, f"“{self.header(key)}”最多 {length} 个字,这里有 {len(text)} 个。"
            )
            return ""
        return text

    def parsed(self, key: str, parser: Callable, *, required: bool = False):
        value = self.row.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(key, REQUIRED, f"“{self.header(key)}”不能为空。")
            return None
        try:
            return parser(value)
        except CellError as error:
            self.problem(key, error.code, error.message)
            return None


@dataclass
class Pending:
    """Objects to write, in dependency order, and the change records to build at the end."""

    new_households: list[Household] = field(default_factory=list)
    new_persons: list[Person] = field(default_factory=list)
    changed_persons: list[Person] = field(default_factory=list)
    changed_households: list[Household] = field(default_factory=list)
    new_members: list[Member] = field(default_factory=list)
    changed_members: list[Member] = field(default_factory=list)

    def clear(self) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).clear()


PERSON_UPDATE_FIELDS = [
    "name",
    "name_initials",
    "sex",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "residency",
    "marital_status",
    "household",
    "relation_to_head",
    "township",
    "village",
    "group",
    "updated_at",
]
HOUSEHOLD_UPDATE_FIELDS = ["head", "address", "residency", "phone", "updated_at"]
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
UPDATE_BATCH_SIZE = 1000
PROGRESS_EVERY = 500


class RosterResource(resources.ModelResource):
    """What both kinds share: places, persons, households. Subclasses say what a row is."""

    kind = ""

    class Meta:
        fields = ()
        use_bulk = True
        # Rows accumulated before the pending objects are written. Large on purpose: each
        # flush is a few statements whatever its size, so the number of queries stays flat.
        batch_size = 20_000
        skip_diff = True
        use_transactions = True
        report_skipped = False
        clean_model_instances = False
        store_instance = False

    def __init__(
        self,
        *,
        target: Association,
        actor,
        table: Table,
        progress: Callable[[int], None] | None = None,
    ):
        super().__init__()
        self.target = target
        self.actor = actor
        self.table = table
        self.progress = progress
        self.spec = KINDS[self.kind]
        self.headers = {c.key: table.header_text(c.key, c.header) for c in self.spec.columns}
        self.problems: list[RowProblem] = []
        self.upgrades: list[IdUpgrade] = []
        self.pending = Pending()
        self.now = timezone.now()
        self.today = timezone.localdate()
        # Filled by before_import:
        self.nodes: dict[int, Association] = {}
        self.villages_by_key: dict[str, list[Association]] = {}
        self.groups_by_key: dict[tuple[int, str], Association] = {}
        self.groups_by_number: dict[tuple[int, int], list[Association]] = {}
        self.village_groups: dict[int, list[Association]] = defaultdict(list)
        self.persons: dict[str, Person] = {}
        self.person_places: dict[int, str] = {}
        self.households: dict[tuple[int, str], Household] = {}
        self.households_by_id: dict[int, Household] = {}
        # Bookkeeping across rows:
        self.seen_ids: dict[str, int] = {}
        self.head_rows: dict[int, int] = {}  # id(household) -> row that made its head
        self.touched: dict[int, tuple[object, str, dict | None]] = {}
        self.affected_households: dict[int, Household] = {}
        self.mother_links: list[tuple[Person, str]] = []  # (child, mother's number) to write
        self.stale_household_ids: set[int] = set()  # affected, not loaded (see before_import)
        self.row_plan = None

    # --- prefetch ---------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        texts = self.file_identities(dataset)
        under = {f"{self.target.level}_id": self.target.pk}
        villages = list(Association.objects.filter(level=Level.VILLAGE, **under))
        for village in villages:
            self.nodes[village.pk] = village
            self.villages_by_key.setdefault(village.name, []).append(village)
            self.villages_by_key.setdefault(village.division_code, []).append(village)
        groups = Association.objects.filter(level=Level.GROUP, **under).order_by("division_code")
        for group in groups:
            self.nodes[group.pk] = group
            self.village_groups[group.village_id].append(group)
            self.groups_by_key[(group.village_id, group.name)] = group
            self.groups_by_key[(group.village_id, group.division_code)] = group
            short = group.name
            village = self.nodes.get(group.village_id)
            if village is not None and group.name.startswith(village.name):
                short = group.name[len(village.name) :]
                self.groups_by_key.setdefault((group.village_id, short), group)
            number = group_number(short)
            if number is not None:
                self.groups_by_number.setdefault((group.village_id, number), []).append(group)
        county = Scope(
            county_id=self.target.county_id, node_id=self.target.county_id, level=Level.COUNTY
        )
        # County-wide on purpose: one person per ID number in the county, wherever recorded.
        # What a row learns about a person outside the target is only where they are.
        with activate(county):
            id_numbers = {n for n in texts.values() if len(n) == 18}
            persons = (
                list(Person.objects.filter(id_number__any_of=id_numbers)) if id_numbers else []
            )
            self.parse_identities(texts, {p.id_number: p for p in persons})
            # Old 15-digit numbers are found by the 18-digit number they upgrade to.
            upgraded = {
                v.number
                for v in self.id_cache.values()
                if isinstance(v, identity.IdNumber) and v.upgraded_from
            } - id_numbers
            if upgraded:
                persons += list(Person.objects.filter(id_number__any_of=upgraded))
            self.persons = {p.id_number: p for p in persons}
            elsewhere = {p.village_id for p in persons} - set(self.nodes)
            if elsewhere:
                names = dict(Association.objects.filter(pk__in=elsewhere).values_list("pk", "name"))
                self.person_places = {v: names.get(v, "本县其他村") for v in elsewhere}
            self.prefetch_more(persons, dataset)
        numbers = {as_text(v) for v in dataset["household_number"] if v is not None} - {""}
        # A file without household numbers moves nobody between households: the persons'
        # households are then only needed for a category refresh, and read then.
        if numbers:
            household_ids = {p.household_id for p in persons if p.household_id}
            villages = list(self.villages_in_file(dataset))
            query = Q(pk__any_of=household_ids) | Q(number__in=numbers, village_id__in=villages)
            for household in Household.objects.filter(query):
                self.households[(household.village_id, household.number)] = household
                self.households_by_id[household.pk] = household
            self.attach_heads(persons)

    def attach_heads(self, persons: list[Person]) -> None:
        """Each loaded household's head, for the HEAD_TAKEN check: the file's persons are
        already loaded; other heads are read with the only fields the check uses."""
        by_pk = {p.pk: p for p in persons}
        missing = {h.head_id for h in self.households_by_id.values()} - set(by_pk) - {None}
        if missing:
            by_pk.update((p.pk, p) for p in Person.objects.filter(pk__any_of=missing).only("name"))
        for household in self.households_by_id.values():
            head = by_pk.get(household.head_id)
            if head is not None:
                household.head = head

    def prefetch_more(self, persons: list[Person], dataset) -> None:
        """Kind-specific lookups, inside the county-wide scope."""

    def file_identities(self, dataset) -> dict[str, str]:
        """{cell text: normalised number} for each distinct ID cell of the file (the rows' own
        numbers and, in a household roster, their mothers')."""
        texts: dict[str, str] = {}
        cells = [
            None if numeric else value
            for value, numeric in zip(dataset["id_number"], dataset["__numeric"], strict=True)
        ]
        if MOTHER_ID.key in dataset.headers:
            cells += [v for v in dataset[MOTHER_ID.key] if not import_files.is_numeric_id(v)]
        for value in cells:
            text = "" if value is None else as_text(value)
            if text and text not in texts:
                texts[text] = identity.normalize_id_number(text)
        return texts

    def parse_identities(self, texts: dict[str, str], known: dict[str, Person]) -> None:
        """Each distinct ID number of the file checked once: {text: IdNumber or the error}.
        A number already recorded in the county passed the same check when it was recorded
        (services and this importer store only parsed numbers), so only what it says is read
        again; the region lookup, the costly part of the check, is skipped for it."""
        self.id_cache: dict[str, identity.IdNumber | ValidationError] = {}
        for text, number in texts.items():
            person = known.get(number)
            if person is not None:
                self.id_cache[text] = identity.IdNumber(
                    number=number,
                    birth_date=ric.get_birth_date(number),
                    sex=identity.MALE if int(number[16]) % 2 else identity.FEMALE,
                    region_code=number[:6],
                )
                continue
            try:
                self.id_cache[text] = identity.parse_id_number(text)
            except ValidationError as error:
                self.id_cache[text] = error

    def villages_in_file(self, dataset) -> set[int]:
        named = {as_text(v) for v in dataset["village"] if v is not None}
        found = {v.pk for key in named for v in self.villages_by_key.get(key, [])}
        if self.target.level == Level.VILLAGE:
            found.add(self.target.pk)
        return found & set(self.nodes)

    # --- the row cycle ----------------------------------------------------------------------

    def get_or_init_instance(self, instance_loader, row):
        reader = RowReader(self, row)
        plan = self.resolve(reader)
        if reader.problems:
            self.problems.extend(reader.problems)
            raise ValidationError([p.message for p in reader.problems])
        self.row_plan = plan
        return plan.instance, plan.is_new

    def import_instance(self, instance, row, **kwargs):
        self.apply(self.row_plan)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not self.row_plan.changed

    def save_instance(self, instance, is_create, row, **kwargs):
        # The plan queued what changed; import-export's lists only drive its batch size.
        (self.create_instances if is_create else self.update_instances).append(instance)

    def after_import_row(self, row, row_result, **kwargs):
        number = kwargs.get("row_number", 0)
        if self.progress is not None and number % PROGRESS_EVERY == 0:
            self.progress(number)

    # --- writes -----------------------------------------------------------------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self.flush(result, raise_errors)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self.flush(result, raise_errors)

    def bulk_delete(self, using_transactions, dry_run, raise_errors, result=None):
        self.delete_instances.clear()

    def flush(self, result, raise_errors) -> None:
        pending = self.pending
        try:
            # New households and their new heads refer to each other: the households go in
            # first without their head, which is set once the persons have their ids.
            heads = [(h, h.head) for h in pending.new_households if h.head is not None]
            for household, _head in heads:
                household.head = None
            if pending.new_households:
                insert_many(pending.new_households)
            if pending.new_persons:
                insert_many(pending.new_persons)
            if pending.changed_persons:
                Person.objects.bulk_update(
                    pending.changed_persons, PERSON_UPDATE_FIELDS, batch_size=UPDATE_BATCH_SIZE
                )
            for household, head in heads:
                household.head = head
            changed = [h for h, _head in heads]
            changed += [h for h in pending.changed_households if all(h is not c for c in changed)]
            if changed:
                Household.objects.bulk_update(
                    changed, HOUSEHOLD_UPDATE_FIELDS, batch_size=UPDATE_BATCH_SIZE
                )
            self.write_mother_links()
            if pending.new_members:
                insert_many(pending.new_members)
            if pending.changed_members:
                Member.objects.bulk_update(
                    pending.changed_members, MEMBER_UPDATE_FIELDS, batch_size=UPDATE_BATCH_SIZE
                )
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            pending.clear()
            self.create_instances.clear()
            self.update_instances.clear()

    def write_mother_links(self) -> None:
        """Link each queued child to a mother who has her id by now; a mother of a later
        batch of rows is linked by a later flush (the last one comes after every row)."""
        linked, waiting = [], []
        for person, number in self.mother_links:
            mother = self.persons.get(number)
            if mother is not None and mother.pk is not None:
                person.mother = mother
                linked.append(person)
            else:
                waiting.append((person, number))
        self.mother_links = waiting
        if linked:
            Person.objects.bulk_update(linked, ["mother"], batch_size=UPDATE_BATCH_SIZE)

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors():
            return  # rolled back: nothing to record
        self.refresh_categories()
        records = []
        for obj, action, before in self.touched.values():
            fields = FIELDS_OF[type(obj)]
            records.append(
                build_change(
                    actor=self.actor,
                    node=self.nodes[obj.group_id or obj.village_id],
                    obj=obj,
                    action=action,
                    before=before,
                    after=snapshot(obj, fields),
                )
            )
        if records:
            record_changes(records)

    def refresh_categories(self) -> None:
        """The derived family categories of every household a person joined or left: one
        read of their persons, one bulk update (households.services.refresh_categories, in
        bulk)."""
        households = {h.pk: h for h in self.affected_households.values() if h.pk}
        unread = self.stale_household_ids - set(households)
        if unread:
            households.update((h.pk, h) for h in Household.objects.filter(pk__any_of=unread))
        if not households:
            return
        members = defaultdict(list)
        for person in Person.objects.filter(household_id__any_of=households).only(*FACT_FIELDS):
            members[person.household_id].append(person)
        changed = []
        for pk, household in households.items():
            facts = household_facts(household, members[pk])
            categories = sorted(c.value for c in family_categories(facts, today=self.today))
            types = sorted(t.value for t in family_types(facts, today=self.today))
            household.categories, household.family_types = categories, types
            household.categories_refreshed_on = self.today
            changed.append(household)
        Household.objects.bulk_update(
            changed,
            ["categories", "family_types", "categories_refreshed_on"],
            batch_size=UPDATE_BATCH_SIZE,
        )

    # --- bookkeeping ------------------------------------------------------------------------

    def touch(self, obj, *, new: bool) -> None:
        """Remember an object that this import creates or changes, with its state before the
        first change, for its change record."""
        key = id(obj)
        if key in self.touched:
            return
        if new:
            self.touched[key] = (obj, ChangeRecord.Action.CREATE, None)
        else:
            fields = FIELDS_OF[type(obj)]
            self.touched[key] = (obj, ChangeRecord.Action.UPDATE, snapshot(obj, fields))

    # --- resolving a row --------------------------------------------------------------------

    def resolve(self, r: RowReader):
        raise NotImplementedError

    def apply(self, plan) -> None:
        raise NotImplementedError

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
        sex = r.parsed("sex", lambda v: choice(v, SEX_VALUES, "性别"))
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
        ethnicity = r.parsed("ethnicity", lambda v: choice(v, ETHNICITY_VALUES, "民族"))
        if ethnicity:
            values["ethnicity"] = ethnicity
        phone = r.parsed("phone", _phone)
        if phone:
            values["phone"] = phone
        address = r.limit("address", r.text("address"), 200)
        if address:
            values["address"] = address
        if "residency" in self.table.columns:
            residency = r.parsed("residency", lambda v: choice(v, RESIDENCY_VALUES, "户籍状态"))
            if residency:
                values["residency"] = residency
        if "marital_status" in self.table.columns:
            marital = r.parsed("marital_status", lambda v: choice(v, MARITAL_VALUES, "婚姻状况"))
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

    def check_known_person(self, r: RowReader, person: Person, values: dict, village) -> None:
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

    def read_household(self, r: RowReader, village, person: Person | None, *, required: bool):
        """(household or None, relation or None); queues nothing."""
        number = r.limit("household_number", r.text("household_number", required=required), 30)
        relation = r.parsed(
            "relation_to_head",
            lambda v: choice(v, RELATION_VALUES, "与户主关系"),
            required=required,
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

    def apply_person(self, plan: PersonPlan) -> tuple[Person, bool]:
        """Apply a person's plan (and its household link); returns (person, changed)."""
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
            changes["head"] = person
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

    # --- results ----------------------------------------------------------------------------

    def column_warnings(self) -> list[RowProblem]:
        if not self.table.unknown_columns:
            return []
        names = "、".join(f"“{text}”" for _i, text in self.table.unknown_columns)
        return [
            RowProblem(
                self.table.header_row,
                "",
                UNKNOWN_COLUMN,
                f"以下列不是本模板的列,未导入:{names}。如需导入,请改为模板中的列名。",
            )
        ]


@dataclass
class PersonPlan:
    row_number: int
    person: Person | None
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


FACT_FIELDS = [
    "id",
    "household",
    "relation_to_head",
    "sex",
    "birth_date",
    "is_deceased",
    "died_on",
    "residency",
    "marital_status",
    "married_on",
    "disability_grade",
    "only_child_certificate_number",
    "mother",
]
FIELDS_OF = {Person: PERSON_FIELDS, Household: HOUSEHOLD_FIELDS, Member: MEMBER_FIELDS}


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
        if import_files.is_numeric_id(raw):
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
        plan.instance = person
        plan.changed = changed or mother_changed

    def link_mother(self, person: Person, number: str) -> bool:
        """Queue the link to the row's mother (written by the flush once she has her id: she
        may be a later row); an empty cell keeps what is recorded."""
        if not number:
            return False
        mother = self.persons.get(number)
        if mother is not None and mother.pk is not None and person.mother_id == mother.pk:
            return False
        self.touch(person, new=person.pk is None)
        self.mother_links.append((person, number))
        household = self.households_by_id.get(person.household_id)
        if household is not None:  # (a new person's household is already marked)
            self.affected_households[id(household)] = household
        elif person.household_id:
            self.stale_household_ids.add(person.household_id)
        return True


class MemberRosterResource(RosterResource):
    """会员名册: one row per person and their membership of the row's village association."""

    kind = KIND_MEMBERS

    class Meta:
        model = Member

    def prefetch_more(self, persons: list[Person], dataset) -> None:
        self.memberships: dict[int, Member] = {}
        self.association_names: dict[int, str] = {}
        if persons:
            for member in Member.objects.filter(
                person_id__any_of=[p.pk for p in persons], status=Member.Status.ACTIVE
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
        for village_id, number, person_id, status in Member.objects.filter(
            village_id__in=list(villages)
        ).values_list("village_id", "member_number", "person_id", "status"):
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
        if person is not None:
            self.check_known_person(r, person, values, village)
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
        instance = membership or Member()
        return RowPlan(instance=instance, is_new=membership is None, person=plan, member=member)

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
        joined = r.parsed("joined_on", lambda v: parse_date(v, month_ok=True))
        if joined is not None:
            if joined[0] > self.today:
                r.problem("joined_on", DATE_INVALID, f"入会日期 {joined[0].isoformat()} 晚于今天。")
            values["joined_on"] = joined[0]
        categories = r.parsed("categories", parse_categories)
        elder_kind = r.parsed("elder_kind", lambda v: choice(v, ELDER_VALUES, "五老类别"))
        if categories is not None:
            values["categories"], written_kind = categories
            elder_kind = elder_kind or written_kind or None
        if elder_kind:
            values["elder_kind"] = elder_kind
        backbone = r.parsed("is_backbone", lambda v: choice(v, YES_NO, "骨干会员(是/否)"))
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
            member.association = village
            member.member_number = number
            member.joined_on = values.pop("joined_on", self.today)
            member.categories = values.get("categories", [])
            member.elder_kind = values.get("elder_kind", "")
            member.is_backbone = values.get("is_backbone", False)
            self.clean_elder(member, values)
            member.place_under(group or self.nodes.get(person.group_id) or village)
            self.pending.new_members.append(member)
            self.touch(member, new=True)
            plan.changed = True
            return
        member.person = person  # cached for the change record's label
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
            self.touch(member, new=False)
            for name, value in changes.items():
                setattr(member, name, value)
            member.updated_at = self.now
            self.pending.changed_members.append(member)
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


RESOURCES = {KIND_MEMBERS: MemberRosterResource, KIND_HOUSEHOLDS: HouseholdRosterResource}
