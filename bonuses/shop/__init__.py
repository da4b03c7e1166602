"""The gift shop (app "bonuses.shop", label "shop"): the catalog, orders, and confirmation codes.

- `models`: categories, gifts, orders, confirmation codes (tables kept from the bonuses app).
- `services`: placing, completing, cancelling and returning orders; sending and checking codes.
  `selectors`: the reads of the shop's screens. `exceptions`: its errors, under `BonusError`.
- `forms`, `filters`, `tables`, `exports`, `views`, `urls` (app_name "shop": /shop/… for
  employees, /bonuses/orders/… and /bonuses/gifts/… for administrators), `admin`, `notifications`
  (the order e-mails and the confirmation code, through the outbox).

The shop spends points only through the ledger's services (`reserve`, `capture`, `release`, `refund`,
`idempotent`) and the order's reservation. Of the ledger it may import `bonuses.services`,
`bonuses.selectors`, `bonuses.exceptions` (the root of its errors) and `bonuses.rules` (the limits
of amounts and comments); its models name the ledger's by string. Besides: `users`, the screens'
toolkit `giftshop.web`, the outbox `giftshop.outbox`. The ledger never imports the shop.
"""
