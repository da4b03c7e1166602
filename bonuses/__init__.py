"""The bonus ledger (app "bonuses") and its screens; the gift shop is the nested app `bonuses.shop`.

- The ledger: `models` (currencies, accounts, lots, entries, reservations; the design is at the top of
  `models/ledger.py`), `services` (every write: accruals, write-offs, reservations, settlement),
  `selectors` (every read that applies the rules), `rules` (the pure rules and limits),
  `exceptions` (`BonusError` and its kinds), `bulk` (plain-SQL bulk writes), `notifications` (points
  received, expiry reminders: through the outbox), `management/commands` (`bonuses_daily`, `check_ledger`).
- Its screens: `views/` (the accrual table, the log, write-offs, currency settings, my balance), `forms`,
  `filters`, `tables`, `exports`, `urls` (app_name "bonuses"), `admin` (the ledger, read-only).

The ledger may import `users` and the outbox (`giftshop.outbox`); its screens also the screens' toolkit
(`giftshop.web`). It never imports the shop: the shop calls the ledger, through `services` and
`selectors`; only the idempotency key names the shop's order, by string ("shop.Order").
"""
