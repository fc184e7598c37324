from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]

    operations = [
        enable_row_level_security(
            "activities_theme",
            "activities_themedday",
            "activities_material",
            "activities_activity",
            "activities_attendance",
            "activities_materialhandout",
            "activities_homevisit",
        )
    ]
