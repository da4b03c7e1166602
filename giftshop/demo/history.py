"""A year of believable history for the demo company, posted through the services; the managers' budgets
of Bonuses (a quarterly policy) with it."""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from bonuses import rules, selectors, services
from bonuses.models import Currency, Entry
from users.models import Department, Tag, User

MONTHLY = {
    "Sales": 150,
    "Marketing": 100,
    "Engineering": 120,
    "Finance": 90,
    "Human Resources": 90,
    "Customer Support": 110,
    "Logistics": 100,
}


def _at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


@transaction.atomic
def seed_history() -> int:
    """Post a year of accruals, write-offs, expiries and pending activations; 0 if already there."""
    if Entry.objects.exists():
        return 0
    rng = random.Random(7)
    admin = User.objects.get(email="admin@example.com")
    manager = User.objects.get(email="manager@example.com")
    bonuses = Currency.objects.get(is_default=True)
    stars, _ = Currency.objects.get_or_create(
        name="Stars",
        defaults={
            "whole_numbers": True,
            "burn_policy": Currency.BurnPolicy.FROM_CREDITING,
            "lifetime_value": 6,
            "lifetime_unit": Currency.LifetimeUnit.MONTHS,
            "expiry_reminder_days": 14,
        },
    )
    # Managers grant Bonuses within a quarterly budget: 250 per employee managed, up to 2,000 of it rolling over.
    services.update_currency_settings(
        bonuses, budget_period="quarter", budget_per_employee=250, budget_rollover=True, budget_rollover_cap=2000
    )
    today = timezone.localdate()
    first_month = rules.add_period(today.replace(day=1), -12, "months")
    # Nobody accrues points to themselves: the administrator's grants leave the administrator out, the
    # manager's leave the manager out.
    staff = User.objects.filter(is_active=True).exclude(pk=admin.pk)
    departments = {d.name: list(staff.filter(department=d)) for d in Department.objects.all()}
    everyone = list(staff)
    sales_team = [person for person in departments.get("Sales", []) if person != manager]

    events = []  # (moment, call): posted in time order, as the ledger requires

    def later(moment, call, **kwargs):
        events.append((moment, len(events), call, {**kwargs, "at": moment}))

    for month in range(12):
        payday = rules.add_period(first_month, month, "months")
        label = payday.strftime("%B %Y")
        for name, people in departments.items():
            if people:
                later(
                    _at(payday, 9),
                    services.accrue_many,
                    users=people,
                    amount=MONTHLY.get(name, 100),
                    actor=admin,
                    currency=bonuses,
                    comment=f"Monthly bonus, {label}",
                )
        # Peer recognition in Stars: a few people a month, each lot living six months.
        for person in rng.sample(everyone, 25):
            later(
                _at(payday + timedelta(days=14), 11),
                services.accrue,
                user=person,
                amount=rng.choice([5, 10, 20]),
                actor=admin,
                currency=stars,
                comment=f"Peer recognition, {label}",
            )
        if month % 3 == 2 and sales_team:
            later(
                _at(payday + timedelta(days=20), 15),
                services.accrue_many,
                users=sales_team,
                amount=200,
                actor=manager,
                source="manager",
                currency=bonuses,
                lifetime_days=90,
                comment=f"Quarterly sales target met ({label})",
            )
    hackers = list(Tag.objects.get(name="Hackathon 2026").employees.filter(is_active=True).exclude(pk=admin.pk))
    if hackers:
        later(
            _at(today - timedelta(days=40), 16),
            services.accrue_many,
            users=hackers,
            amount=300,
            actor=admin,
            comment="Hackathon 2026 prize",
            expires_on=today + timedelta(days=45),
        )
    # A year-end bonus that activates on the first of next year.
    new_year = today.replace(year=today.year + 1, month=1, day=1)
    later(
        _at(today - timedelta(days=2), 12),
        services.accrue_many,
        users=everyone,
        amount=50,
        actor=admin,
        comment="Year-end bonus (active from New Year)",
        activates_on=new_year,
    )
    for _moment, _n, call, kwargs in sorted(events, key=lambda e: e[:2]):
        call(**kwargs)
    write_off_at = _at(today - timedelta(days=1), 14)
    for person in rng.sample(everyone, 6):
        if selectors.balance(person, bonuses, at=write_off_at).active >= 40:
            services.write_off(
                user=person, amount=40, actor=admin, comment="Correction: duplicate accrual", at=write_off_at
            )
    services.settle()
    services.open_budgets(at=timezone.now())
    return Entry.objects.count()
