"""Group ratings (五好小组 / 五有小组) of an assessment period, with row-level security, and the
performance pay fields of a scheme version (合格 share, commendation bonus).

The freeze trigger of migration 0002 (reports_refuse_frozen_version) compares the whole row
as JSON less state and retired_at, so the two new columns of a version in use are frozen with
the rest without changing it (tests/reports/test_group_pay.py checks it). Adding the columns
with a default rewrites no row through UPDATE, so frozen versions take the defaults."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from associations.rls import enable_row_level_security


class Migration(migrations.Migration):

    dependencies = [
        ('associations', '0009_councilattachment'),
        ('reports', '0005_targets'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GroupRating',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('lead_good', models.BooleanField(default=False, verbose_name='带头作用好')),
                ('publicity_good', models.BooleanField(default=False, verbose_name='宣传服务好')),
                ('information_good', models.BooleanField(default=False, verbose_name='信息掌握好')),
                ('policy_good', models.BooleanField(default=False, verbose_name='国策落实好')),
                ('activity_good', models.BooleanField(default=False, verbose_name='活动开展好')),
                ('has_venue', models.BooleanField(default=False, verbose_name='有活动场所')),
                ('has_services', models.BooleanField(default=False, verbose_name='有服务项目')),
                ('has_rules', models.BooleanField(default=False, verbose_name='有活动制度')),
                ('has_team', models.BooleanField(default=False, verbose_name='有宣传队伍')),
                ('has_equipment', models.BooleanField(default=False, verbose_name='有文体器材')),
                ('note', models.CharField(blank=True, max_length=300, verbose_name='备注')),
                ('rated_at', models.DateTimeField(auto_now=True, verbose_name='评定时间')),
            ],
            options={
                'verbose_name': '小组评定',
                'verbose_name_plural': '小组评定',
                'ordering': ['period', 'node'],
            },
        ),
        migrations.AddField(
            model_name='schemeversion',
            name='commendation_bonus',
            field=models.DecimalField(decimal_places=2, default=0, help_text='总分全县前三名的村,会长和小组长每人另发的表扬奖励;0 为不设。', max_digits=8, verbose_name='全县前三名表彰奖励(元/人)'),
        ),
        migrations.AddField(
            model_name='schemeversion',
            name='qualified_pay_share',
            field=models.DecimalField(decimal_places=2, default=80, help_text='年终考核为合格村协会的,会长和小组长全年预留绩效工资按此比例发放;一流村协会全额发放,不合格不发放。', max_digits=5, verbose_name='合格村绩效工资发放比例(%)'),
        ),
        migrations.AddConstraint(
            model_name='schemeversion',
            constraint=models.CheckConstraint(condition=models.Q(('qualified_pay_share__gte', 0), ('qualified_pay_share__lte', 100), ('commendation_bonus__gte', 0)), name='scheme_version_pay_share_range', violation_error_message='发放比例应在 0 至 100 之间,表彰奖励不能为负数。'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='county',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='associations.association', verbose_name='县'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='group',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='associations.association', verbose_name='会员小组'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='associations.association', verbose_name='会员小组'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='group_ratings', to='reports.assessmentperiod', verbose_name='考核期'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='rated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='评定人'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='township',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='associations.association', verbose_name='乡镇'),
        ),
        migrations.AddField(
            model_name='grouprating',
            name='village',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='associations.association', verbose_name='村(社区)'),
        ),
        migrations.AddConstraint(
            model_name='grouprating',
            constraint=models.UniqueConstraint(fields=('county', 'period', 'node'), name='group_rating_once_per_period'),
        ),
        enable_row_level_security("reports_grouprating"),
    ]
