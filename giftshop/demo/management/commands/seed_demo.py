from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings

from giftshop.demo.catalog import seed_catalog
from giftshop.demo.employees import DEMO_LOGINS, seed_employees
from giftshop.demo.history import seed_history
from giftshop.outbox.models import OutgoingEmail


class Command(BaseCommand):
    help = "Load the demo company (idempotent: a second run adds nothing) and print the demo logins."

    # A year of demo history is no news to anyone: its e-mails go nowhere and leave the outbox.
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    def handle(self, *args, **options):
        queued_before = OutgoingEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        added = seed_employees()
        self.stdout.write(f"Demo employees: {added} added." if added else "Demo employees: already there.")
        entries = seed_history()
        self.stdout.write(
            f"Demo bonus history: {entries} entries." if entries else "Demo bonus history: already there."
        )
        orders = seed_catalog()
        self.stdout.write(f"Demo gift shop: {orders} orders." if orders else "Demo gift shop: already there.")
        OutgoingEmail.objects.filter(pk__gt=queued_before).delete()
        if added or entries or orders:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # the query planner's statistics, for the rows just loaded
        self.stdout.write(self.style.SUCCESS("Demo logins (password after the slash):"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<18} {login.email} / {login.password}")
