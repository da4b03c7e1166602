from django.core.management.base import BaseCommand, CommandError

from bonuses.models import Account
from bonuses.selectors import ledger_problems


class Command(BaseCommand):
    help = "Verify every account's identities (SPEC.md section 5); list the failing ones and exit non-zero."

    def handle(self, *args, **options):
        checked = failed = 0
        for account in Account.objects.select_related("user", "currency").order_by("pk").iterator(chunk_size=2000):
            checked += 1
            problems = ledger_problems(account)
            if problems:
                failed += 1
                self.stdout.write(
                    self.style.ERROR(f"{account.user.email} [{account.currency}] (account {account.pk}):")
                )
                for problem in problems:
                    self.stdout.write(f"  - {problem}")
        if failed:
            raise CommandError(f"{failed} of {checked} accounts fail the ledger identities.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} accounts balance."))
