from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from bonuses.models import Account, Budget
from bonuses.selectors import budget_problems, ledger_problems, unreadable_figures

CHUNK = 2000


class Command(BaseCommand):
    help = (
        "Verify every account's identities (SPEC.md section 5) and every manager's budget (its figures are the "
        "sums of its movements); list the failing ones and exit non-zero."
    )

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
                self.report(f"{email} [{currency}] (account {pk}):", problems)
        budgets = budgets_failed = 0
        for budget in Budget.objects.select_related("manager", "currency").order_by("pk").iterator(chunk_size=CHUNK):
            budgets += 1
            problems = budget_problems(budget)
            if problems:
                budgets_failed += 1
                self.report(
                    f"{budget.manager.email} [{budget.currency}] (budget {budget.pk}, {budget.period_start}):", problems
                )
        if failed or budgets_failed:
            message = ngettext(
                "%(failed)d of %(total)d account fails the ledger identities.",
                "%(failed)d of %(total)d accounts fail the ledger identities.",
                checked,
            ) % {"failed": failed, "total": checked}
            if budgets_failed:
                message += " " + ngettext(
                    "%(failed)d of %(total)d budget fails its own.",
                    "%(failed)d of %(total)d budgets fail theirs.",
                    budgets,
                ) % {"failed": budgets_failed, "total": budgets}
            raise CommandError(message)
        accounts = ngettext("The %(count)d account balances.", "All %(count)d accounts balance.", checked)
        budget_line = ngettext("The %(count)d budget balances.", "All %(count)d budgets balance.", budgets)
        self.stdout.write(self.style.SUCCESS(f"{accounts % {'count': checked}} {budget_line % {'count': budgets}}"))

    def report(self, heading: str, problems: list[str]) -> None:
        self.stdout.write(self.style.ERROR(heading))
        for problem in problems:
            self.stdout.write(f"  - {problem}")
