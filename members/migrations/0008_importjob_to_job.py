from django.db import migrations

from associations.job_migration import ImportJobCopy


def copy_import_jobs(apps, schema_editor):
    """Every import record becomes a job; its upload moves into the job's folder."""
    ImportJobCopy(apps, schema_editor).run()


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_list_order_indexes"),
        ("associations", "0008_job"),
    ]

    operations = [
        migrations.RunPython(copy_import_jobs, migrations.RunPython.noop),
        migrations.DeleteModel(name="ImportJob"),
    ]
