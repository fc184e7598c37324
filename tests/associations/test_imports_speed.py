"""What keeps a 10,000-row import near the floor without changing what it does: the persons
and memberships it compares with read as stored tuples (a model only for a row that
changes), and the heap that exists before it left out of the collector's full passes."""

from __future__ import annotations

import gc

import pytest

from associations.imports import RowReader, choice
from associations.imports.stored import is_stored, read_stored, stored_class
from households.import_rows import RosterResource
from households.models import Person

from ..members.test_import import person_row, run

pytestmark = pytest.mark.django_db


def test_a_stored_person_is_the_person_and_becomes_the_model_on_demand(world):
    with world.a.scope():
        person = world.a.persons[0]
        stored = read_stored(Person.objects.filter(pk=person.pk))[0]
        assert is_stored(stored) and stored.pk == person.pk
        assert (stored.name, stored.village_id, stored.birth_date) == (
            person.name,
            person.village_id,
            person.birth_date,
        )
        model = stored.as_model()
        assert isinstance(model, Person) and not model._state.adding
        fields = stored_class(Person).fields
        assert all(getattr(model, f) == getattr(person, f) for f in fields)
        # The timestamps are not read: an import sets updated_at itself.
        assert {"created_at", "updated_at"} <= model.get_deferred_fields()


def test_the_heap_is_frozen_while_an_import_runs_and_thawed_after(world, monkeypatch):
    seen = []
    original = RosterResource.before_import

    def before_import(resource, dataset, **kwargs):
        seen.append(gc.get_freeze_count())
        original(resource, dataset, **kwargs)

    monkeypatch.setattr(RosterResource, "before_import", before_import)
    assert gc.get_freeze_count() == 0
    assert run(world, [person_row(1)]).new == 1
    assert seen[0] > 0 and gc.get_freeze_count() == 0


def test_a_heap_the_server_froze_stays_frozen(world):
    gc.freeze()
    try:
        assert run(world, [person_row(1)]).new == 1
        assert gc.get_freeze_count() > 0  # (what was freed meanwhile left it, nothing more)
    finally:
        gc.unfreeze()


def test_a_cached_cell_is_parsed_once_per_value_and_problems_repeat_per_row():
    calls = []

    def parser(value):
        calls.append(value)
        return choice(value, {"男": "male"}, "性别")

    cache: dict = {}
    headers = {"sex": "性别"}
    readers = [
        RowReader({"__row": n, "sex": value}, headers, cache)
        for n, value in enumerate(["男", "?", "男", "?", 1, 1.0], start=2)
    ]
    results = [r.parsed("sex", parser, cached=True) for r in readers]
    assert results[:4] == ["male", None, "male", None]
    assert calls == ["男", "?", 1, 1.0]  # 1 and 1.0 are distinct cells, each parsed once
    problems = [p for r in readers for p in r.problems]
    assert [(p.row_number, p.code) for p in problems] == [
        (3, "CHOICE_INVALID"),
        (5, "CHOICE_INVALID"),
        (6, "CHOICE_INVALID"),
        (7, "CHOICE_INVALID"),
    ]
    assert problems[0].message == problems[1].message == "“?”不是有效的性别。可填:男。"
