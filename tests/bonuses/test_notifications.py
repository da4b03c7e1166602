"""The e-mail outbox: e-mails are queued with the change that causes them and sent after it commits."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone

from bonuses import notifications, services
from bonuses.exceptions import InactiveEmployee
from bonuses.models import Currency, Entry, OutgoingEmail
from tests.bonuses.conftest import day, local
from tests.bonuses.test_concurrency import kinds, race
from users.models import User

pytestmark = pytest.mark.django_db

FAILING = "tests.bonuses.test_notifications.FailingBackend"


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
    people = staff(notifications.IMMEDIATE + 10)

    with django_capture_on_commit_callbacks(execute=True):
        services.accrue_many(users=people, amount=5, actor=administrator, comment="Team day")
        assert mailoutbox == [] and waiting() == len(people)  # queued with the accrual, nothing sent yet

    assert len(mailoutbox) == notifications.IMMEDIATE and waiting() == 10
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
    for attempt in range(1, notifications.MAX_ATTEMPTS + 2):
        call_command("send_queued_mail")
        assert OutgoingEmail.objects.get().attempts == min(attempt, notifications.MAX_ATTEMPTS)
    err = capsys.readouterr().err
    assert "1 e-mails failed 5 times and are no longer tried" in err


def test_sent_emails_are_kept_30_days(administrator, employee):
    services.accrue(user=employee, amount=5, actor=administrator)
    notifications.send_queued()
    OutgoingEmail.objects.update(sent_at=timezone.now() - timedelta(days=31))
    services.accrue(user=employee, amount=6, actor=administrator)
    notifications.send_queued()
    call_command("send_queued_mail")
    assert list(OutgoingEmail.objects.values_list("subject", flat=True)) == ["You received 6.00 Bonuses"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_email_once(administrator, mailoutbox):
    people = staff(300)
    services.accrue_many(users=people, amount=5, actor=administrator)  # the commit sends the first ones
    mailoutbox.clear()
    left = waiting()

    outcomes = race([[notifications.send_queued, notifications.send_queued]])

    assert kinds(outcomes[0])["ok"] == 2
    assert sum(sent for sent, _failed in outcomes[0]) == left == len(mailoutbox)
    assert len({m.to[0] for m in mailoutbox}) == left and waiting() == 0


# Expiry reminders ----------------------------------------------------------------------------


def reminders():
    return OutgoingEmail.objects.filter(subject__endswith="expire soon")


def test_bonuses_daily_reminds_of_expiring_points_once_per_lot(bonuses, administrator, make_user, capsys):
    services.update_currency_settings(bonuses, expiry_reminder_days=7)
    stars = Currency.objects.create(name="Stars")  # no reminders in this currency
    ann, bob, gone = make_user(full_name="Ann"), make_user(full_name="Bob"), make_user(full_name="Gone")
    for person in (ann, bob, gone):
        services.accrue(user=person, amount=10, actor=administrator, expires_on=day(3, 20), at=local(3, 1))
    services.accrue(user=ann, amount=5, actor=administrator, expires_on=day(3, 20), at=local(3, 1))
    services.accrue(user=ann, amount=8, actor=administrator, expires_on=day(4, 30), at=local(3, 1))  # later
    services.accrue(user=ann, amount=4, actor=administrator, at=local(3, 1))  # never expires
    services.accrue(user=ann, amount=9, actor=administrator, currency=stars, expires_on=day(3, 20), at=local(3, 1))
    services.write_off(user=bob, amount=Decimal("2.50"), actor=administrator, at=local(3, 2))  # 7.50 left
    User.objects.filter(pk=gone.pk).update(is_active=False)

    def daily(on: str) -> str:
        call_command("bonuses_daily", "--date", on)
        return capsys.readouterr().out

    assert "Expiry reminders queued: 0 " in daily("2026-03-12")  # 8 days before the last usable day
    assert "Expiry reminders queued: 2 (about 3 lots)." in daily("2026-03-13")  # 7 days before
    mails = {m.recipient: m for m in reminders()}
    assert set(mails) == {ann.email, bob.email}
    assert mails[ann.email].subject == "Your Bonuses expire soon"
    assert "- 15.00 Bonuses: use them by the end of 20 March 2026." in mails[ann.email].body
    assert "8.00" not in mails[ann.email].body and "Stars" not in mails[ann.email].body
    assert "- 7.50 Bonuses: use them by the end of 20 March 2026." in mails[bob.email].body
    assert "Expiry reminders queued: 0 " in daily("2026-03-13")  # once per lot
    assert "Expiry reminders queued: 0 " in daily("2026-03-16")
    assert "Expiry reminders queued: 1 (about 1 lots)." in daily("2026-04-25")  # Ann's April lot, catching up
    assert reminders().count() == 3


def test_no_reminder_for_points_that_expired_or_were_spent(bonuses, administrator, employee, capsys):
    services.update_currency_settings(bonuses, expiry_reminder_days=7)
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=day(3, 5), at=local(3, 1))
    services.accrue(user=employee, amount=6, actor=administrator, expires_on=day(3, 20), at=local(3, 1))
    services.write_off(user=employee, amount=16, actor=administrator, at=local(3, 2))

    call_command("bonuses_daily", "--date", "2026-03-15")  # the first lot expired, the second is empty

    assert "Expiry reminders queued: 0 " in capsys.readouterr().out
    assert not reminders().exists()
