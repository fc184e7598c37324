"""The writes of a roster import (mixed into households.import_rows.RosterResource): what
the rows queued goes in at each flush — new households, then new persons, changed persons,
households with their heads, the mothers' links, and what the kind writes after them (a
roster's memberships) — by COPY (`associations.bulk.insert_many`) and bulk UPDATEs; at the
end the derived family categories of the households touched and one change record per
object created or changed. When the database refuses a statement, the objects of that
statement are kept so that the row behind the refusal can be named."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import UniqueConstraint

from associations.bulk import insert_many, model_of
from associations.history import ChangeRows, snapshot
from associations.imports import dberrors
from associations.models import Level
from associations.scope import Scope, activate

from .categories import family_categories, family_types
from .models import Household, Person
from .services import household_facts

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


@dataclass
class Pending:
    """Objects to write, in dependency order, and the change records to build at the end."""

    new_households: list[Household] = field(default_factory=list)
    new_persons: list[Person] = field(default_factory=list)
    changed_persons: list[Person] = field(default_factory=list)
    changed_households: list[Household] = field(default_factory=list)

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
    "registration_kind",
    "marital_status",
    "household",
    "relation_to_head",
    "township",
    "village",
    "group",
    "updated_at",
]
HOUSEHOLD_UPDATE_FIELDS = ["head", "address", "residency", "phone", "updated_at"]
UPDATE_BATCH_SIZE = 1000


class RosterWrites:
    """The flush, the change records and the rows of refused writes of a roster resource."""

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
            self.insert(pending.new_households)
            self.insert(pending.new_persons)
            self.update(pending.changed_persons, PERSON_UPDATE_FIELDS)
            for household, head in heads:
                household.head = head
            changed = [h for h, _head in heads]
            changed += [h for h in pending.changed_households if all(h is not c for c in changed)]
            self.update(changed, HOUSEHOLD_UPDATE_FIELDS)
            self.write_mother_links()
            self.write_dependents()
        except Exception as error:
            self.refused_batch = list(self.writing)  # for row_of_refusal, before the clear
            self.handle_import_error(result, error, raise_errors)
        finally:
            pending.clear()
            self.clear_dependents()
            self.writing = []
            self.create_instances.clear()
            self.update_instances.clear()

    def insert(self, objs: list) -> None:
        if objs:
            self.writing = objs
            insert_many(objs)

    def update(self, objs: list, fields: list[str]) -> None:
        if objs:
            self.writing = objs
            type(objs[0]).objects.bulk_update(objs, fields, batch_size=UPDATE_BATCH_SIZE)

    def write_dependents(self) -> None:
        """What a kind writes after the persons and households (a roster's memberships)."""

    def clear_dependents(self) -> None:
        """Forget what write_dependents had queued (after every flush, written or not)."""

    def row_of_refusal(self, refusal: dberrors.Refusal) -> int | None:
        """The file's row behind the object the database refused (called once the import's
        transaction is rolled back): the line of a COPY, or the object holding the key of a
        unique violation — named by the error's detail, or, as under row-level security
        PostgreSQL leaves the key out, found by reading who holds the key now."""
        batch = self.refused_batch
        line = dberrors.copy_line(refusal)
        if line and line <= len(batch):
            return self.object_rows.get(id(batch[line - 1]))
        key = dberrors.conflict_key(refusal)
        for obj in batch if key else ():
            if all(str(getattr(obj, column, None)) == value for column, value in key.items()):
                return self.object_rows.get(id(obj))
        conflicting = self.holding_the_key(batch, refusal.constraint)
        return self.object_rows.get(id(conflicting)) if conflicting is not None else None

    def holding_the_key(self, batch: list, name: str):
        """The first object of the batch whose unique key another row holds now."""
        if not batch or not name:
            return None
        model = model_of(batch)
        constraint = next((c for c in model._meta.constraints if c.name == name), None)
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields:
            return None
        columns = [model._meta.get_field(f).attname for f in constraint.fields]
        county = Scope(
            county_id=self.target.county_id, node_id=self.target.county_id, level=Level.COUNTY
        )
        with activate(county):  # the key's holder may live anywhere in the county
            holders = model._default_manager.filter(
                **{f"{columns[-1]}__any_of": list({getattr(o, columns[-1]) for o in batch})}
            )
            if constraint.condition is not None:
                holders = holders.filter(constraint.condition)
            held = {tuple(v[1:]): v[0] for v in holders.values_list("pk", *columns)}
        for obj in batch:
            holder = held.get(tuple(getattr(obj, column) for column in columns))
            if holder is not None and holder != obj.pk:
                return obj
        return None

    def write_mother_links(self) -> None:
        """Link each queued child to a mother who has her id by now; a mother of a later
        batch of rows is linked by a later flush (the last one comes after every row)."""
        linked, waiting = [], []
        for person, number in self.mother_links:
            mother = self.persons.get(number)
            if mother is not None and mother.pk is not None:
                person.mother = self.editable(mother)
                linked.append(person)
            else:
                waiting.append((person, number))
        self.mother_links = waiting
        self.update(linked, ["mother"])

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors():
            return  # rolled back: nothing to record
        self.refresh_categories()
        changes = ChangeRows(self.actor)
        for obj, action, before in self.touched.values():
            changes.add(
                node=self.nodes[obj.group_id or obj.village_id],
                obj=obj,
                action=action,
                before=before,
                after=snapshot(obj, self.fields_of[model_of([obj])]),
            )
        changes.insert()

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
