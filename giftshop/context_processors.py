"""The navigation: each user sees only the entries they may open."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from bonuses.selectors import can_grant, can_manage, grants_from_budget


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    section: str  # "employee" or "admin": the base layout groups the admin entries apart.


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        NavItem(_("Home"), reverse("home"), "house", "employee"),
        NavItem(_("Shop"), reverse("shop:catalog"), "bag", "employee"),
        NavItem(_("My balance"), reverse("my-balance"), "wallet2", "employee"),
        NavItem(_("My orders"), reverse("shop:my-order-list"), "receipt", "employee"),
    ]
    if can_grant(user):
        items.append(NavItem(_("Accrual of bonuses"), reverse("bonuses:accrual-list"), "cash-coin", "admin"))
        items.append(NavItem(_("Log"), reverse("bonuses:log-list"), "journal-text", "admin"))
    if grants_from_budget(user):
        items.append(NavItem(_("My budget"), reverse("bonuses:my-budget"), "piggy-bank", "admin"))
    if can_grant(user):
        items.append(NavItem(_("My grant requests"), reverse("bonuses:my-requests"), "hourglass-split", "admin"))
    if can_manage(user):
        items.append(NavItem(_("Orders"), reverse("shop:order-list"), "box-seam", "admin"))
        items.append(NavItem(_("Gift catalog"), reverse("shop:gift-list"), "gift", "admin"))
        items.append(NavItem(_("Write-offs"), reverse("bonuses:write-off"), "dash-circle", "admin"))
        items.append(NavItem(_("Budgets"), reverse("bonuses:budget-list"), "piggy-bank", "admin"))
        items.append(NavItem(_("Approvals"), reverse("bonuses:approval-list"), "check2-square", "admin"))
        items.append(NavItem(_("Segments"), reverse("bonuses:segment-list"), "funnel", "admin"))
        items.append(NavItem(_("Campaigns"), reverse("bonuses:campaign-list"), "calendar-event", "admin"))
        items.append(NavItem(_("Settings"), reverse("bonuses:settings"), "sliders", "admin"))
    if user.is_active and user.is_staff and user.has_perm("users.view_user"):
        items.append(NavItem(_("Employees"), reverse("admin:users_user_changelist"), "people", "admin"))
    if user.is_superuser:
        items.append(NavItem(_("Django admin"), reverse("admin:index"), "gear", "admin"))
    return {"nav_items": items, "nav_admin_items": [i for i in items if i.section == "admin"]}
