"""What the ledger's models share: the amount columns, their bound, and immutable log rows."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from .. import rules

AMOUNT = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


def within_maximum(name: str, *, signed: bool = False) -> models.CheckConstraint:
    """The database refuses a stored figure beyond rules.MAX_BALANCE (also via update() or raw SQL)."""
    condition = Q(**{f"{name}__lte": rules.MAX_BALANCE})
    if signed:
        condition &= Q(**{f"{name}__gte": -rules.MAX_BALANCE})
    return models.CheckConstraint(condition=condition, name=f"%(class)s_{name}_within_maximum")


class ImmutableQuerySet(models.QuerySet):
    """Log rows are never edited or deleted through the ORM; a mistake gets a corrective entry."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are immutable.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are immutable.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError(f"{self.model.__name__} rows are immutable.")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are immutable.")
