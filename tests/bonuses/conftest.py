import pytest

from bonuses import services
from bonuses.models import Currency
from bonuses.shop.models import Category, Gift


@pytest.fixture
def bonuses(db) -> Currency:
    """The default currency, as its data migration made it."""
    return Currency.objects.get(is_default=True)


@pytest.fixture
def whole(bonuses) -> Currency:
    """The default currency in whole numbers only."""
    bonuses.whole_numbers = True
    bonuses.save()
    return bonuses


@pytest.fixture
def stars(db) -> Currency:
    """A second currency, in whole numbers only."""
    return Currency.objects.create(name="Stars", whole_numbers=True)


@pytest.fixture
def funded(employee, administrator, bonuses):
    """The employee with 100 active points, so that a valid write-off would go through."""
    services.accrue(user=employee, amount=100, actor=administrator)
    return employee


@pytest.fixture
def catalog(bonuses, stars):
    """The shop's gifts in both currencies, one of them out of stock and one inactive."""
    clothes, gadgets, books = (Category.objects.create(name=n) for n in ("Clothes", "Gadgets", "Books"))
    archive = Category.objects.create(name="Archive")
    gifts = {}
    for name, category, price, currency, stock, description in [
        ("Hoodie", clothes, 40, bonuses, 5, "Warm cotton hoodie with the logo"),
        ("Mug", gadgets, 10, bonuses, None, "Ceramic, keeps coffee hot"),
        ("Headphones", gadgets, 150, bonuses, 2, "Noise cancelling"),
        ("Novel", books, 25, bonuses, 0, "A thriller"),
        ("Star badge", clothes, 3, stars, None, "Enamel pin"),
        ("Star cap", clothes, 4, stars, 7, "Baseball cap"),
    ]:
        gifts[name] = Gift.objects.create(
            name=name, category=category, price=price, currency=currency, stock=stock, description=description
        )
    gifts["Old pen"] = Gift.objects.create(name="Old pen", category=archive, price=1, currency=bonuses, is_active=False)
    return gifts


@pytest.fixture
def shopper(client, employee, administrator, stars, catalog):
    """The employee, logged in, with 100 Bonuses and 3 Stars."""
    services.accrue(user=employee, amount=100, actor=administrator, comment="Welcome")
    services.accrue(user=employee, amount=3, actor=administrator, currency=stars)
    client.force_login(employee)
    return employee
