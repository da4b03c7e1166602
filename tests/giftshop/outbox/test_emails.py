"""The e-mails as people read them (issue 9, point 16), received by a real SMTP server on 127.0.0.1.

Each e-mail has a plain-text part, not HTML-escaped ("<b>thanks</b> & more" arrives as typed), and
an HTML alternative with the same content, escaped as HTML. Both greet the employee by name, link
to the site at SITE_URL, and show a whole-number currency's amounts without ".00". A bulk accrual
renders its e-mail once and still greets every recipient by their own name.
"""

import email
import socket
from email.policy import default as email_policy

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from bonuses import services
from bonuses.models import Currency
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift
from giftshop.outbox.models import OutgoingEmail
from tests.helpers import day, local

pytestmark = pytest.mark.django_db

COMMENT = "<b>thanks</b> & more"
SITE = "https://gifts.example.com"
NAME = "Zoë O'Neil <Sales>"  # what HTML must escape, in a name as typed


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email_policy)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["X-Envelope-To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1, and the project's settings pointing at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.SITE_URL = SITE
    yield inbox
    controller.stop()


@pytest.fixture
def stars(db) -> Currency:
    return Currency.objects.create(name="Stars", whole_numbers=True)


def parts(message) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative e-mail; both must be there."""
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")  # SMTP's line ends


def send_queued(capsys) -> str:
    call_command("send_queued_mail")
    return capsys.readouterr().out


def test_points_received_arrive_as_typed_in_text_escaped_in_html_with_name_link_and_whole_numbers(
    smtp, stars, make_user, administrator, capsys
):
    zoe = make_user("zoe@example.com", full_name=NAME)
    bob = make_user("bob@example.com", full_name="Bob Brown")
    services.accrue_many(users=[zoe, bob], amount=1200, actor=administrator, currency=stars, comment=COMMENT)
    services.accrue(
        user=zoe, amount=5, actor=administrator, currency=stars, comment="Single", expires_on=day(12, 31, 2099)
    )
    assert OutgoingEmail.objects.filter(sent_at__isnull=True).count() == 3  # queued with the accruals

    assert "Sent 3 e-mails, 0 failed" in send_queued(capsys)

    (bulk, single) = smtp.to(zoe.email)
    assert bulk["Subject"] == "You received 1,200 Stars" and single["Subject"] == "You received 5 Stars"
    text, html = parts(bulk)
    assert "Hello Zoë O'Neil <Sales>," in text
    assert "you received 1,200 Stars." in text
    assert f"Comment: {COMMENT}\n" in text and "&lt;" not in text and "&amp;" not in text
    assert f'See your balance under "My balance": {SITE}/account/balance/' in text
    assert "Hello Zoë O&#x27;Neil &lt;Sales&gt;," in html and "<Sales>" not in html
    assert "you received <strong>1,200 Stars</strong>." in html
    assert "Comment: &lt;b&gt;thanks&lt;/b&gt; &amp; more" in html and "<b>thanks</b>" not in html
    assert f'<a href="{SITE}/account/balance/"' in html
    assert ".00" not in text and ".00" not in html
    # The batch was rendered once: Bob's e-mail is the same but for his name.
    (bobs,) = smtp.to(bob.email)
    bob_text, bob_html = parts(bobs)
    assert bob_text == text.replace("Zoë O'Neil <Sales>", "Bob Brown")
    assert bob_html == html.replace("Zoë O&#x27;Neil &lt;Sales&gt;", "Bob Brown")
    assert "\x00" not in bob_text + bob_html + text + html
    text, html = parts(single)
    assert "Use them by the end of 31 December 2099." in text and "Use them by the end of 31 December 2099." in html
    assert "Comment: Single" in text and "Hello Zoë O'Neil <Sales>," in text


def test_a_currency_with_two_places_keeps_them(smtp, make_user, administrator, capsys):
    person = make_user(full_name="Erik")
    services.accrue(user=person, amount="1234.5", actor=administrator)
    send_queued(capsys)
    (message,) = smtp.messages
    text, html = parts(message)
    assert message["Subject"] == "You received 1,234.50 Bonuses"
    assert "you received 1,234.50 Bonuses." in text and "<strong>1,234.50 Bonuses</strong>" in html


@pytest.fixture
def star_gift(stars, db) -> Gift:
    category = Category.objects.create(name="Kitchen & <Home>")
    return Gift.objects.create(name="Mug <XL> & lid", category=category, price=1000, stock=10, currency=stars)


def test_order_emails_arrive_as_typed_with_name_link_and_whole_numbers(
    smtp, stars, star_gift, make_user, administrator, capsys
):
    zoe = make_user("zoe@example.com", full_name=NAME)
    services.accrue(user=zoe, amount=5000, actor=administrator, currency=stars, at=local(3, 1))
    send_queued(capsys)
    smtp.messages.clear()

    first = shop.place_order(user=zoe, gift=star_gift, quantity=2, at=local(3, 2))
    second = shop.place_order(user=zoe, gift=star_gift, quantity=1, at=local(3, 2))
    shop.complete_order(first, actor=administrator, at=local(3, 3))
    shop.cancel_order(second, actor=zoe, at=local(3, 3))
    shop.return_order(first, quantity=1, actor=administrator, at=local(3, 4))
    assert "Sent 5 e-mails, 0 failed" in send_queued(capsys)

    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects == [
        f"Your order {first.number} is placed",
        f"Your order {second.number} is placed",
        f"Your order {first.number} is completed",
        f"Your order {second.number} is cancelled",
        f"Your order {first.number} was returned",
    ]
    expected = {
        0: ("2 × Mug <XL> & lid is placed.", "2,000 Stars are reserved for it"),
        2: ("2 × Mug <XL> & lid is completed:", "2,000 Stars are spent."),
        3: ("1 × Mug <XL> & lid is cancelled.", "The 1,000 Stars reserved for it are back"),
        4: ("1 × Mug <XL> & lid from your order", "The points are refunded to your balance."),
    }
    for index, message in enumerate(smtp.messages):
        text, html = parts(message)
        assert message["X-Envelope-To"] == zoe.email
        assert "Hello Zoë O'Neil <Sales>," in text and "Hello Zoë O&#x27;Neil &lt;Sales&gt;," in html
        assert f"{SITE}/shop/orders/" in text and f'<a href="{SITE}/shop/orders/"' in html
        assert ".00" not in text and ".00" not in html
        assert "&lt;" not in text and "&amp;" not in text
        assert "<XL>" not in html and "Mug &lt;XL&gt; &amp; lid" in html
        for phrase in expected.get(index, ()):
            assert phrase in text, (index, phrase)
    text, html = parts(smtp.messages[0])
    assert "<strong>2,000 Stars</strong> are reserved for it" in html


def test_the_expiry_reminder_arrives_with_name_links_and_whole_numbers(smtp, stars, make_user, administrator, capsys):
    services.update_currency_settings(stars, expiry_reminder_days=7)
    zoe = make_user("zoe@example.com", full_name=NAME)
    services.accrue(user=zoe, amount=1500, actor=administrator, currency=stars, expires_on=day(3, 20), at=local(3, 1))
    send_queued(capsys)
    smtp.messages.clear()

    call_command("bonuses_daily", "--date", "2026-03-13")
    send_queued(capsys)

    (message,) = smtp.messages
    text, html = parts(message)
    assert message["Subject"] == "Your Stars expire soon"
    assert "Hello Zoë O'Neil <Sales>," in text and "Hello Zoë O&#x27;Neil &lt;Sales&gt;," in html
    assert "- 1,500 Stars: use them by the end of 20 March 2026." in text
    assert "<strong>1,500 Stars</strong>: use them by the end of 20 March 2026." in html
    assert f"{SITE}/shop/" in text and f"{SITE}/account/balance/" in text
    assert f'<a href="{SITE}/shop/"' in html and f'<a href="{SITE}/account/balance/"' in html
    assert ".00" not in text and ".00" not in html


def test_the_confirmation_code_arrives_directly_with_both_parts(smtp, make_user, django_capture_on_commit_callbacks):
    zoe = make_user("zoe@example.com", full_name=NAME)
    with django_capture_on_commit_callbacks(execute=True):
        shop.send_code(user=zoe, at=local(3, 1))

    (message,) = smtp.messages
    assert not OutgoingEmail.objects.exists()  # sent directly: the gift desk waits for it
    code = message["Subject"].removeprefix("Your confirmation code: ")
    assert code.isdigit() and len(code) == 6
    text, html = parts(message)
    assert "Hello Zoë O'Neil <Sales>," in text and "Hello Zoë O&#x27;Neil &lt;Sales&gt;," in html
    assert f"your confirmation code for an order at the gift desk is {code}." in text
    assert f">{code}</strong>." in html
    assert f"{SITE}/shop/orders/" in text and f'<a href="{SITE}/shop/orders/"' in html


def test_an_email_queued_before_html_bodies_goes_out_as_plain_text(smtp, capsys):
    OutgoingEmail.objects.create(recipient="old@example.com", subject="Queued earlier", body="Plain & simple\n")

    assert "Sent 1 e-mail, 0 failed" in send_queued(capsys)

    (message,) = smtp.messages
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Plain & simple\n"


def test_a_bulk_accrual_queues_one_row_per_recipient_with_their_name(stars, make_user, administrator):
    people = [make_user(full_name=f"Person {n} & Co") for n in range(3)]
    services.accrue_many(users=people, amount=10, actor=administrator, currency=stars, comment=COMMENT)

    rows = {m.recipient: m for m in OutgoingEmail.objects.all()}
    assert set(rows) == {p.email for p in people}
    for person in people:
        assert f"Hello {person.full_name}," in rows[person.email].body
        assert f"Hello {person.full_name.replace('&', '&amp;')}," in rows[person.email].html_body
        assert f"Comment: {COMMENT}" in rows[person.email].body
        assert rows[person.email].subject == "You received 10 Stars"
