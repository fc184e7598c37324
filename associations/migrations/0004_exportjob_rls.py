from django.db import migrations

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):
    dependencies = [("associations", "0003_exportjob")]

    operations = [enable_row_level_security("associations_exportjob")]
