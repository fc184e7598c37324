from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("associations", "0001_initial")]

    operations = [
        enable_row_level_security(
            "associations_association",
            "associations_council",
            "associations_councilseat",
            "associations_changerecord",
        )
    ]
