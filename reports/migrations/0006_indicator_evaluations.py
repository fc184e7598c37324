"""Which evaluations (quarter, half-year, year) a scheme indicator counts in. The freeze
trigger of migration 0002 (reports_refuse_frozen_indicator) refuses every UPDATE of an
indicator of a version that is not a draft, whatever the column, so the new columns are frozen
with the version as they are added: nothing to extend. ADD COLUMN fires no row trigger; the
indicators of versions already in use keep counting in every evaluation, as they did."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('associations', '0009_councilattachment'),
        ('reports', '0005_targets'),
    ]

    operations = [
        migrations.AddField(
            model_name='schemeindicator',
            name='in_half',
            field=models.BooleanField(default=True, verbose_name='半年考核计分'),
        ),
        migrations.AddField(
            model_name='schemeindicator',
            name='in_quarter',
            field=models.BooleanField(default=True, verbose_name='季度考核计分'),
        ),
        migrations.AddField(
            model_name='schemeindicator',
            name='in_year',
            field=models.BooleanField(default=True, verbose_name='年度考核计分'),
        ),
        migrations.AddConstraint(
            model_name='schemeindicator',
            constraint=models.CheckConstraint(condition=models.Q(('in_quarter', True), ('in_half', True), ('in_year', True), _connector='OR'), name='scheme_indicator_counts_somewhere', violation_error_message='请至少选择一种考核(季度、半年或年度)。'),
        ),
    ]
