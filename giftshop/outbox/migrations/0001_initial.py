"""The outbox moves out of the bonuses app, keeping its table (bonuses_outgoingemail): this creates the
model in the outbox app's state only; bonuses 0011 removes it from the bonuses app's state."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("bonuses", "0010_amount_and_calendar_limits"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutgoingEmail",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("recipient", models.EmailField(max_length=254, verbose_name="to")),
                        ("subject", models.CharField(max_length=255, verbose_name="subject")),
                        ("body", models.TextField(verbose_name="body")),
                        ("html_body", models.TextField(blank=True, default="", help_text="Empty: plain text only.", verbose_name="HTML body")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="queued at")),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                        ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="failed attempts")),
                        ("last_error", models.TextField(blank=True, verbose_name="last error")),
                    ],
                    options={
                        "verbose_name": "outgoing e-mail",
                        "verbose_name_plural": "outgoing e-mails",
                        "db_table": "bonuses_outgoingemail",
                        "indexes": [models.Index(condition=models.Q(("sent_at__isnull", True)), fields=["id"], name="outgoing_email_waiting")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
