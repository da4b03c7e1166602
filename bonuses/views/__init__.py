"""The ledger's screens, one module per screen: thin views over the services and selectors.

`accrual` (the accrual table, its "Add bonuses" modals, the employee autocomplete), `log`, `batches`
(a batch's page and its reversal), `write_off`, `currency_settings` (and a new currency), `accounts` (an
employee's account states), `budgets` (a manager's "My budget", the administrators' budgets table and its
top-up / reduce modals), `approvals` (the four-eyes queue and a requester's requests), `segments` and
`campaigns` (points awarded automatically), and `balance` (the employee's own balance page). What the screens
of one currency share (its table, the modals opened from it, the bulk selection) is in `currency`; what every
screen shares (roles, tables, exports, service forms) is in `giftshop.web`.
"""
