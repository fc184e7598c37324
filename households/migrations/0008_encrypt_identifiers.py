"""Encryption at rest of ID numbers and phones (issue 12): the columns become text (they
hold `k1:` + base64 of the ciphertext), each gets its blind index column, and the
one-person-per-county constraint and the phone index move onto the blind indexes. The
values already stored are encrypted by 0009."""

import associations.encrypted_fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("associations", "0009_councilattachment"),
        ("households", "0007_identity_reads"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="person",
            name="person_id_unique_in_county",
        ),
        migrations.RemoveIndex(
            model_name="person",
            name="person_phone",
        ),
        migrations.AddField(
            model_name="household",
            name="phone_index",
            field=associations.encrypted_fields.BlindIndexField(source="phone"),
        ),
        migrations.AddField(
            model_name="person",
            name="id_number_index",
            field=associations.encrypted_fields.BlindIndexField(source="id_number"),
        ),
        migrations.AddField(
            model_name="person",
            name="phone_index",
            field=associations.encrypted_fields.BlindIndexField(source="phone"),
        ),
        migrations.AlterField(
            model_name="household",
            name="phone",
            field=associations.encrypted_fields.EncryptedCharField(
                blank=True, max_length=30, verbose_name="联系电话"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=associations.encrypted_fields.EncryptedCharField(
                blank=True, max_length=18, null=True, verbose_name="居民身份证号码"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="phone",
            field=associations.encrypted_fields.EncryptedCharField(
                blank=True, max_length=30, verbose_name="联系电话"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["county", "phone_index"], name="person_phone"),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                fields=("county", "id_number_index"), name="person_id_unique_in_county"
            ),
        ),
    ]
