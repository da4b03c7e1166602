from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from giftshop.outbox.models import OutgoingEmail
from giftshop.outbox.services import MAX_ATTEMPTS, send_queued

KEEP_SENT = timedelta(days=30)


def keep_since(now):
    """The same wall-clock time KEEP_SENT.days calendar days ago in the company's time zone (a day across a
    daylight-saving change has 23 or 25 hours): sent e-mails older than that are removed."""
    return timezone.localtime(now, timezone.get_default_timezone()) - KEEP_SENT


class Command(BaseCommand):
    help = (
        "Send the e-mails waiting in the outbox and retry failed ones (each up to "
        f"{MAX_ATTEMPTS} times); remove e-mails sent more than {KEEP_SENT.days} days ago (calendar days in the "
        "company time zone). Run it from cron every minute."
    )

    def handle(self, *args, **options):
        sent, failed = send_queued()
        removed, _kinds = OutgoingEmail.objects.filter(sent_at__lt=keep_since(timezone.now())).delete()
        self.stdout.write(
            " ".join(
                [
                    ngettext("Sent %(count)d e-mail,", "Sent %(count)d e-mails,", sent) % {"count": sent},
                    _("%(count)d failed;") % {"count": failed},
                    _("removed %(count)d sent more than %(days)d days ago.")
                    % {"count": removed, "days": KEEP_SENT.days},
                ]
            )
        )
        given_up = OutgoingEmail.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count()
        if given_up:
            self.stderr.write(
                ngettext(
                    "%(count)d e-mail failed %(max)d times and is no longer tried: "
                    "see Outgoing e-mails in /admin/ for the mail server's answer.",
                    "%(count)d e-mails failed %(max)d times and are no longer tried: "
                    "see Outgoing e-mails in /admin/ for the mail server's answer.",
                    given_up,
                )
                % {"count": given_up, "max": MAX_ATTEMPTS}
            )
