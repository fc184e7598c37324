"""associations.bulk.insert_many: large batches go by COPY through a staging table, small ones
by bulk_create; both give ids, keep every value, stay inside the scope and fail whole."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from associations import bulk
from associations.history import (
    ChangeRows,
    build_change,
    record_changes,
    record_changes_of_rows,
    snapshot,
)
from associations.models import ChangeRecord
from associations.scope import NoActiveScope, Scope, activate
from households.models import Household, Person

pytestmark = pytest.mark.django_db

LARGE = bulk.COPY_FROM_ROWS + 20


def households(village, count, *, prefix="B"):
    made = []
    for n in range(count):
        household = Household(
            number=f"{prefix}{n:05d}",
            address=f"测试路{n}号",
            phone="13800000000" if n % 2 else "",
            categories=["two_daughters", "one_child"] if n % 3 == 0 else [],
            categories_refreshed_on=datetime.date(2026, 5, 29),
        )
        household.place_under(village)
        made.append(household)
    return made


def test_a_large_batch_goes_by_copy_and_keeps_every_value(world):
    village = world.a.villages[1]
    made = households(village, LARGE)
    with world.a.scope(), CaptureQueriesContext(connection) as queries:
        bulk.insert_many(made)
    assert not any(
        q["sql"].startswith('INSERT INTO "households_household" (') and "VALUES" in q["sql"]
        for q in queries.captured_queries
    )
    assert len(queries) < 10  # ids, staging table, COPY, INSERT … SELECT, drop: not per row
    assert all(h.pk for h in made) and len({h.pk for h in made}) == LARGE
    assert all(not h._state.adding for h in made)
    with world.a.scope():
        stored = {
            h.pk: h for h in Household.objects.filter(village=village, number__startswith="B")
        }
    assert set(stored) == {h.pk for h in made}
    first, second = stored[made[0].pk], stored[made[1].pk]
    assert first.categories == ["two_daughters", "one_child"] and second.categories == []
    assert (first.number, first.address, first.phone) == ("B00000", "测试路0号", "")
    assert second.phone == "13800000000"
    assert first.categories_refreshed_on == datetime.date(2026, 5, 29)
    assert first.created_at is not None and first.updated_at is not None
    assert (first.county_id, first.township_id, first.village_id) == (
        village.county_id,
        village.township_id,
        village.pk,
    )


def test_a_small_batch_is_an_ordinary_insert_with_ids(world):
    made = households(world.a.villages[1], 3)
    with world.a.scope():
        bulk.insert_many(made)
        assert Household.objects.filter(pk__in=[h.pk for h in made]).count() == 3


def test_change_records_in_bulk_keep_their_json(world):
    village = world.a.villages[1]
    admin = world.a.users["county_admin"]
    made = households(village, LARGE, prefix="J")
    with world.a.scope():
        bulk.insert_many(made)
        records = [
            build_change(
                actor=admin,
                node=village,
                obj=h,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after={"number": h.number, "categories": h.categories, "地址": h.address},
            )
            for h in made
        ]
        record_changes(records)
        stored = ChangeRecord.objects.get(pk=records[0].pk)
    assert stored.before is None
    assert stored.after == {
        "number": "J00000",
        "categories": ["two_daughters", "one_child"],
        "地址": "测试路0号",
    }
    assert stored.object_id == made[0].pk and stored.actor_id == admin.pk


def test_rows_outside_the_scope_are_refused_before_anything_is_written(world):
    inside = households(world.a.villages[0], LARGE - 1, prefix="S")
    foreign = households(world.b.villages[0], 1, prefix="S")
    with world.a.scope():
        with pytest.raises(bulk.OutsideScope, match="有 1 条家庭户不在当前账号的管理范围内"):
            bulk.insert_many(inside + foreign)
        assert not Household.objects.filter(number__startswith="S").exists()
    # A sibling village is outside a village's scope too.
    sibling = households(world.a.villages[1], LARGE, prefix="S")
    with activate(Scope.for_node(world.a.villages[0])), pytest.raises(bulk.OutsideScope):
        bulk.insert_many(sibling)


def test_no_scope_no_insert(world):
    with pytest.raises(NoActiveScope):
        bulk.insert_many(households(world.a.villages[0], LARGE))


def test_a_refused_row_fails_the_whole_batch_with_an_integrity_error(world):
    village = world.a.villages[1]
    made = households(village, LARGE, prefix="D")
    made[-1].number = made[0].number  # the household number is unique in its village
    with world.a.scope():
        with pytest.raises(IntegrityError), transaction.atomic():
            bulk.insert_many(made)
        # The failure rolled back to its savepoint: the connection goes on working.
        assert not Household.objects.filter(number__startswith="D").exists()
        again = households(village, LARGE, prefix="D")
        bulk.insert_many(again)
        assert Household.objects.filter(number__startswith="D").count() == LARGE


def test_a_snapshot_is_what_json_would_give_back(world):
    """Change records hold JSON-safe values: the same as a round trip through the encoder."""
    import json
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    from associations.history import snapshot
    from households.models import AssistanceRecord

    record = AssistanceRecord(
        household=world.a.households[0],
        kind="relief",
        given_on=datetime.date(2026, 5, 29),
        amount=Decimal("300.50"),
        given_by="县计生协",
    )
    record.place_under(world.a.villages[0])
    household = households(world.a.villages[0], 1)[0]
    for obj in (record, household):
        expected = {
            f.name: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            # encryption at rest: a blind index is no part of a change
            if f.name not in {"id", "created_at", "updated_at"} and not f.name.endswith("_index")
        }
        assert snapshot(obj) == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
    assert snapshot(record)["amount"] == "300.50" and snapshot(record)["given_on"] == "2026-05-29"
    assert snapshot(household, ["number", "categories"]) == {
        "number": "B00000",
        "categories": ["two_daughters", "one_child"],
    }


def household_rows(village, count, *, prefix="R"):
    """The same households as `households` gives, as bulk.Rows (no model instances)."""
    made = []
    for n in range(count):
        row = bulk.row_class(Household)(
            number=f"{prefix}{n:05d}",
            address=f"测试路{n}号",
            categories=["one_child"] if n % 3 == 0 else [],
        )
        row.place_under(village)
        made.append(row)
    return made


@pytest.mark.parametrize("count", [3, LARGE])
def test_rows_go_in_like_model_instances_with_ids_and_defaults(world, count):
    """Rows by COPY (large) or by bulk_create (small): each gets its id, the defaults of the
    fields it was not given, and its timestamps."""
    village = world.a.villages[1]
    made = household_rows(village, count)
    assert made[1].categories == [] and made[1].phone == "" and made[1].head_id is None
    with world.a.scope():
        bulk.insert_many(made)
        stored = {h.pk: h for h in Household.objects.filter(number__startswith="R")}
    assert set(stored) == {row.pk for row in made} and len(stored) == count
    first = stored[made[0].pk]
    assert (first.number, first.address, first.phone, first.categories) == (
        "R00000",
        "测试路0号",
        "",
        ["one_child"],
    )
    assert first.residency == Household._meta.get_field("residency").default
    assert first.created_at is not None and first.village_id == village.pk


def test_rows_outside_the_scope_are_refused_too(world):
    with world.a.scope(), pytest.raises(bulk.OutsideScope):
        bulk.insert_many(household_rows(world.b.villages[0], LARGE))


def test_change_rows_without_ids_get_the_tables_ids_and_keep_their_json(world):
    """history.ChangeRows: what build_change gives, as plain rows, inserted without reading
    their ids back (one query less)."""
    village = world.a.villages[1]
    admin = world.a.users["county_admin"]
    made = households(village, LARGE, prefix="K")
    with world.a.scope():
        bulk.insert_many(made)
        changes = ChangeRows(admin)
        for h in made:
            changes.add(
                node=village,
                obj=h,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after={"number": h.number, "地址": h.address},
            )
        with CaptureQueriesContext(connection) as queries:
            changes.insert()
        assert not any("nextval" in q["sql"] for q in queries.captured_queries)
        stored = ChangeRecord.objects.get(object_type="households.Household", object_id=made[0].pk)
        expected = build_change(
            actor=admin,
            node=village,
            obj=made[0],
            action=ChangeRecord.Action.CREATE,
            before=None,
            after={"number": "K00000", "地址": "测试路0号"},
        )
    fields = ["object_label", "action", "actor_id", "actor_label", "source", "before", "after"]
    fields += ["node_id", "county_id", "township_id", "village_id", "group_id"]
    assert {f: getattr(stored, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert stored.after == {"number": "K00000", "地址": "测试路0号"} and stored.at is not None


def test_json_by_copy_reads_back_as_the_same_values(world):
    """A large batch writes JSON fields as json.dumps text through COPY: what comes back is
    what went in — SQL NULL for None, empty objects and lists, nesting, numbers, Chinese."""
    village = world.a.villages[1]
    admin = world.a.users["county_admin"]
    made = households(village, LARGE, prefix="N")
    values = [
        {},
        [],
        {"a": None, "b": [1, 2.5, "三"], "c": {"d": True}},
        "文本",
        0,
        {"地址": "测试路\t1号\n", "quote": 'say "hi" \\ back'},
    ]
    with world.a.scope():
        bulk.insert_many(made)
        changes = ChangeRows(admin)
        for n, h in enumerate(made):
            changes.add(
                node=village,
                obj=h,
                action=ChangeRecord.Action.CREATE,
                before=None,
                after=values[n % len(values)],
            )
        changes.insert()
        stored = dict(
            ChangeRecord.objects.filter(
                object_type="households.Household", object_id__in=[h.pk for h in made]
            ).values_list("object_id", "after")
        )
        nulls = ChangeRecord.objects.filter(
            object_type="households.Household",
            object_id__in=[h.pk for h in made],
            before__isnull=True,
        ).count()
    assert [stored[h.pk] for h in made] == [values[n % len(values)] for n in range(len(made))]
    assert nulls == len(made)  # None is SQL NULL, not JSON null


def test_change_records_of_rows_are_what_build_change_gives(world):
    """history.record_changes_of_rows: the records of a queryset's rows, written by one
    INSERT … SELECT, hold what build_change and snapshot give each row in Python: the label,
    the node, the place, dates as text, foreign keys as ids, SQL NULL for no `before`."""
    village = world.a.villages[1]
    admin = world.a.users["county_admin"]
    made = households(village, 3, prefix="Q")
    with world.a.scope():
        bulk.insert_many(made)
        rows = Household.objects.filter(pk__in=[h.pk for h in made])
        label = Concat("number", Value("户"), output_field=CharField())
        fields = ["number", "address", "head", "categories_refreshed_on"]
        with CaptureQueriesContext(connection) as queries:
            written = record_changes_of_rows(
                admin, rows, action="create", label=label, before=None, after=fields
            )
            updated = record_changes_of_rows(
                admin, rows, action="update", label=label, before={"地址": "旧"}, after={"a": 1}
            )
        assert (written, updated, len(queries)) == (3, 3, 2)
        stored = ChangeRecord.objects.filter(
            object_type="households.Household", object_id=made[0].pk
        )
        created, changed = stored.get(action="create"), stored.get(action="update")
        expected = build_change(
            actor=admin,
            node=village,
            obj=made[0],
            action=ChangeRecord.Action.CREATE,
            before=None,
            after=snapshot(made[0], fields),
        )
    compared = ["object_label", "actor_id", "actor_label", "source", "before", "after"]
    compared += ["node_id", "county_id", "township_id", "village_id", "group_id"]
    assert {f: getattr(created, f) for f in compared} == {f: getattr(expected, f) for f in compared}
    assert created.after == {
        "number": "Q00000",
        "address": "测试路0号",
        "head": None,
        "categories_refreshed_on": "2026-05-29",
    }
    assert created.before is None and created.at is not None
    assert (changed.before, changed.after) == ({"地址": "旧"}, {"a": 1})


def test_change_records_of_no_rows_or_of_encrypted_fields(world):
    admin = world.a.users["county_admin"]
    label = Value("x", output_field=CharField())
    with world.a.scope():
        nothing = Household.objects.filter(pk__in=[])  # a filter that can match nothing
        assert (
            record_changes_of_rows(
                admin, nothing, action="update", label=label, before=None, after={}
            )
            == 0
        )
        people = Person.objects.all()
        with pytest.raises(ValueError, match="encrypted"):
            record_changes_of_rows(
                admin, people, action="update", label=label, before=None, after=["id_number"]
            )
    with pytest.raises(NoActiveScope):
        bulk.insert_select(ChangeRecord, Household.objects.none(), {"object_id": "pk"})
