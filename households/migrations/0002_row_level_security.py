from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]

    operations = [
        enable_row_level_security(
            "households_household",
            "households_person",
            "households_hardshipassessment",
            "households_assistancerecord",
            "households_relocation",
        )
    ]
