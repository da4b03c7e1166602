"""The demo company (app label "demo"): `manage.py seed_demo` loads it, idempotently, and prints the logins.

- `employees`: 323 employees in 7 departments, the three demo logins.
- `history`: a year of accruals, write-offs, expiries and pending activations in two currencies.
- `catalog`: 20 gifts with pictures drawn here, and orders in every status.

Everything is posted through the apps' services, as a person would: it may import `users`, the
ledger's `bonuses.services` and `bonuses.selectors`, the shop's `bonuses.shop.services`, and the
apps' models; no app imports the demo.
"""
