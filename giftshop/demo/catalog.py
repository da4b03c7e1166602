"""The gift catalog with pictures drawn here, and orders in every status, placed through the shop's services."""

import random
from io import BytesIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from bonuses import selectors
from bonuses.models import Currency
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift, Order
from users.models import User

CATALOG = {
    "Merchandise": [
        ("Company hoodie", 450, 40),
        ("Insulated bottle", 180, 80),
        ("Notebook and pen set", 90, None),
        ("Canvas tote bag", 70, None),
        ("Baseball cap", 120, 25),
    ],
    "Electronics": [
        ("Wireless earbuds", 1500, 10),
        ("Power bank", 600, 20),
        ("Bluetooth speaker", 1200, 8),
        ("Mechanical keyboard", 1800, 5),
    ],
    "Experiences": [
        ("Cinema tickets for two", 400, None),
        ("Cooking class", 1400, 6),
        ("Climbing day pass", 350, 15),
        ("Spa voucher", 2000, 4),
    ],
    "Wellbeing": [
        ("Yoga mat", 380, 12),
        ("Extra day off", 3000, 10),
        ("Massage at the office", 700, 20),
        ("Fruit box for the team", 900, None),
    ],
    "Charity": [
        ("Plant a tree", 100, None),
        ("Donation to the food bank", 250, None),
        ("Sponsor a school book", 150, None),
    ],
}
PALETTE = {
    "Merchandise": (13, 110, 253),
    "Electronics": (111, 66, 193),
    "Experiences": (214, 51, 132),
    "Wellbeing": (25, 135, 84),
    "Charity": (253, 126, 20),
}


def gift_picture(name: str, colour: tuple[int, int, int]) -> bytes:
    """A 480×320 PNG drawn here: the category's colour, a soft gradient and the gift's initials."""
    image = Image.new("RGB", (480, 320), colour)
    draw = ImageDraw.Draw(image)
    for y in range(320):
        shade = int(60 * y / 320)
        draw.line([(0, y), (480, y)], fill=tuple(max(0, c - shade) for c in colour))
    draw.ellipse((170, 90, 310, 230), fill=(255, 255, 255))
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    font = ImageFont.load_default(size=56)
    draw.text((240, 160), initials, fill=colour, font=font, anchor="mm")
    output = BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


@transaction.atomic
def seed_catalog() -> int:
    """The gift catalog with pictures, and orders in every status; 0 if already there."""
    if Gift.objects.exists():
        return 0
    bonuses = Currency.objects.get(is_default=True)
    stars = Currency.objects.get(name="Stars")
    gifts = []
    for category_name, items in CATALOG.items():
        category, _ = Category.objects.get_or_create(name=category_name)
        for name, price, stock in items:
            currency = stars if category_name == "Charity" else bonuses
            gift = Gift(
                category=category,
                name=name,
                price=price if currency is bonuses else price // 10,
                currency=currency,
                stock=stock,
                description=f"{name}: a favourite of our colleagues.",
            )
            gift.picture.save(
                f"{slugify(name)}.png", ContentFile(gift_picture(name, PALETTE[category_name])), save=False
            )
            gift.save()
            gifts.append(gift)
    admin = User.objects.get(email="admin@example.com")
    rng = random.Random(11)
    buyers = [
        u
        for u in User.objects.filter(is_active=True).order_by("pk")[:80]
        if selectors.balance(u, bonuses).active >= 1000
    ]
    statuses = ["pending"] * 4 + ["completed"] * 6 + ["cancelled"] * 2 + ["partially_returned", "returned"]
    for status, buyer in zip(statuses, rng.sample(buyers, len(statuses)), strict=True):
        gift = rng.choice([g for g in gifts if g.currency == bonuses and g.price <= 900])
        quantity = 2 if status == "partially_returned" else 1
        order = shop.place_order(user=buyer, gift=gift, quantity=quantity, pickup_office="Berlin HQ")
        if status in ("completed", "partially_returned", "returned"):
            order = shop.complete_order(order, actor=admin)
        if status == "cancelled":
            shop.cancel_order(order, actor=buyer)
        elif status in ("partially_returned", "returned"):
            shop.return_order(order, quantity=1, actor=admin)
    return Order.objects.count()
