"""The gift shop: a catalog of gifts priced in a currency, and orders that spend points.

An order holds its points through a ledger reservation (SPEC.md section 3): placing it reserves
the points and the stock in one transaction, completing it captures the reservation, cancelling
releases it, and returning a completed order (in whole or in part) refunds into the same lots.

The models keep the tables they had in the bonuses app (`db_table`). They name the ledger's models
by string ("bonuses.Currency", "bonuses.Reservation"): the shop does not import them.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bonuses import rules

AMOUNT = {"max_digits": 14, "decimal_places": 2}  # as the ledger's amounts


def within_maximum(name: str) -> models.CheckConstraint:
    """The database refuses a figure beyond rules.MAX_BALANCE, as it does the ledger's (also via update())."""
    condition = Q(**{f"{name}__lte": rules.MAX_BALANCE})
    return models.CheckConstraint(condition=condition, name=f"%(class)s_{name}_within_maximum")


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        db_table = "bonuses_category"
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Gift(models.Model):
    category = models.ForeignKey(Category, models.PROTECT, related_name="gifts", verbose_name=_("category"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    picture = models.ImageField(_("picture"), upload_to="gifts/", blank=True)
    price = models.DecimalField(
        _("price"),
        **AMOUNT,
        validators=[
            MaxValueValidator(
                rules.MAX_OPERATION, _("The amount is more than 10,000,000, the maximum for one operation.")
            )
        ],
    )
    currency = models.ForeignKey("bonuses.Currency", models.PROTECT, related_name="gifts", verbose_name=_("currency"))
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True, help_text=_("Empty: unlimited."))
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive gifts are not in the shop."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "bonuses_gift"
        verbose_name = _("gift")
        verbose_name_plural = _("gifts")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="gift_price_positive"),
            within_maximum("price"),
        ]
        indexes = [models.Index(fields=["is_active", "category", "price"])]

    def __str__(self) -> str:
        return self.name

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
        RETURNED = "returned", _("Returned")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="orders", verbose_name=_("employee")
    )
    gift = models.ForeignKey(Gift, models.PROTECT, related_name="orders", verbose_name=_("gift"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **AMOUNT)
    points = models.DecimalField(_("points"), **AMOUNT)
    currency = models.ForeignKey("bonuses.Currency", models.PROTECT, related_name="orders", verbose_name=_("currency"))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    reservation = models.OneToOneField(
        "bonuses.Reservation", models.PROTECT, null=True, blank=True, related_name="order"
    )
    pickup_office = models.CharField(_("pick-up office"), max_length=100, blank=True)
    delivery_comment = models.TextField(_("delivery comment"), max_length=1000, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("placed by")
    )
    returned_quantity = models.PositiveIntegerField(_("returned"), default=0)
    created_at = models.DateTimeField(_("placed at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        db_table = "bonuses_order"
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")), name="order_return_within_quantity"
            ),
            within_maximum("unit_price"),
            within_maximum("points"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def number_of(pk: int) -> str:
        """How an order is named to people, in pages, e-mails, exports and ledger references: "#000042"."""
        return f"#{pk:06d}"

    @property
    def number(self) -> str:
        return self.number_of(self.pk) if self.pk else "#new"

    @property
    def returnable_quantity(self) -> int:
        return self.quantity - self.returned_quantity if self.status in self.RETURNABLE else 0

    RETURNABLE = (Status.COMPLETED, Status.PARTIALLY_RETURNED)


class ConfirmationCode(models.Model):
    """A one-time code sent to an employee to confirm an order placed on their behalf; stored hashed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="confirmation_codes")
    code_hash = models.CharField(max_length=128)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "bonuses_confirmationcode"
        indexes = [models.Index(fields=["user", "-sent_at"])]

    def __str__(self) -> str:
        return f"Code for {self.user_id} sent {self.sent_at:%Y-%m-%d %H:%M}"


class CodeGuard(models.Model):
    """The wrong entries of the employee's latest code (a new code starts again at 0); three block
    sending and entering codes for a while."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="code_guard")
    wrong_entries = models.PositiveSmallIntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "bonuses_codeguard"

    def __str__(self) -> str:
        return f"Code guard of {self.user_id}"
