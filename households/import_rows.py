"""What each row of a roster (会员名册, 家庭户成员名册) does when it is imported: the
django-import-export resource both rosters share (the pipeline in associations.imports runs
it: the dry run and the commit are the same path, the dry run rolled back at the end).

Speed: `before_import` loads everything the rows need in a handful of queries (villages and
groups of the target subtree; persons by ID number, each list sent as one array parameter,
county-wide; households by village and number when the file names households; what the
kind adds in `prefetch_more`), so resolving a row does no query. The writes (COPY and bulk
UPDATEs, the change records) are households.import_writes'. `manage.py benchmark_import`
measures it.

A row is "unchanged" when every filled cell equals what is stored: importing the same file
twice changes nothing the second time. The rules of the person columns are in
households.import_people; each kind's own in its module (households.imports,
members.imports)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from import_export import resources
from import_export.results import Error, RowResult

from associations.history import snapshot
from associations.imports import (
    UNKNOWN_COLUMN,
    IdUpgrade,
    RowProblem,
    RowReader,
    Table,
    as_text,
    get_kind,
    is_numeric_id,
)
from associations.imports.stored import is_stored, read_stored
from associations.models import Association, ChangeRecord, Level
from associations.scope import Scope, activate

from . import identity, identity_reads
from .import_columns import MOTHER_ID, group_number
from .import_people import PersonRows
from .import_writes import Pending, RosterWrites
from .models import Household, Person
from .services import HOUSEHOLD_FIELDS, PERSON_FIELDS

PROGRESS_EVERY = 500


def recorded_birth_date(number: str) -> datetime.date:
    """Digits 7-14 of a number the county has recorded (checked then)."""
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


class RosterResource(PersonRows, RosterWrites, resources.ModelResource):
    """What both rosters share: places, persons, households. Subclasses say what a row is
    (resolve, apply) and may write more after the persons (write_dependents)."""

    kind = ""
    fields_of: dict[type, list[str]] = {Person: PERSON_FIELDS, Household: HOUSEHOLD_FIELDS}

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
        self.spec = get_kind(self.kind)
        self.headers = {c.key: table.header_text(c.key, c.header) for c in self.spec.columns}
        self.problems: list[RowProblem] = []
        self.cell_cache: dict = {}  # see RowReader.parsed
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
        self.persons: dict = {}  # ID number -> stored tuple, or the Person once it changes
        self.person_places: dict[int, str] = {}
        self.looked_up: list[int] | None = None  # persons the file's ID numbers found
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
        self.current_row = 0
        self.object_rows: dict[int, int] = {}  # id(object) -> the row that first touched it
        self.writing: list = []  # the objects of the statement under way (see flush)
        self.refused_batch: list = []  # ... when the database refused it

    # --- prefetch ---------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        texts = self.file_identities(dataset)
        under = {f"{self.target.level}_id": self.target.pk}
        # The places' timestamps are never read here: not parsed for thousands of groups.
        places = Association.objects.defer("created_at", "updated_at")
        villages = list(places.filter(level=Level.VILLAGE, **under))
        for village in villages:
            self.nodes[village.pk] = village
            self.villages_by_key.setdefault(village.name, []).append(village)
            self.villages_by_key.setdefault(village.division_code, []).append(village)
        groups = places.filter(level=Level.GROUP, **under).order_by("division_code")
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
                read_stored(Person.objects.filter(id_number__in_list=id_numbers))
                if id_numbers
                else []
            )
            self.parse_identities(texts, {p.id_number: p for p in persons})
            # Old 15-digit numbers are found by the 18-digit number they upgrade to.
            upgraded = {
                v.number
                for v in self.id_cache.values()
                if isinstance(v, identity.IdNumber) and v.upgraded_from
            } - id_numbers
            if upgraded:
                persons += read_stored(Person.objects.filter(id_number__in_list=upgraded))
            self.persons = {p.id_number: p for p in persons}
            # Recorded after the run (a dry run's transaction is rolled back): after_run.
            self.looked_up = [p.pk for p in persons]
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
            for household in Household.objects.filter(query).order_by():
                self.households[(household.village_id, household.number)] = household
                self.households_by_id[household.pk] = household
            self.attach_heads(persons)

    def after_run(self) -> None:
        """One recorded bulk lookup per check of a file (households.identity_reads), written
        once the import's own transaction has ended, so a dry run keeps it too."""
        if self.looked_up is not None:
            identity_reads.record_import_lookup(
                actor=self.actor, person_ids=self.looked_up, route=f"import:{type(self).__name__}"
            )

    def attach_heads(self, persons: list) -> None:
        """Each loaded household's head, for the HEAD_TAKEN check: the file's persons are
        already loaded; other heads are read with the only fields the check uses."""
        by_pk = {p.pk: p for p in persons}
        missing = {h.head_id for h in self.households_by_id.values()} - set(by_pk) - {None}
        if missing:
            by_pk.update((p.pk, p) for p in Person.objects.filter(pk__any_of=missing).only("name"))
        for household in self.households_by_id.values():
            head = by_pk.get(household.head_id)
            if head is not None:
                household.head = self.editable(head)

    def editable(self, person):
        """The Person model of a person read as a stored tuple, built once and kept (the
        persons of the file are read as tuples: most of them do not change)."""
        if not is_stored(person):
            return person
        current = self.persons.get(person.id_number)
        if current is not None and not is_stored(current):
            return current
        model = person.as_model()
        self.persons[person.id_number] = model
        return model

    def prefetch_more(self, persons: list, dataset) -> None:
        """Kind-specific lookups, inside the county-wide scope (``persons``: stored tuples)."""

    def file_identities(self, dataset) -> dict[str, str]:
        """{cell text: normalised number} for each distinct ID cell of the file (the rows' own
        numbers and, in a household roster, their mothers')."""
        texts: dict[str, str] = {}
        cells = [
            None if numeric else value
            for value, numeric in zip(dataset["id_number"], dataset["__numeric"], strict=True)
        ]
        if MOTHER_ID.key in dataset.headers:
            cells += [v for v in dataset[MOTHER_ID.key] if not is_numeric_id(v)]
        for value in cells:
            text = "" if value is None else as_text(value)
            if text and text not in texts:
                texts[text] = identity.normalize_id_number(text)
        return texts

    def parse_identities(self, texts: dict[str, str], known: dict) -> None:
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
                    birth_date=recorded_birth_date(number),
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

    def import_row(self, row, instance_loader, **kwargs):
        """import-export's row cycle without what these resources never use (diffs, deletes,
        many-to-many fields, model validation, the instance's text kept in the result): the
        row is resolved, applied and queued; a problem makes it invalid, an exception an
        error of the row, as there."""
        row_result = RowResult()
        try:
            instance, new = self.get_or_init_instance(instance_loader, row)
            row_result.import_type = (
                RowResult.IMPORT_TYPE_NEW if new else RowResult.IMPORT_TYPE_UPDATE
            )
            self.import_instance(instance, row, **kwargs)
            if self.skip_row(instance, None, row):
                row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            else:
                self.save_instance(instance, new, row, **kwargs)
            self.after_import_row(row, row_result, **kwargs)
        except ValidationError as error:
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            row_result.validation_error = error
        except Exception as error:
            row_result.import_type = RowResult.IMPORT_TYPE_ERROR
            row_result.errors.append(Error(error, row=row, number=kwargs["row_number"]))
        return row_result

    def get_or_init_instance(self, instance_loader, row):
        self.current_row = row["__row"]
        reader = RowReader(row, self.headers, self.cell_cache)
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

    # --- bookkeeping ------------------------------------------------------------------------

    def touch(self, obj, *, new: bool) -> None:
        """Remember an object that this import creates or changes, with its state before the
        first change, for its change record."""
        key = id(obj)
        if key in self.touched:
            return
        self.object_rows[key] = self.current_row
        if new:
            self.touched[key] = (obj, ChangeRecord.Action.CREATE, None)
        else:
            fields = self.fields_of[type(obj)]
            self.touched[key] = (obj, ChangeRecord.Action.UPDATE, snapshot(obj, fields))

    # --- resolving a row --------------------------------------------------------------------

    def resolve(self, r: RowReader):
        raise NotImplementedError

    def apply(self, plan) -> None:
        raise NotImplementedError

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
