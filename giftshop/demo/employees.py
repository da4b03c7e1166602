"""The demo company: employees, departments and the three demo logins `make run` prints."""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from users.models import City, Department, Position, Tag, User

DEPARTMENTS = ["Sales", "Marketing", "Engineering", "Finance", "Human Resources", "Customer Support", "Logistics"]
CITIES = ["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt", "Leipzig"]
POSITIONS = [
    "Sales Representative",
    "Account Manager",
    "Software Engineer",
    "Senior Software Engineer",
    "Accountant",
    "HR Specialist",
    "Support Agent",
    "Warehouse Coordinator",
    "Marketing Specialist",
    "Team Lead",
]
TAGS = ["Mentor", "Remote", "Newcomer", "Volunteer", "First aider", "Hackathon 2026", "Part-time"]
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hannah",
    "Igor",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Quentin",
    "Rosa",
    "Sofia",
    "Tim",
    "Ursula",
    "Viktor",
    "Wanda",
    "Yusuf",
    "Zoe",
    "Amir",
    "Leonie",
    "Marta",
    "Nils",
    "Petra",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
]

EMPLOYEE_COUNT = 320
DEMO_PASSWORD = "demo-employee"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


DEMO_LOGINS = [
    DemoLogin("Administrator", "admin@example.com", "demo-admin"),
    DemoLogin("Manager (Sales)", "manager@example.com", "demo-manager"),
    DemoLogin("Employee", "employee@example.com", DEMO_PASSWORD),
]


def _named(model, names):
    for name in names:
        model.objects.get_or_create(name=name)
    return list(model.objects.filter(name__in=names).order_by("name"))


@transaction.atomic
def seed_employees() -> int:
    """Create the demo company; return how many employees were added (0 on a second run)."""
    rng = random.Random(2026)
    departments = {d.name: d for d in _named(Department, DEPARTMENTS)}
    cities = _named(City, CITIES)
    positions = _named(Position, POSITIONS)
    tags = _named(Tag, TAGS)
    today = timezone.localdate()
    # All generated employees share one password hash: hashing 300 passwords takes minutes.
    password_hash = make_password(DEMO_PASSWORD)

    def attributes() -> dict:
        return {
            "position": rng.choice(positions),
            "city": rng.choice(cities),
            "department": rng.choice(list(departments.values())),
            "date_of_birth": today - timedelta(days=rng.randint(20 * 365, 62 * 365)),
            "hire_date": today - timedelta(days=rng.randint(10, 18 * 365)),
        }

    existing = set(User.objects.values_list("email", flat=True))
    new_users = []
    for n in range(1, EMPLOYEE_COUNT + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{n}@example.com".lower().replace("ü", "ue").replace("ö", "oe")
        fields = attributes()  # drawn even for existing rows, so a second run draws the same company
        if email not in existing:
            new_users.append(
                User(
                    email=email,
                    full_name=f"{first} {last}",
                    employee_number=f"E{n:05d}",
                    password=password_hash,
                    **fields,
                )
            )
    User.objects.bulk_create(new_users)
    tag_links = []
    for user in User.objects.filter(email__in=[u.email for u in new_users]):
        for tag in rng.sample(tags, rng.randint(0, 2)):
            tag_links.append(User.tags.through(user_id=user.pk, tag_id=tag.pk))
    User.tags.through.objects.bulk_create(tag_links, ignore_conflicts=True)

    admin, manager, employee = DEMO_LOGINS
    specials = [
        (admin, "Alex Admin", "A00001", departments["Human Resources"], "Administrators", True),
        (manager, "Maria Manager", "A00002", departments["Sales"], "Managers", False),
        (employee, "Erik Employee", "A00003", departments["Sales"], None, False),
    ]
    for login, name, number, department, group, is_staff in specials:
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = User.objects.create_user(
                login.email,
                login.password,
                full_name=name,
                employee_number=number,
                **{**attributes(), "department": department},
                is_staff=is_staff,
            )
            new_users.append(user)
        if group:
            user.groups.add(Group.objects.get(name=group))
    departments["Sales"].managers.add(User.objects.get(email=manager.email))
    return len(new_users)
