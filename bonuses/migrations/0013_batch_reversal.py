"""Reversing a batch (issue 11): the event type `reversed`, and a batch that reverses another (one-to-one,
so a batch is reversed at most once). Only new columns and choices: existing rows keep what they hold."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bonuses', '0012_account_state_changes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='batch',
            name='reverses',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversal', to='bonuses.batch', verbose_name='reverses'),
        ),
        migrations.AlterField(
            model_name='entry',
            name='kind',
            field=models.CharField(choices=[('manual_accrual', 'Accrued by the administrator'), ('manager_accrual', 'Accrued by a manager'), ('import_accrual', 'Accrued by import'), ('campaign_accrual', 'Accrued by campaign'), ('manual_write_off', 'Written off by the administrator'), ('order_reserved', 'Reserved for an order'), ('order_spent', 'Spent on an order'), ('order_released', 'Reservation released (order cancelled)'), ('order_refunded', 'Refunded (order returned)'), ('activated', 'Activated'), ('expired', 'Expired'), ('burned', 'Burned out for inactivity'), ('reversed', 'Reversed (a batch taken back)')], max_length=20, verbose_name='event type'),
        ),
        migrations.AddConstraint(
            model_name='entry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'reversed'), _negated=True), models.Q(('amount__lt', 0), ('batch__isnull', False), ('lot__isnull', False)), _connector='OR'), name='entry_reversal_of_a_batch_lot'),
        ),
    ]
