"""Django's SQLite backend, with three corrections for a ledger.

- The ledger's bulk paths update accounts with UPDATE ... FROM (SQLite 3.33) and read the ids
  of the entries they insert with INSERT ... RETURNING (3.35; Debian 12, Ubuntu 22.04 and later
  ship newer); Django refuses to connect to an older one.
- Django 5.2 assumes SQLite's pre-3.32 limit of 999 variables per statement and splits bulk
  inserts into many small statements; SQLite 3.32 and newer allow 32,766. With the real limit a
  bulk accrual to 1,000 employees is one INSERT per table, as on PostgreSQL.
- SQLite keeps decimals as binary floating point, so SUM(-0.02, -0.01, 0.02, 0.01) comes back as
  1.7e-18. Django rounds stored columns to their decimal places but returns computed values
  (sums, coalesces) as they come; here they are rounded to the decimal places of their output
  field too, so an aggregate of amounts is exact, as on PostgreSQL.
"""

import decimal

from django.db.backends.sqlite3 import base, features, operations


class DatabaseFeatures(features.DatabaseFeatures):
    minimum_database_version = (3, 35)
    max_query_params = 32766


class DatabaseOperations(operations.DatabaseOperations):
    def get_decimalfield_converter(self, expression):
        places = getattr(expression.output_field, "decimal_places", None)
        if places is None:
            return super().get_decimalfield_converter(expression)
        create_decimal = decimal.Context(prec=15).create_decimal_from_float
        quantum = decimal.Decimal(1).scaleb(-places)

        def converter(value, expression, connection):
            if value is not None:
                # "+ 0" turns the -0.00 that rounding a tiny negative error gives into 0.00.
                return create_decimal(value).quantize(quantum, context=expression.output_field.context) + 0

        return converter


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
