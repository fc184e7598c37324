"""The person and household lists' order at township, village (and, for persons, group)
scope, read off an index instead of a sort of the scope's rows or a walk of the county in
household order. Built CONCURRENTLY: the tables stay writable meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("households", "0004_person_list_order"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="household",
            index=models.Index(
                fields=["township", "village", "number"], name="household_township_order"
            ),
        ),
        AddIndexConcurrently(
            model_name="household",
            index=models.Index(fields=["village", "number"], name="household_village_order"),
        ),
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                fields=["township", "village", "household", "birth_date", "id"],
                name="person_township_order",
            ),
        ),
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                fields=["village", "household", "birth_date", "id"], name="person_village_order"
            ),
        ),
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                fields=["group", "village", "household", "birth_date", "id"],
                name="person_group_order",
            ),
        ),
    ]
