"""E-mails to employees, sent once the transaction that caused them has committed."""

from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string

from .rules import last_usable_day, local_date


def _on_commit(send) -> None:
    transaction.on_commit(send)


def _message(template: str, context: dict) -> tuple[str, str]:
    text = render_to_string(f"bonuses/email/{template}.txt", context).strip()
    subject, _blank, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def order_changed(order, event: str, **extra) -> None:
    subject, body = _message(f"order_{event}", {"order": order, **extra})
    email = order.user.email
    _on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True))


def points_received(*, recipients: list[str], amount, currency, comment: str, activates_at, expires_at) -> None:
    """One e-mail to each employee who received points, with the comment; one text for a whole batch."""
    subject, body = _message(
        "points_received",
        {
            "amount": amount,
            "currency": currency,
            "comment": comment,
            "activates_on": local_date(activates_at) if activates_at else None,
            "last_day": last_usable_day(expires_at) if expires_at else None,
        },
    )
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
    if messages:
        _on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def confirmation_code(user, code: str) -> None:
    subject, body = _message("confirmation_code", {"user": user, "code": code})
    _on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False))
