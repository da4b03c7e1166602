"""The shop moves out of the bonuses app, keeping its tables (bonuses_category, bonuses_gift, bonuses_order,
bonuses_confirmationcode, bonuses_codeguard) and their indexes and constraints: this creates the models
in the shop app's state only; bonuses 0011 then points the idempotency key at shop.Order and removes
the models from the bonuses app's state."""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('bonuses', '0010_amount_and_calendar_limits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Category',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                    ],
                    options={
                        'verbose_name': 'category',
                        'verbose_name_plural': 'categories',
                        'db_table': 'bonuses_category',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='CodeGuard',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('wrong_entries', models.PositiveSmallIntegerField(default=0)),
                        ('blocked_until', models.DateTimeField(blank=True, null=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='code_guard', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'bonuses_codeguard',
                    },
                ),
                migrations.CreateModel(
                    name='Gift',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('description', models.TextField(blank=True, verbose_name='description')),
                        ('picture', models.ImageField(blank=True, upload_to='gifts/', verbose_name='picture')),
                        ('price', models.DecimalField(decimal_places=2, max_digits=14, validators=[django.core.validators.MaxValueValidator(Decimal('10000000.00'), 'The amount is more than 10,000,000, the maximum for one operation.')], verbose_name='price')),
                        ('stock', models.PositiveIntegerField(blank=True, help_text='Empty: unlimited.', null=True, verbose_name='stock')),
                        ('is_active', models.BooleanField(default=True, help_text='Inactive gifts are not in the shop.', verbose_name='active')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='gifts', to='shop.category', verbose_name='category')),
                        ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='gifts', to='bonuses.currency', verbose_name='currency')),
                    ],
                    options={
                        'verbose_name': 'gift',
                        'verbose_name_plural': 'gifts',
                        'db_table': 'bonuses_gift',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Order',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('quantity', models.PositiveIntegerField(verbose_name='quantity')),
                        ('unit_price', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='unit price')),
                        ('points', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='points')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('completed', 'Completed'), ('cancelled', 'Cancelled'), ('partially_returned', 'Partially returned'), ('returned', 'Returned')], default='pending', max_length=20, verbose_name='status')),
                        ('pickup_office', models.CharField(blank=True, max_length=100, verbose_name='pick-up office')),
                        ('delivery_comment', models.TextField(blank=True, max_length=1000, verbose_name='delivery comment')),
                        ('returned_quantity', models.PositiveIntegerField(default=0, verbose_name='returned')),
                        ('created_at', models.DateTimeField(verbose_name='placed at')),
                        ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                        ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled at')),
                        ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='bonuses.currency', verbose_name='currency')),
                        ('gift', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='shop.gift', verbose_name='gift')),
                        ('placed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='placed by')),
                        ('reservation', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='order', to='bonuses.reservation')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL, verbose_name='employee')),
                    ],
                    options={
                        'verbose_name': 'order',
                        'verbose_name_plural': 'orders',
                        'db_table': 'bonuses_order',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ConfirmationCode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code_hash', models.CharField(max_length=128)),
                        ('sent_at', models.DateTimeField()),
                        ('expires_at', models.DateTimeField()),
                        ('used_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='confirmation_codes', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'bonuses_confirmationcode',
                        'indexes': [models.Index(fields=['user', '-sent_at'], name='bonuses_con_user_id_951ec7_idx')],
                    },
                ),
                migrations.AddIndex(
                    model_name='gift',
                    index=models.Index(fields=['is_active', 'category', 'price'], name='bonuses_gif_is_acti_85a639_idx'),
                ),
                migrations.AddConstraint(
                    model_name='gift',
                    constraint=models.CheckConstraint(condition=models.Q(('price__gt', 0)), name='gift_price_positive'),
                ),
                migrations.AddConstraint(
                    model_name='gift',
                    constraint=models.CheckConstraint(condition=models.Q(('price__lte', Decimal('1000000000.00'))), name='gift_price_within_maximum'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['status', '-created_at'], name='bonuses_ord_status_d01513_idx'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['user', '-created_at'], name='bonuses_ord_user_id_f21704_idx'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='order_quantity_positive'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('returned_quantity__lte', models.F('quantity'))), name='order_return_within_quantity'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('unit_price__lte', Decimal('1000000000.00'))), name='order_unit_price_within_maximum'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.CheckConstraint(condition=models.Q(('points__lte', Decimal('1000000000.00'))), name='order_points_within_maximum'),
                ),
            ],
            database_operations=[],
        ),
    ]
