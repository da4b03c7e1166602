"""The settings the tests run with: the project's own, with DEBUG=1 as on a developer's machine.

DEBUG is off unless asked for (giftshop/settings.py); the tests need the development settings
(no HTTPS redirect, static files from the finders, a development key). pytest-django imports this
module (pyproject.toml) before any conftest, whatever the shell exports; processes the tests
start inherit the variable. pytest-django still runs every request with settings.DEBUG False.
"""

import os

os.environ["DEBUG"] = "1"

from giftshop.settings import *  # noqa: F403
