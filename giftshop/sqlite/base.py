"""Django's SQLite backend, told the real variable limit of the SQLite it runs on.

Django 5.2 assumes SQLite's pre-3.32 limit of 999 variables per statement and splits bulk
inserts into many small statements; SQLite 3.32 and newer allow 32,766. With the real limit a
bulk accrual to 1,000 employees is one INSERT per table, as on PostgreSQL.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
