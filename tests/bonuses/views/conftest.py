"""Who and what the ledger's screens are tested with."""

from datetime import date

import pytest

from bonuses import services
from bonuses.models import Currency, Entry
from tests.helpers import local
from users.models import City, Department, Position, Tag


@pytest.fixture
def former(make_user, department, administrator, bonuses):
    """A deactivated employee who keeps 100 points."""
    user = make_user("former@example.com", department=department, full_name="Fiona Former")
    services.accrue(user=user, amount=100, actor=administrator)
    user.is_active = False
    user.save()
    return user


@pytest.fixture
def outsider(make_user):
    """An active employee of a department the manager does not manage."""
    return make_user("outsider@example.com", department=Department.objects.create(name="Finance"), full_name="Otto")


@pytest.fixture
def teams(make_user, department):
    """30 active employees in Sales (more than a page of 25), 5 in Support, and a former one in Sales."""
    support = Department.objects.create(name="Support")
    sales = [make_user(f"sales{n}@example.com", department=department, full_name=f"Sales {n:02}") for n in range(30)]
    others = [make_user(f"support{n}@example.com", department=support, full_name=f"Support {n}") for n in range(5)]
    gone = make_user("gone@example.com", department=department, full_name="Sales Gone", is_active=False)
    return sales, others, gone


@pytest.fixture
def staff(make_user, administrator, bonuses, department):
    """Four employees whose every column sorts in a different order than their names."""
    tags = {name: Tag.objects.create(name=name) for name in ("alpha", "beta", "delta", "gamma", "zeta")}
    rows = [
        # name, e-mail, number, position, city, department, tags, hired, balance
        ("Anna", "m.anna", "N-04", "Analyst", "Cologne", "Marketing", ["delta"], date(2020, 1, 10), 25),
        ("Boris", "k.boris", "N-01", "Engineer", "Munich", "Sales", ["zeta", "alpha"], date(2021, 5, 1), 5),
        ("Clara", "z.clara", "N-03", "Clerk", "Berlin", "Finance", ["gamma"], date(2019, 3, 15), 15),
        ("Dmitri", "b.dmitri", "N-02", "Designer", "Hamburg", "Support", ["beta"], date(2022, 7, 1), 35),
    ]
    people = {}
    for name, local_part, number, position, city, department, tag_names, hired, balance in rows:
        user = make_user(
            f"{local_part}@staff.example",
            full_name=name,
            employee_number=number,
            position=Position.objects.create(name=position),
            city=City.objects.create(name=city),
            department=Department.objects.get_or_create(name=department)[0],  # Sales: the manager's
            hire_date=hired,
            tags=[tags[t] for t in tag_names],
        )
        services.accrue(user=user, amount=balance, actor=administrator)
        people[name] = user
    # A deactivated employee matching every filter never appears.
    make_user(
        "x.former@staff.example",
        full_name="Anna Former",
        department=people["Anna"].department,
        tags=[tags["alpha"]],
        is_active=False,
    )
    return people


@pytest.fixture
def history(staff, administrator, manager, bonuses):
    """Entries on several company days; 23:30 on 1 March and 00:30 on 2 March are one UTC day."""
    anna, boris, clara, dmitri = (staff[n] for n in ("Anna", "Boris", "Clara", "Dmitri"))
    stars = Currency.objects.create(name="Stars", budget_period="month", budget_allowance=1000)  # managers may grant
    e = {}
    # The staff fixture accrued earlier today; these dated entries go to fresh employees' ledgers in
    # another currency and to new people, so every account's entries stay in time order.
    e["spring"] = services.accrue(
        user=anna, amount=100, actor=administrator, comment="Spring bonus", currency=stars, at=local(3, 1, 23, 30)
    )
    e["manager"] = services.accrue(
        user=boris, amount=50, actor=manager, source="manager", currency=stars, at=local(3, 2, 0, 30)
    )
    e["write_off"] = services.write_off(
        user=anna, amount=30, actor=administrator, comment="Correction", currency=stars, at=local(3, 3, 10)
    )
    batch = services.accrue_many(
        users=[clara, dmitri], amount=20, actor=administrator, comment="Team event", currency=stars, at=local(3, 4, 10)
    )
    e["batch_clara"], e["batch_dmitri"] = Entry.objects.filter(batch=batch).order_by("user__full_name")
    return {"entries": e, "batch": batch, "stars": stars}
