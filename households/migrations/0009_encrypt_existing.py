"""Encrypt the ID numbers and phones stored before 0008, in batches of 1000 rows, each batch
committed on its own (the migration is not atomic): interrupted, it resumes where it stopped
(rows whose blind index is still empty). The change records written before keep them masked
from now on, as new ones do. Every county's rows: row-level security is forced
on these tables, for their owner too."""

from django.db import migrations

TABLES = {
    "households_person": ("id_number", "phone"),
    "households_household": ("phone",),
}


def _tables():
    from associations.reencrypt import Column, Table

    return [
        Table(name, tuple(Column(c, f"{c}_index") for c in columns))
        for name, columns in TABLES.items()
    ]


def encrypt(apps, schema_editor):
    from associations.reencrypt import encrypt_plain
    from associations.scope import UnscopedReason, unscoped

    with unscoped(reason=UnscopedReason.SCHEMA_MIGRATION):
        for table in _tables():
            encrypt_plain(table)


HISTORY_FIELDS = {
    "households.Person": {"id_number": "id", "phone": "phone"},
    "households.Household": {"phone": "phone"},
}


def _masked(values, fields):
    from households.identity import mask_id_number, mask_phone

    masks = {"id": mask_id_number, "phone": mask_phone}
    changed = False
    for name, kind in fields.items():
        value = (values or {}).get(name)
        if isinstance(value, str) and value and "*" not in value:
            values[name] = masks[kind](value)
            changed = True
    return changed


def mask_history(apps, schema_editor):
    """Change records written before: their ID numbers and phones masked, as new ones are
    stored (associations.history.at_rest), in batches by id."""
    import json

    from django.db import connection, transaction

    from associations.scope import UnscopedReason, unscoped

    with unscoped(reason=UnscopedReason.SCHEMA_MIGRATION):
        last = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, object_type, before, after FROM associations_changerecord "
                    "WHERE id > %s AND object_type = ANY(%s) ORDER BY id LIMIT 1000 FOR UPDATE",
                    [last, list(HISTORY_FIELDS)],
                )
                records = cursor.fetchall()
                if not records:
                    return
                for pk, object_type, before, after in records:
                    fields = HISTORY_FIELDS[object_type]
                    # Django reads jsonb as text
                    before = json.loads(before) if isinstance(before, str) else before
                    after = json.loads(after) if isinstance(after, str) else after
                    if _masked(before, fields) | _masked(after, fields):
                        cursor.execute(
                            "UPDATE associations_changerecord SET before = %s, after = %s "
                            "WHERE id = %s",
                            [
                                None if before is None else json.dumps(before),
                                None if after is None else json.dumps(after),
                                pk,
                            ],
                        )
                last = records[-1][0]


def decrypt(apps, schema_editor):
    from associations.reencrypt import decrypt_to_plain
    from associations.scope import UnscopedReason, unscoped

    with unscoped(reason=UnscopedReason.SCHEMA_MIGRATION):
        for table in _tables():
            decrypt_to_plain(table)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("households", "0008_encrypt_identifiers")]

    operations = [
        migrations.RunPython(encrypt, decrypt),
        migrations.RunPython(mask_history, migrations.RunPython.noop),
    ]
