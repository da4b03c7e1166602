"""Logging in: the name under which django-axes counts failed attempts."""

import unicodedata

from django.conf import settings


def login_username(request, credentials: dict | None = None) -> str | None:
    """The e-mail of a login attempt as the login itself matches it, so that every spelling of one
    address counts as that address.

    The login form normalises the address (NFKC) and strips it; `UserManager.get_by_natural_key`
    then matches without regard to case (PostgreSQL compares the upper-cased forms). Upper- then
    lower-casing gives every spelling the database takes for one address one key (a few more, such
    as "ß" and "ss", share one too: erring on the side of counting).
    """
    data = credentials if credentials else getattr(request, "data", request.POST)
    username = data.get(settings.AXES_USERNAME_FORM_FIELD)
    if username is None:
        return None
    return unicodedata.normalize("NFKC", str(username)).strip().upper().lower()
