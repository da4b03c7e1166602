from django.core.management.base import BaseCommand

from bonuses.demo import seed_history
from users.demo import DEMO_LOGINS, seed_employees


class Command(BaseCommand):
    help = "Load the demo company (idempotent: a second run adds nothing) and print the demo logins."

    def handle(self, *args, **options):
        added = seed_employees()
        self.stdout.write(f"Demo employees: {added} added." if added else "Demo employees: already there.")
        entries = seed_history()
        self.stdout.write(
            f"Demo bonus history: {entries} log entries." if entries else "Demo bonus history: already there."
        )
        self.stdout.write(self.style.SUCCESS("Demo logins (password after the slash):"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<18} {login.email} / {login.password}")
