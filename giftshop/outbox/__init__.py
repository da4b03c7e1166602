"""The e-mail outbox (app label "outbox"): e-mails written in the transaction that causes them, sent after it commits.

`models.OutgoingEmail` is the outbox (its table, `bonuses_outgoingemail`, is the one it had when it
lived in the bonuses app); `services` renders an e-mail from its templates, queues e-mails in bulk,
and sends them (`send_queued`, also run by `manage.py send_queued_mail` from cron). The apps'
`notifications` modules say what to send; the outbox knows nothing of points or orders.

It may import Django, and `bonuses.bulk` (plain-SQL bulk inserts); nothing else of the apps.
"""
