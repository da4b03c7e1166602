"""The project: settings, URLs, the navigation, middleware, and what the apps share.

- `settings`, `urls` (every app's addresses), `context_processors` (the navigation), `middleware`,
  `auth` (the login throttle's key), `views` (home, media), `sqlite/` (the SQLite backend with WAL).
- `web/`: the screens' toolkit (role mixins, bounded tables, the export branch, service forms, form
  fields, filters, table columns, Excel sheets, the read-only admin); `templatetags/`: `points`, `web`.
- `outbox/`: the e-mail outbox app (label "outbox"); `demo/`: the demo company and `seed_demo` (label "demo").

The project's modules may import every app; the apps import from here only `web`, `templatetags` and
`outbox` (and the demo nothing imports).
"""
