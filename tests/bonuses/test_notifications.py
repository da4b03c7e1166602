"""The ledger's e-mails that are no answer to an operation: reminders of points about to expire, queued
by the daily run once per lot (the outbox itself: tests/giftshop/outbox/test_outbox.py)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from bonuses import services
from bonuses.models import Currency
from giftshop.outbox.models import OutgoingEmail
from tests.helpers import day, local
from users.models import User

pytestmark = pytest.mark.django_db


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
    assert "Expiry reminders queued: 1 (about 1 lot)." in daily("2026-04-25")  # Ann's April lot, catching up
    assert reminders().count() == 3


def test_no_reminder_for_points_that_expired_or_were_spent(bonuses, administrator, employee, capsys):
    services.update_currency_settings(bonuses, expiry_reminder_days=7)
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=day(3, 5), at=local(3, 1))
    services.accrue(user=employee, amount=6, actor=administrator, expires_on=day(3, 20), at=local(3, 1))
    services.write_off(user=employee, amount=16, actor=administrator, at=local(3, 2))

    call_command("bonuses_daily", "--date", "2026-03-15")  # the first lot expired, the second is empty

    assert "Expiry reminders queued: 0 " in capsys.readouterr().out
    assert not reminders().exists()
