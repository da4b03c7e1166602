from django.core.management.base import BaseCommand, CommandError

from bonuses.models import Account
from bonuses.selectors import ledger_problems, unreadable_figures

CHUNK = 2000


class Command(BaseCommand):
    help = "Verify every account's identities (SPEC.md section 5); list the failing ones and exit non-zero."

    def handle(self, *args, **options):
        checked = failed = 0
        # Ids, e-mails and currencies first: a row whose figures cannot be read fails alone, reported.
        heads = Account.objects.order_by("pk").values_list("pk", "user__email", "currency__name")
        for pk, email, currency in heads.iterator(chunk_size=CHUNK):
            checked += 1
            try:
                problems = ledger_problems(Account.objects.get(pk=pk))
            except ArithmeticError:  # decimal.InvalidOperation: a figure beyond what an amount can hold
                problems = unreadable_figures(pk) or ["its figures cannot be read as amounts"]
            if problems:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{email} [{currency}] (account {pk}):"))
                for problem in problems:
                    self.stdout.write(f"  - {problem}")
        if failed:
            raise CommandError(f"{failed} of {checked} accounts fail the ledger identities.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} accounts balance."))
