"""Who may do what with points: administrators, managers, and which managers grant from a budget.

An administrator has `bonuses.manage_giftshop` (or is a superuser); a manager has `bonuses.grant_bonuses`
and grants to the departments they manage. A grant draws on a budget when its actor is a manager who is
not an administrator, whatever the lot's source says. The screens (through `selectors`) and the services
decide by these same functions.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

MANAGE = "manage_giftshop"
GRANT = "grant_bonuses"


def can_manage(user) -> bool:
    """Administrators: superusers, or `bonuses.manage_giftshop`."""
    return user.is_authenticated and user.is_active and user.has_perm(f"bonuses.{MANAGE}")


def can_grant(user) -> bool:
    """Administrators, and managers with `bonuses.grant_bonuses`."""
    return can_manage(user) or (user.is_authenticated and user.is_active and user.has_perm(f"bonuses.{GRANT}"))


def grants_from_budget(user) -> bool:
    """A manager who is not an administrator: their grants draw on their budget."""
    return user is not None and can_grant(user) and not can_manage(user)


def _has_permission(codename: str) -> Q:
    """Users who hold the permission themselves or through a group (what `has_perm` reads, in SQL)."""
    permissions = Permission.objects.filter(content_type__app_label="bonuses", codename=codename)
    return Q(Exists(permissions.filter(user=OuterRef("pk")))) | Q(
        Exists(permissions.filter(group__user=OuterRef("pk")))
    )


def _budget_grantors():
    """Who holds `grant_bonuses` but not `manage_giftshop` and is no superuser, active or not (in SQL)."""
    people = get_user_model().objects.filter(is_superuser=False)
    return people.filter(_has_permission(GRANT)).exclude(_has_permission(MANAGE))


def draws_on_budget(actor) -> bool:
    """Whether a grant by `actor` draws on their budget (the services' test): a manager who is not an
    administrator, in one query whatever `has_perm` has cached, and deactivated too (whose grants still
    answer to a budget)."""
    return actor is not None and actor.pk is not None and _budget_grantors().filter(pk=actor.pk).exists()


def budget_holders():
    """The active managers who grant from a budget and have departments to grant to (the daily run opens
    their budgets; the budgets table lists them)."""
    holders = _budget_grantors().filter(is_active=True)
    return holders.filter(Exists(get_user_model().managed_departments.through.objects.filter(user=OuterRef("pk"))))
