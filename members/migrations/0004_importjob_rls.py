from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("members", "0003_importjob")]

    operations = [enable_row_level_security("members_importjob")]
