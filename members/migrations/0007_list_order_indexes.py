"""The member list's order (village, group, 会员证号, id) at county, township and village
scope, read off an index instead of a sort of every member. Built CONCURRENTLY: the table
stays writable meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0006_file_retention"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(
                fields=["county", "village", "group", "member_number", "id"],
                name="member_list_order",
            ),
        ),
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(
                fields=["township", "village", "group", "member_number", "id"],
                name="member_township_order",
            ),
        ),
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(
                fields=["village", "group", "member_number", "id"], name="member_village_order"
            ),
        ),
    ]
