from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_targets")]

    operations = [
        migrations.AddField(
            model_name="snapshotnode",
            name="population_figures",
            field=models.JSONField(blank=True, default=dict, verbose_name="人口统计"),
        ),
    ]
