from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import ngettext

from bonuses import rules, services
from bonuses.models import BudgetMovement, Entry


class Command(BaseCommand):
    help = (
        "Settle every account up to the start of the given day (default: today, in the company time zone): "
        "post activations, expiries and burn-outs, then queue the expiry reminders the currencies ask for, then "
        "open the period's budget of every manager and roll over or lapse the ended ones, then pay the campaigns due "
        "on every day since their last run up to the given day (each occurrence once). "
        "Idempotent; catches up on missed days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD: settle up to 00:00 of this day (default: now)")

    def handle(self, *args, **options):
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date must look like 2026-03-15, not {options['date']!r}") from None
            if day < rules.add_period(rules.local_date(timezone.now()), -rules.MAX_YEARS, "years"):
                raise CommandError("--date is more than 100 years ago: nothing can have been due then.")
            # Every activation, expiry and burn-out of a day happens at its 00:00.
            at = rules.start_of_day(day)
            if at > timezone.now():
                raise CommandError("--date is in the future: what is due then cannot be posted yet.")
        else:
            at = timezone.now()
            day = rules.local_date(at)

        def progress(done, total):
            if total > services.BATCH_SIZE:
                self.stderr.write(
                    ngettext("  %(done)d/%(total)d account", "  %(done)d/%(total)d accounts", total)
                    % {"done": done, "total": total}
                )

        result = services.settle(at=at, progress=progress)
        self.stdout.write(
            ngettext(
                "Settled up to %(at)s: %(count)d account changed.",
                "Settled up to %(at)s: %(count)d accounts changed.",
                result.accounts,
            )
            % {"at": f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}", "count": result.accounts}
        )
        labels = dict(Entry.Kind.choices)
        for kind in (Entry.Kind.ACTIVATED, Entry.Kind.EXPIRED, Entry.Kind.BURNED):
            count = result.counts.get(kind, 0)
            amount = result.amounts.get(kind, 0)
            entries = ngettext("%(count)d entry", "%(count)d entries", count) % {"count": count}
            self.stdout.write(f"  {labels[kind]}: {entries}, {amount} points")
        emails, lots = services.queue_expiry_reminders(at=at)
        self.stdout.write(
            ngettext(
                "Expiry reminders queued: %(emails)d (about %(lots)d lot).",
                "Expiry reminders queued: %(emails)d (about %(lots)d lots).",
                lots,
            )
            % {"emails": emails, "lots": lots}
        )
        posted = services.open_budgets(at=at)
        labels = dict(BudgetMovement.Kind.choices)
        kinds = (BudgetMovement.Kind.OPENED, BudgetMovement.Kind.ROLLED_OVER, BudgetMovement.Kind.LAPSED)
        self.stdout.write("Managers' budgets: " + ", ".join(f"{labels[kind]} {posted.get(kind, 0)}" for kind in kinds))
        campaigns = services.run_campaigns(on=day)
        self.stdout.write(
            f"Campaigns ({campaigns.days[0]} to {campaigns.days[-1]}): {campaigns.awards} awards, "
            f"{campaigns.points} points in {campaigns.batches} batches."
        )
        for refusal in campaigns.refusals:
            self.stderr.write(f"  Not paid: {refusal}")
