"""The shop's e-mails: an order placed, completed, cancelled or returned (through the outbox, after the
commit), and the gift desk's confirmation code (sent directly: the desk waits for it)."""

from giftshop.outbox import services as outbox

TEMPLATES = "shop/email"


def _context(user, **context) -> dict:
    name = outbox.greeting_name(user.full_name, user.email)
    return {**context, "name": name, "orders_url": outbox.link("shop:my-order-list")}


def order_changed(order, event: str, **extra) -> None:
    """`event`: placed, completed, cancelled or returned (with the returned `quantity`)."""
    message = outbox.render(f"{TEMPLATES}/order_{event}", _context(order.user, order=order, **extra))
    outbox.queue([(order.user.email, *message)])


def confirmation_code(user, code: str) -> None:
    outbox.send_after_commit(user.email, *outbox.render(f"{TEMPLATES}/confirmation_code", _context(user, code=code)))
