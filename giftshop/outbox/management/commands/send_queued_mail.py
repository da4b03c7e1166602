from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from giftshop.outbox.models import OutgoingEmail
from giftshop.outbox.services import MAX_ATTEMPTS, send_queued

KEEP_SENT = timedelta(days=30)


class Command(BaseCommand):
    help = (
        "Send the e-mails waiting in the outbox and retry failed ones (each up to "
        f"{MAX_ATTEMPTS} times); remove sent e-mails older than {KEEP_SENT.days} days. Run it from cron every minute."
    )

    def handle(self, *args, **options):
        sent, failed = send_queued()
        removed, _kinds = OutgoingEmail.objects.filter(sent_at__lt=timezone.now() - KEEP_SENT).delete()
        self.stdout.write(f"Sent {sent} e-mails, {failed} failed; removed {removed} sent before {KEEP_SENT.days} days.")
        given_up = OutgoingEmail.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count()
        if given_up:
            self.stderr.write(
                f"{given_up} e-mails failed {MAX_ATTEMPTS} times and are no longer tried: "
                "see Outgoing e-mails in /admin/ for the mail server's answer."
            )
