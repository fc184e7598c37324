"""Birth order (孩次) of the births of a period: the newborn's place among its mother's children.

A newborn's order counts the MOTHER's children born before it (一孩 = her first). The mother is
the one recorded on the person (``Person.mother``); where none is recorded she is derived from
the household relations, and where she cannot be derived the order is unknown (``None``,
shown as 未知) rather than guessed.

Who counts as one mother's children ("the sibling set"), for any person P:

1. P has a recorded mother M: P belongs to M's children. If M is the head or the spouse of her
   household, M's children are also that household's sons and daughters without a recorded
   mother (rule 2); if M is the middle-generation woman of her household's single couple
   (rule 3: the child-in-law, or an ever-married daughter), they are also that household's
   grandchildren without a recorded mother. So a newborn entered with its mother after its
   elder siblings were imported without one still counts them.
2. No recorded mother, relation 子/女 (son/daughter of the head): the head's sons and daughters
   in the same household; their mother is the head or the spouse. Sons and daughters whose
   recorded mother is someone else (a half-sibling) are not counted.
3. No recorded mother, relation 孙子女 (grandchild): the household's grandchildren, but only
   when the household's middle generation is a single couple, i.e. it has at most one 儿媳/女婿
   (child_in_law, whatever their marital status) and at most one son or daughter of the head
   who is or has been married (婚姻状况 not 未婚), and at least one of the two. Then every
   grandchild of the household is that couple's child. Otherwise (two married sons, a married
   son and a divorced daughter back home, no middle generation recorded at all) the parents
   of a grandchild cannot be told apart: order unknown.
4. Anyone else without a recorded mother (the head, the spouse, 父母, 兄弟姐妹, 其他, no relation,
   no household): order unknown.

The order is 1 + the number of persons of the same sibling set born earlier (the same day:
entered earlier, by id, so twins are 1 and 2). Deceased children count: order counts live
births, not living children. Limits: only children on this registry and visible in the
viewer's scope are counted (the page's notes say so), and a child without a recorded mother
who now lives in another household (a daughter married away) is not found by rule 2.

Set-based: three queries for any node and period (the births; the persons of their
households; the children of those households' women), then the sibling sets are built in
memory.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from .categories import Relation
from .models import MaritalStatus, Person

CHILDREN = (Relation.SON, Relation.DAUGHTER)
PARENTS_OF_CHILDREN = (Relation.HEAD, Relation.SPOUSE)
# The middle generation of a three-generation household: the head's married sons and
# daughters and their spouses.
CHILD_IN_LAW = Relation.CHILD_IN_LAW


class Kin(NamedTuple):
    """What the rules read of a person (a row of `values_list(*Kin._fields)`)."""

    id: int
    household_id: int | None
    relation_to_head: str
    marital_status: str
    birth_date: datetime.date
    mother_id: int | None

    @property
    def relation(self) -> str:
        return self.relation_to_head

    @property
    def married_ever(self) -> bool:
        return self.marital_status != MaritalStatus.UNMARRIED


def _kin(row: dict) -> Kin:
    return Kin._make(row[field] for field in Kin._fields)


class SiblingSets:
    """The sibling set (a hashable key) of each person fetched, by the rules of the module.

    `complete` names the households whose every person was fetched: only for those can the
    household rules (2, 3) be applied. The births' own households and their mothers' are."""

    def __init__(self, people: Iterable[Kin], complete: set[int]):
        self.people = {p.id: p for p in people}
        households: dict[int, list[Kin]] = {h: [] for h in complete}
        for person in self.people.values():
            if person.household_id in households:
                households[person.household_id].append(person)
        self.single_couple = {h: _single_couple(members) for h, members in households.items()}

    def key(self, person: Kin) -> tuple | None:
        if person.mother_id is not None:
            return self._mother_key(person.mother_id)
        household = person.household_id
        if household not in self.single_couple:
            return None
        if person.relation in CHILDREN:
            return ("children", household)
        if person.relation == Relation.GRANDCHILD and self.single_couple.get(household):
            return ("grandchildren", household)
        return None

    def _mother_key(self, mother_id: int) -> tuple:
        mother = self.people.get(mother_id)
        if mother is not None and mother.household_id in self.single_couple:
            if mother.relation in PARENTS_OF_CHILDREN:
                return ("children", mother.household_id)
            if self.single_couple.get(mother.household_id) and _in_middle_couple(mother):
                return ("grandchildren", mother.household_id)
        return ("mother", mother_id)


def _in_middle_couple(person: Kin) -> bool:
    return person.relation == CHILD_IN_LAW or (person.relation in CHILDREN and person.married_ever)


def _single_couple(members: list[Kin]) -> bool:
    in_laws = sum(1 for p in members if p.relation == CHILD_IN_LAW)
    married_children = sum(1 for p in members if p.relation in CHILDREN and p.married_ever)
    return in_laws <= 1 and married_children <= 1 and in_laws + married_children >= 1


TABLE = Person._meta.db_table


def _any(column: str, ids: set[int]) -> RawSQL:
    """`column = ANY(ids)`: one array parameter however many ids there are (a county's year
    can pass tens of thousands, beyond what an IN list of parameters allows)."""
    return RawSQL(f'"{TABLE}"."{column}" = ANY(%s)', (sorted(ids),), output_field=BooleanField())


def _candidates(rows: list[dict]) -> tuple[list[Kin], set[int]]:
    """Everyone who could be a sibling or the mother of one of the births (a person may come
    twice), and the households fetched whole: the persons of the births' households and of
    their mothers' households (one query), then the children of the women among them and of
    the births' recorded mothers (one query). Each query reads an index with one array of
    ids, unsorted (the model's default ordering would join and sort for nothing)."""
    households = {row["household_id"] for row in rows} | {
        row["mother__household_id"] for row in rows
    }
    households.discard(None)
    in_households = Person.objects.filter(_any("household_id", households)).order_by()
    people = [
        (Kin._make(row[:-1]), row[-1]) for row in in_households.values_list(*Kin._fields, "sex")
    ]
    women = {person.id for person, sex in people if sex == "female"}
    women |= {row["mother_id"] for row in rows if row["mother_id"] is not None}
    kin = [person for person, _ in people]
    if women:
        children = Person.objects.filter(_any("mother_id", women)).order_by()
        kin += map(Kin._make, children.values_list(*Kin._fields))
    return kin, households


def births_with_order(births: QuerySet[Person], fields: Iterable[str]) -> Iterator[dict]:
    """The births as dicts of `fields`, each with "order": 1, 2, 3, … or None (unknown)."""
    rows = list(births.order_by().values(*fields, *Kin._fields, "mother__household_id"))
    if not rows:
        return
    people, complete = _candidates(rows)
    sets = SiblingSets(people, complete)
    members: dict[tuple, list[tuple]] = defaultdict(list)
    for person in sets.people.values():
        key = sets.key(person)
        if key is not None:
            members[key].append((person.birth_date, person.id))
    for row in rows:
        newborn = _kin(row)
        key = sets.key(newborn)
        row["order"] = (
            None
            if key is None
            else 1 + sum(1 for born in members[key] if born < (newborn.birth_date, newborn.id))
        )
        yield row
