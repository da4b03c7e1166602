"""The Django admin: every list opens for a superuser, the ledger and the outbox among them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from bonuses import services


@pytest.mark.django_db
def test_every_admin_list_and_the_outbox_filters_open(client, make_user, employee, administrator):
    services.accrue(user=employee, amount=5, actor=administrator, comment="Welcome")  # rows in the lists
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))

    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url

    outbox = reverse("admin:bonuses_outgoingemail_changelist")
    response = client.get(outbox, {"sent_at__isempty": "1", "q": employee.email})
    assert response.status_code == 200 and "You received 5.00 Bonuses" in response.content.decode()
