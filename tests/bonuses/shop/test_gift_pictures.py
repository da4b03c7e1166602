"""Gift pictures (issue 9, point 13): PNG, JPEG and WebP only, known by their content, at most 5 MB,
and stored as Pillow re-encoded them (no metadata, nothing hidden after the picture), both on the
catalog screen and in the Django admin."""

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image, PngImagePlugin

from bonuses.models import Currency
from bonuses.shop.models import Category, Gift

pytestmark = pytest.mark.django_db

NEW_GIFT = "/bonuses/gifts/new/"
NOT_A_PICTURE = "Upload a PNG, JPEG or WebP picture. This file is not a picture, or it is damaged."
WRONG_KIND = "Upload a PNG, JPEG or WebP picture, not GIF."
TOO_LARGE = "The picture is larger than 5 MB."
TOO_MANY_PIXELS = "The picture has more than 40 megapixels."
PAYLOAD = b"<script>alert(document.cookie)</script>"


def picture(kind: str, size=(64, 48), **options) -> bytes:
    buffer = BytesIO()
    image = Image.new("RGB", size, (20, 120, 200))
    image.putpixel((0, 0), (250, 250, 10))
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def upload(content: bytes, name: str = "bottle.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def category(db):
    return Category.objects.create(name="Drinkware")


def gift_data(category, **changes) -> dict:
    return {
        "name": "Water bottle",
        "category": category.pk,
        "description": "Steel, 0.5 l",
        "price": "35",
        "currency": Currency.objects.get(is_default=True).pk,
        "stock": "12",
        "is_active": "on",
        **changes,
    }


def stored(gift) -> bytes:
    return Path(gift.picture.path).read_bytes()


@pytest.mark.parametrize(
    ("kind", "name", "extension"),
    [("PNG", "bottle.png", ".png"), ("JPEG", "bottle.jpeg", ".jpg"), ("WEBP", "bottle.webp", ".webp")],
)
def test_png_jpeg_and_webp_pictures_are_accepted_and_re_encoded(as_admin, category, kind, name, extension):
    # A picture as cameras and editors write them: metadata inside, and bytes appended after its end.
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "secret location 52.5200 N")
        content = picture(kind, pnginfo=info)
    else:
        exif = Image.Exif()
        exif[0x010E] = "secret location 52.5200 N"  # ImageDescription
        content = picture(kind, exif=exif.tobytes())
    assert b"secret location" in content
    response = as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(content + PAYLOAD, name)})

    assert response.status_code == 302
    gift = Gift.objects.get(name="Water bottle")
    assert gift.picture.name.startswith("gifts/bottle") and gift.picture.name.endswith(extension)
    kept = stored(gift)
    assert b"secret location" not in kept and b"<script" not in kept
    with Image.open(BytesIO(kept)) as image:
        assert image.format == kind and image.size == (64, 48)
        assert image.getexif() == {} and "Comment" not in image.info
        red, green, blue = image.convert("RGB").getpixel((40, 30))
        assert abs(red - 20) < 8 and abs(green - 120) < 8 and abs(blue - 200) < 8


def test_the_name_follows_the_content_not_the_upload(as_admin, category):
    response = as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(picture("JPEG"), "bottle.html")})
    assert response.status_code == 302
    assert Gift.objects.get().picture.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"<!doctype html><html><body>" + PAYLOAD + b"</body></html>", "bottle.png", NOT_A_PICTURE),
        (b'<svg xmlns="http://www.w3.org/2000/svg">' + PAYLOAD + b"</svg>", "bottle.png", NOT_A_PICTURE),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>', "bottle.svg", NOT_A_PICTURE),
        (picture("PNG")[:40], "bottle.png", NOT_A_PICTURE),  # cut short
        (picture("GIF"), "bottle.png", WRONG_KIND),
        (picture("GIF"), "bottle.gif", WRONG_KIND),
    ],
    ids=["html-as-png", "svg-as-png", "svg", "truncated-png", "gif-as-png", "gif"],
)
def test_anything_but_a_png_jpeg_or_webp_picture_is_refused(
    as_admin, category, ledger_snapshot, content, name, message
):
    before = ledger_snapshot()
    response = as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(content, name)})
    assert response.status_code == 400
    assert response.context["form"].errors == {"picture": [message]}
    assert escape(message) in response.content.decode()
    assert ledger_snapshot() == before


def test_a_picture_over_5_mb_is_refused(as_admin, category, ledger_snapshot):
    content = picture("PNG", size=(1400, 1300), compress_level=0)
    assert len(content) > 5 * 1024 * 1024
    before = ledger_snapshot()
    response = as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(content)})
    assert response.status_code == 400
    assert response.context["form"].errors == {"picture": [TOO_LARGE]}
    assert ledger_snapshot() == before


def test_a_small_file_that_unpacks_into_a_huge_picture_is_refused(as_admin, category, ledger_snapshot):
    buffer = BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 megapixels in a few kilobytes
    before = ledger_snapshot()
    response = as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(buffer.getvalue())})
    assert response.status_code == 400
    assert response.context["form"].errors == {"picture": [TOO_MANY_PIXELS]}
    assert ledger_snapshot() == before


def test_editing_a_gift_keeps_its_picture_unless_a_new_one_comes(as_admin, category):
    as_admin.post(NEW_GIFT, {**gift_data(category), "picture": upload(picture("PNG"))})
    gift = Gift.objects.get()
    name = gift.picture.name
    assert as_admin.post(f"/bonuses/gifts/{gift.pk}/", gift_data(category, price="40")).status_code == 302
    gift.refresh_from_db()
    assert (gift.price, gift.picture.name) == (40, name)
    refused = as_admin.post(f"/bonuses/gifts/{gift.pk}/", {**gift_data(category), "picture": upload(b"<html>")})
    assert refused.status_code == 400
    gift.refresh_from_db()
    assert (gift.price, gift.picture.name) == (40, name)


@pytest.fixture
def as_root(client, make_user):
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_admin_gift_form_checks_pictures_the_same_way(as_root, category, ledger_snapshot):
    add = reverse("admin:shop_gift_add")
    before = ledger_snapshot()
    refused = as_root.post(add, {**gift_data(category), "picture": upload(b"<html>" + PAYLOAD + b"</html>")})
    assert refused.status_code == 200  # the admin shows its form again
    assert refused.context["adminform"].form.errors == {"picture": [NOT_A_PICTURE]}
    assert escape(NOT_A_PICTURE) in refused.content.decode()
    assert ledger_snapshot() == before

    accepted = as_root.post(add, {**gift_data(category), "picture": upload(picture("WEBP") + PAYLOAD, "b.webp")})
    assert accepted.status_code == 302
    kept = stored(Gift.objects.get())
    assert kept.startswith(b"RIFF") and PAYLOAD not in kept
