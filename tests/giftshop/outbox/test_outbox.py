"""The e-mail outbox: e-mails are queued with the change that causes them and sent after it commits."""

from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone

from bonuses import services
from bonuses.exceptions import InactiveEmployee
from bonuses.models import Entry
from giftshop.outbox import services as outbox
from giftshop.outbox.models import OutgoingEmail
from tests.helpers import kinds, race
from users.models import User

pytestmark = pytest.mark.django_db

FAILING = "tests.giftshop.outbox.test_outbox.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def staff(count: int) -> list[User]:
    User.objects.bulk_create([User(email=f"team{n}@example.com", full_name=f"Team {n}") for n in range(count)])
    return list(User.objects.filter(email__startswith="team").order_by("pk"))


def waiting() -> int:
    return OutgoingEmail.objects.filter(sent_at__isnull=True).count()


def test_a_bulk_accrual_sends_the_first_emails_after_the_commit_and_the_rest_by_the_command(
    administrator, mailoutbox, django_capture_on_commit_callbacks, capsys
):
    people = staff(outbox.IMMEDIATE + 10)

    with django_capture_on_commit_callbacks(execute=True):
        services.accrue_many(users=people, amount=5, actor=administrator, comment="Team day")
        assert mailoutbox == [] and waiting() == len(people)  # queued with the accrual, nothing sent yet

    assert len(mailoutbox) == outbox.IMMEDIATE and waiting() == 10
    assert all(m.subject == "You received 5.00 Bonuses" and "Team day" in m.body for m in mailoutbox)
    call_command("send_queued_mail")
    assert "Sent 10 e-mails, 0 failed" in capsys.readouterr().out
    assert sorted(m.to[0] for m in mailoutbox) == sorted(p.email for p in people)  # each once
    call_command("send_queued_mail")
    assert "Sent 0 e-mails" in capsys.readouterr().out and len(mailoutbox) == len(people)


def test_a_refused_accrual_queues_nothing(administrator, mailoutbox):
    people = staff(3)
    User.objects.filter(pk=people[1].pk).update(is_active=False)
    with pytest.raises(InactiveEmployee):
        services.accrue_many(users=people, amount=5, actor=administrator)
    assert OutgoingEmail.objects.count() == 0


def test_a_failing_mail_server_leaves_the_accrual_committed_and_the_email_waiting(
    administrator, employee, settings, mailoutbox, django_capture_on_commit_callbacks, capsys
):
    settings.EMAIL_BACKEND = FAILING
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.accrue(user=employee, amount=5, actor=administrator)  # no error reaches the caller

    assert Entry.objects.filter(pk=entry.pk).exists()
    mail = OutgoingEmail.objects.get()
    assert (mail.sent_at, mail.attempts) == (None, 1)
    assert mail.last_error == "ConnectionRefusedError: the mail server is down"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_queued_mail")
    assert [m.to for m in mailoutbox] == [[employee.email]]
    assert OutgoingEmail.objects.get().sent_at is not None


def test_an_email_that_keeps_failing_is_given_up_after_five_attempts(administrator, employee, settings, capsys):
    settings.EMAIL_BACKEND = FAILING
    services.accrue(user=employee, amount=5, actor=administrator)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 2):
        call_command("send_queued_mail")
        assert OutgoingEmail.objects.get().attempts == min(attempt, outbox.MAX_ATTEMPTS)
    err = capsys.readouterr().err
    assert "1 e-mail failed 5 times and is no longer tried" in err


def test_sent_emails_are_kept_30_days(administrator, employee):
    services.accrue(user=employee, amount=5, actor=administrator)
    outbox.send_queued()
    OutgoingEmail.objects.update(sent_at=timezone.now() - timedelta(days=31))
    services.accrue(user=employee, amount=6, actor=administrator)
    outbox.send_queued()
    call_command("send_queued_mail")
    assert list(OutgoingEmail.objects.values_list("subject", flat=True)) == ["You received 6.00 Bonuses"]


def test_sent_emails_are_kept_30_calendar_days_in_the_company_time_zone(settings, administrator, employee, capsys):
    """Across the change to summer time (Berlin, 31 March 2024) 30 days are 30 × 24 hours less one: an e-mail
    sent at 11:30 on 16 March is more than 30 days old at noon on 15 April, one sent at 12:30 is not."""
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2024, 4, 15, 12, 0, tzinfo=berlin).astimezone(UTC)  # as timezone.now() gives it
    services.accrue(user=employee, amount=5, actor=administrator)
    services.accrue(user=employee, amount=6, actor=administrator)
    outbox.send_queued()
    old, recent = OutgoingEmail.objects.order_by("pk")
    OutgoingEmail.objects.filter(pk=old.pk).update(sent_at=datetime(2024, 3, 16, 11, 30, tzinfo=berlin))
    OutgoingEmail.objects.filter(pk=recent.pk).update(sent_at=datetime(2024, 3, 16, 12, 30, tzinfo=berlin))
    with mock.patch("django.utils.timezone.now", return_value=now):
        call_command("send_queued_mail")
    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [recent.pk]
    assert "Sent 0 e-mails, 0 failed; removed 1 sent more than 30 days ago." in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_email_once(administrator, mailoutbox):
    people = staff(300)
    services.accrue_many(users=people, amount=5, actor=administrator)  # the commit sends the first ones
    mailoutbox.clear()
    left = waiting()

    outcomes = race([[outbox.send_queued, outbox.send_queued]])

    assert kinds(outcomes[0])["ok"] == 2
    assert sum(sent for sent, _failed in outcomes[0]) == left == len(mailoutbox)
    assert len({m.to[0] for m in mailoutbox}) == left and waiting() == 0
