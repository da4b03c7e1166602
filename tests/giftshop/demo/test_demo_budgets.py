"""The demo company's managers grant within budgets (issue 11), so that `make run` shows them."""

from io import StringIO

import pytest
from django.core.management import call_command

from bonuses import selectors
from bonuses.models import Budget, Currency
from users.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_manager_has_a_budget_of_the_current_quarter_and_the_ledger_balances():
    call_command("seed_demo", stdout=StringIO())
    manager = User.objects.get(email="manager@example.com")
    bonuses = Currency.objects.get(is_default=True)
    figures = selectors.budget(manager, bonuses)
    assert bonuses.budget_period == "quarter" and figures.opened and figures.allowance > 0
    assert Budget.objects.filter(manager=manager, granted__gt=0).exists()  # the past quarters' grants drew on it
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "budgets balance" in out.getvalue()
