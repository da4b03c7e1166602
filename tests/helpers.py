"""What the test modules share besides fixtures (those are in the conftest.py files).

- `PASSWORD`, every test user's;
- moments in the company time zone: `local`, `day`;
- the state of every ledger, shop and outbox table: `ledger_state` (the `ledger_snapshot` fixture);
- balances: `active`;
- responses: `message_texts`, `page_text`, `shown_errors`, `errors_by_field`, `table_records`, `count_queries`;
- amounts as people type them, and how the loose ones are refused: `READ_AS`, `LOOSE`;
- the ledger's forms as the screens post them: `key`, `post_single`, `post_bulk`, `post_write_off`,
  `settings_data`, `step_rows`;
- the headers of the exports: `ACCRUAL_HEADER`, `LOG_HEADER`;
- e-mails: `sent_code`;
- concurrency (PostgreSQL's row locks): `race`, `kinds`, `new_employees`.
"""

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from bonuses import selectors
from bonuses.models import Currency
from users.models import User

PASSWORD = "correct horse battery staple"  # every test user's, unless a test gives another

# Moments -----------------------------------------------------------------------------------


def local(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0, year: int = 2026) -> datetime:
    """An instant in the company time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.get_default_timezone())


def day(month: int, d: int, year: int = 2026) -> date:
    return date(year, month, d)


# "Nothing changed" -------------------------------------------------------------------------

SNAPSHOT_APPS = ("bonuses", "shop", "outbox")  # the ledger, the shop, the outbox
# What a refused operation writes on purpose, for a test to skip by name:
REMEMBERED_REFUSAL = {"IdempotencyKey"}  # the refusal, kept under the request's key: a repeat gets it again
COUNTED_CODE = {"CodeGuard"}  # a wrong confirmation code, counted towards the block


def ledger_state(*, skip=()) -> dict[str, list[dict]]:
    """Every row of every ledger, shop and outbox table, and the users' flags and passwords.

    `skip` names models (e.g. "IdempotencyKey") a test allows to change, and says why where it is passed.
    """
    models = [model for label in SNAPSHOT_APPS for model in apps.get_app_config(label).get_models()]
    unknown = set(skip) - {model.__name__ for model in models}
    assert not unknown, f"no such model to skip: {unknown}"
    state = {
        model.__name__: list(model.objects.order_by("pk").values()) for model in models if model.__name__ not in skip
    }
    state["User"] = list(User.objects.order_by("pk").values("pk", "is_active", "is_superuser", "password"))
    return state


def active(user, currency=None, *, at=None) -> Decimal:
    """The employee's active balance (in the default currency unless another is given), now or at `at`."""
    return selectors.balance(user, currency, at=at).active


# Responses ---------------------------------------------------------------------------------


def message_texts(response) -> list[str]:
    return [str(m.message) for m in get_messages(response.wsgi_request)]


def shown_errors(response) -> list[str]:
    """The errors of the form the response rendered (and of its burn-out step rows, when read), each of which
    must appear in the page."""
    form = response.context["form"]
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    if getattr(form, "policy", None) == Currency.BurnPolicy.FROM_LAST_PURCHASE:
        rows = [e for row in form.steps.errors for field_errors in row.values() for e in field_errors]
        errors += [*form.steps.non_form_errors(), *rows]
    page = response.content.decode()
    for error in errors:
        assert escape(error) in page, f"error {error!r} is not shown"
    return errors


def page_text(response) -> str:
    """The page's text without tags and with collapsed spaces, for phrases that span elements."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def table_records(response) -> list:
    """The records of the table's page the response shows."""
    return [row.record for row in response.context["table"].page.object_list]


def count_queries(client, url: str) -> int:
    """How many queries a page costs."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def errors_by_field(response) -> dict[str, list[str]]:
    """The form's errors by field; each must appear in the page."""
    shown_errors(response)
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


# Amounts as people type them (rules.parse_amount; static/js/accrual.js reads them the same way) ----

NOT_A_NUMBER = "Enter the amount in digits, for example 1250 or 1,250.50."
UNCLEAR = (
    "The separators are unclear: use a point for decimals and spaces or commas between groups of three digits, "
    "for example 1 250.50 or 1,250.50."
)
NOT_POSITIVE = "Enter an amount greater than zero."
READ_AS = {
    "1000": "1000",
    " 42 ": "42",
    "0.5": "0.5",
    ".5": "0.5",
    "1 000": "1000",
    "1\u00a0000": "1000",  # no-break space
    "1\u202f000": "1000",  # narrow no-break space
    "1 234 567.89": "1234567.89",
    "1,000": "1000",
    "12,345.50": "12345.50",
    "1,234,567": "1234567",
    "12,5": "12.5",
    "12,50": "12.50",
    "1234,5": "1234.5",
    "0,01": "0.01",
    "007": "7",
    "-5": "-5",
}
LOOSE = {
    "exponent": ("1e3", NOT_A_NUMBER),
    "exponent capital": ("1E3", NOT_A_NUMBER),
    "underscore": ("1_000", NOT_A_NUMBER),
    "full-width digits": ("１０００", NOT_A_NUMBER),
    "arabic-indic digits": ("١٠٠", NOT_A_NUMBER),
    "NaN": ("NaN", NOT_A_NUMBER),
    "Infinity": ("Infinity", NOT_A_NUMBER),
    "-Infinity": ("-Infinity", NOT_A_NUMBER),
    "hex": ("0x10", NOT_A_NUMBER),
    "letters": ("abc", NOT_A_NUMBER),
    "a currency sign": ("€100", NOT_A_NUMBER),
    "a point only": (".", NOT_A_NUMBER),
    "a trailing point": ("12.", UNCLEAR),
    "comma then four digits": ("1,2345", UNCLEAR),
    "comma then three digits after a zero": ("0,001", UNCLEAR),
    "spaces and a decimal comma": ("1 234,5", UNCLEAR),
    "points as thousands": ("1.234.567", UNCLEAR),
    "points and a comma": ("1.234,56", UNCLEAR),
    "groups of two": ("1,23,456", UNCLEAR),
    "a group of four": ("1000 000", UNCLEAR),
    "mixed separators": ("1 000,000", UNCLEAR),
    "two decimal commas": ("1,2,3", UNCLEAR),
    "a tab inside": ("1\t000", NOT_A_NUMBER),
}


# The headers of the Excel exports ----------------------------------------------------------

ACCRUAL_HEADER = [
    "Full name",
    "E-mail",
    "Employee number",
    "Position",
    "City",
    "Department",
    "Tags",
    "Hire date",
    "Balance",
]
LOG_HEADER = [
    "Time",
    "Employee",
    "E-mail",
    "Department",
    "Event type",
    "Currency",
    "Amount",
    "Active balance after",
    "Comment",
    "Actor",
    "Batch",
    "Order",
]


# The ledger's forms ------------------------------------------------------------------------

ACCRUAL_LIST = "/bonuses/accrual/"
BULK = "/bonuses/accrual/bulk/"
WRITE_OFF = "/bonuses/write-off/"
LOG = "/bonuses/log/"


def key() -> str:
    """A fresh idempotency key, as a form carries each time it is shown."""
    return uuid.uuid4().hex


def pk_of(value):
    """A model's id, or the value itself (an id, or something forged)."""
    return getattr(value, "pk", value)


def single_url(user) -> str:
    return f"/bonuses/accrual/{pk_of(user)}/add/"


def currency_field(currency) -> dict:
    """The form's `currency` field; None posts none (the form then takes the default currency)."""
    return {} if currency is None else {"currency": pk_of(currency)}


def post_single(client, user, currency=None, *, query_params=None, **data):
    payload = {"amount": "100", "comment": "", "idempotency_key": key(), **currency_field(currency), **data}
    return client.post(single_url(user), payload, query_params=query_params)


def post_bulk(client, users, currency=None, *, query_params=None, **data):
    payload = {
        "employees": ",".join(str(pk_of(u)) for u in users),
        "select_all": "",
        "filters": "",
        "amount": "100",
        "comment": "",
        "idempotency_key": key(),
        **currency_field(currency),
        **data,
    }
    return client.post(BULK, payload, query_params=query_params)


def post_write_off(client, user, currency, **data):
    payload = {
        "employee": pk_of(user),
        **currency_field(currency),
        "amount": "30",
        "comment": "",
        "idempotency_key": key(),
        **data,
    }
    return client.post(WRITE_OFF, payload)


def settings_data(currency, *, burn_steps=(), **changes) -> dict:
    """The currency settings page's form as stored, with `changes`; `burn_steps` as the rows it posts."""
    data = {
        "name": currency.name,
        "whole_numbers": "on" if currency.whole_numbers else "",
        "activation_delay_days": currency.activation_delay_days,
        "burn_policy": currency.burn_policy,
        "lifetime_value": currency.lifetime_value or "",
        "lifetime_unit": currency.lifetime_unit,
        "expiry_reminder_days": currency.expiry_reminder_days or "",
        "requires_confirmation": "on" if currency.requires_confirmation else "",
    }
    data.update(changes)
    return {**{k: v for k, v in data.items() if v != ""}, **step_rows(burn_steps)}


def step_rows(steps) -> dict:
    """Burn-out steps as the settings page posts them: the rows of the formset `steps`."""
    rows = {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0"}
    for n, step in enumerate(steps):
        rows.update({f"steps-{n}-{name}": str(value) for name, value in step.items()})
    return rows


# E-mails -----------------------------------------------------------------------------------


def sent_code(mails) -> str:
    """The 6-digit code of the latest e-mail."""
    match = re.search(r"\b(\d{6})\b", mails[-1].body)
    assert match, mails[-1].body
    return match.group(1)


# Concurrency -------------------------------------------------------------------------------

TIMEOUT = 60  # seconds; a thread still waiting after that is a hang, not slowness


def race(rounds: list[list[Callable]]) -> list[list[object]]:
    """Run round after round of calls, call i of every round in thread i, each round released by a barrier.

    Returns, per round, what each call returned or the exception it raised. A thread keeps its own
    connection for all the rounds and closes it at the end.
    """
    width = len(rounds[0])
    assert all(len(calls) == width for calls in rounds)
    barrier = threading.Barrier(width)
    outcomes: list[list[object]] = [[None] * width for _ in rounds]
    stuck: list[int] = []

    def work(index: int) -> None:
        try:
            for number, calls in enumerate(rounds):
                # Every thread finished the round before, so the rounds do not overlap.
                barrier.wait(timeout=TIMEOUT)
                try:
                    outcomes[number][index] = calls[index]()
                except Exception as exc:
                    outcomes[number][index] = exc
        except threading.BrokenBarrierError:
            stuck.append(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(width)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    hung = [thread for thread in threads if thread.is_alive()] or stuck
    assert not hung, "threads hung (a deadlock, or a lock never released)"
    return outcomes


def kinds(outcomes: list[object]) -> Counter:
    return Counter("ok" if not isinstance(outcome, Exception) else type(outcome).__name__ for outcome in outcomes)


def new_employees(count: int, prefix: str) -> list[User]:
    User.objects.bulk_create([User(email=f"{prefix}{n}@example.com", full_name=f"{prefix} {n}") for n in range(count)])
    return list(User.objects.filter(email__startswith=prefix).order_by("pk"))
