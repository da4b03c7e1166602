"""The shop (bonuses.shop, label "shop") and the e-mail outbox (giftshop.outbox, label "outbox") are apps of
their own, with the same tables: this removes their models from the bonuses app's state only, after the
idempotency key's order points at shop.Order (the same table, so no column or constraint changes)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bonuses', '0010_amount_and_calendar_limits'),
        ('shop', '0001_initial'),
        ('outbox', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='idempotencykey',
                    name='order',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.order'),
                ),
                migrations.DeleteModel(name='Order'),
                migrations.DeleteModel(name='ConfirmationCode'),
                migrations.DeleteModel(name='CodeGuard'),
                migrations.DeleteModel(name='Gift'),
                migrations.DeleteModel(name='Category'),
                migrations.DeleteModel(name='OutgoingEmail'),
            ],
            database_operations=[],
        ),
    ]
