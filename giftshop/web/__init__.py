"""The toolkit of the screens: what every app's views, forms, filters, tables, exports and admin share.

- `views`: the role mixins (administrators; administrators and managers), the table with a bounded
  page size, the `?export=xlsx` branch, the "validate, call a service, show a refusal with 400" form
  view, `safe_next` and the answer after a successful POST.
- `forms`: ids as written in URLs, amounts as people type them, the idempotency key, the employee
  autocomplete. `filters`: company days, periods, choices by id. `tables`: amounts, the actions column.
- `xlsx`: an export declared column by column, streamed with openpyxl. `admin`: the read-only admin.

It may import Django, the installed libraries, `users`, and of the ledger only `bonuses.selectors`
(who is an administrator or a manager), `bonuses.rules` (how amounts are read) and
`bonuses.exceptions` (what a refused operation raises). No app's models, services or screens.
"""
