from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.Model):
    """A kind of points ("Bonuses", "Stars"); each employee has one account per currency."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        permissions = [
            ("manage_giftshop", _("Manage Gift Shop")),
            ("grant_bonuses", _("Grant bonuses to managed departments")),
        ]

    def __str__(self) -> str:
        return self.name
