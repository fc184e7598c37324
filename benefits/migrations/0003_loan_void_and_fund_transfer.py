"""A loan issued by mistake can be voided (its status, date and reason); a fund can transfer
money to another fund: two ledger entries of source 'transfer' that name each other
(`counterpart`, a new nullable column filled at insert: the ledger's triggers of 0002 only
refuse UPDATE and DELETE, and the insert trigger moves the balance as for any entry)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('associations', '0011_all_counties_role'),
        ('benefits', '0002_row_level_security_and_ledger'),
        ('households', '0011_person_unit_statistics'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='fundentry',
            name='fund_expense_names_what_it_paid',
        ),
        migrations.AddField(
            model_name='fundentry',
            name='counterpart',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='benefits.fundentry', verbose_name='划拨的对方记录'),
        ),
        migrations.AddField(
            model_name='loan',
            name='void_reason',
            field=models.CharField(blank=True, max_length=100, verbose_name='冲正原因'),
        ),
        migrations.AddField(
            model_name='loan',
            name='voided_on',
            field=models.DateField(blank=True, null=True, verbose_name='冲正日期'),
        ),
        migrations.AlterField(
            model_name='fundentry',
            name='source',
            field=models.CharField(choices=[('government', '财政拨款'), ('donation', '捐赠'), ('repayment', '贷款回收'), ('disbursement', '扶助金发放'), ('loan', '贷款发放'), ('assistance', '帮扶救助'), ('reversal', '冲正'), ('transfer', '基金划拨'), ('other', '其他')], max_length=12, verbose_name='类别'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='status',
            field=models.CharField(choices=[('active', '还款中'), ('repaid', '已还清'), ('written_off', '已核销'), ('voided', '已冲正')], default='active', max_length=12, verbose_name='状态'),
        ),
        migrations.AddConstraint(
            model_name='fundentry',
            constraint=models.CheckConstraint(condition=models.Q(('direction', 'income'), ('disbursement__isnull', False), ('batch__isnull', False), ('loan__isnull', False), ('assistance__isnull', False), ('reverses__isnull', False), ('counterpart__isnull', False), _connector='OR'), name='fund_expense_names_what_it_paid'),
        ),
        migrations.AddConstraint(
            model_name='fundentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('source', 'transfer'), ('counterpart__isnull', False)), models.Q(models.Q(('source', 'transfer'), _negated=True), ('counterpart__isnull', True)), _connector='OR'), name='fund_transfer_names_its_counterpart'),
        ),
        migrations.AddConstraint(
            model_name='loan',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'voided'), ('voided_on__isnull', False)), models.Q(models.Q(('status', 'voided'), _negated=True), ('voided_on__isnull', True)), _connector='OR'), name='loan_voided_has_a_date'),
        ),
    ]
