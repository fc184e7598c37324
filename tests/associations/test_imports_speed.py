"""What keeps a 10,000-row import near the floor without changing what it does: the persons
and memberships it compares with read as stored tuples (a model only for a row that
changes), and the heap that exists before it left out of the collector's full passes."""

from __future__ import annotations

import gc

import pytest

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
