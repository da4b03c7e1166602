"""The ledger's screens, one module per screen: thin views over the services and selectors.

`accrual` (the accrual table, its "Add bonuses" modals, the employee autocomplete), `log`, `batches`
(a batch's page and its reversal), `write_off`, `currency_settings` (and a new currency), `accounts` (an
employee's account states), and `balance` (the employee's own balance page). What every screen shares
(roles, tables, exports, service forms) is in `giftshop.web`.
"""
