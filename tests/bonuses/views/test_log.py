"""The accrual and spending log (issue 4): newest first, sorted, filtered (periods in company days), a
manager's departments only, 50 entries a page, everything shown escaped, and the same number of queries
for few and many entries.
"""

import pytest
from django.utils.html import escape

from bonuses import services
from bonuses.models import Batch, Currency, Entry
from tests.helpers import ACCRUAL_LIST, LOG, count_queries, post_bulk, post_single, table_records
from users.models import User

pytestmark = pytest.mark.django_db


def log_ids(response) -> list[int]:
    return [record.pk for record in table_records(response)]


def log(client, query: str) -> list[int]:
    response = client.get(f"{LOG}?{query}")
    assert response.status_code == 200
    return log_ids(response)


def test_log_shows_newest_first(as_admin, history):
    ids = log(as_admin, "")
    assert len(ids) == 9
    assert ids == list(Entry.objects.order_by("-at", "-id").values_list("pk", flat=True))
    e = history["entries"]
    stars_ids = [i for i in ids if i in {x.pk for x in e.values()}]
    assert stars_ids == [
        e["batch_dmitri"].pk,
        e["batch_clara"].pk,
        e["write_off"].pk,
        e["manager"].pk,
        e["spring"].pk,
    ]


def test_log_sorts_by_amount(as_admin, history):
    stars = history["stars"].pk
    amounts = [Entry.objects.get(pk=i).amount for i in log(as_admin, f"currency={stars}&sort=amount")]
    assert amounts == [-30, 20, 20, 50, 100]
    amounts = [Entry.objects.get(pk=i).amount for i in log(as_admin, f"currency={stars}&sort=-amount")]
    assert amounts == [100, 50, 20, 20, -30]


def test_log_filters(as_admin, history, staff, administrator, manager):
    e, batch, stars = history["entries"], history["batch"], history["stars"].pk
    anna, boris = staff["Anna"], staff["Boris"]
    s = f"currency={stars}"
    assert log(as_admin, f"{s}&employee={anna.pk}") == [e["write_off"].pk, e["spring"].pk]
    assert log(as_admin, f"{s}&department={boris.department_id}") == [e["manager"].pk]
    assert log(as_admin, f"{s}&department={boris.department_id}&department={anna.department_id}") == [
        e["write_off"].pk,
        e["manager"].pk,
        e["spring"].pk,
    ]
    assert log(as_admin, f"{s}&kind=manual_write_off") == [e["write_off"].pk]
    assert log(as_admin, f"{s}&kind=manual_write_off&kind=manager_accrual") == [e["write_off"].pk, e["manager"].pk]
    assert log(as_admin, f"{s}&actor={manager.pk}") == [e["manager"].pk]
    assert log(as_admin, f"{s}&comment=CORRECT") == [e["write_off"].pk]
    assert log(as_admin, f"batch={batch.pk}") == [e["batch_dmitri"].pk, e["batch_clara"].pk]
    # The currency filter: the default currency's entries are the staff fixture's four accruals.
    default = Currency.objects.get(is_default=True).pk
    assert len(log(as_admin, f"currency={default}")) == 4
    assert set(
        Entry.objects.filter(pk__in=log(as_admin, f"currency={default}")).values_list("currency", flat=True)
    ) == {default}
    assert log(as_admin, f"{s}&employee={anna.pk}&kind=manual_accrual") == [e["spring"].pk]


def test_log_period_is_in_company_days(as_admin, history):
    e, s = history["entries"], f"currency={history['stars'].pk}"
    # 23:30 on 1 March and 00:30 on 2 March (company time) fall on the same UTC day.
    assert log(as_admin, f"{s}&period_from=2026-03-01&period_to=2026-03-01") == [e["spring"].pk]
    assert log(as_admin, f"{s}&period_from=2026-03-02&period_to=2026-03-02") == [e["manager"].pk]
    assert log(as_admin, f"{s}&period_from=2026-03-03") == [
        e["batch_dmitri"].pk,
        e["batch_clara"].pk,
        e["write_off"].pk,
    ]
    assert log(as_admin, f"{s}&period_to=2026-03-02") == [e["manager"].pk, e["spring"].pk]


def test_log_for_a_manager_shows_only_their_departments(client, manager, history, staff):
    client.force_login(manager)
    ids = log(client, "")
    assert ids and set(Entry.objects.filter(pk__in=ids).values_list("user", flat=True)) == {staff["Boris"].pk}
    # Filtering by someone else's department finds nothing (the choice is not theirs to make).
    assert log(client, f"department={staff['Anna'].department_id}") == []
    assert log(client, f"employee={staff['Anna'].pk}") == []


@pytest.mark.parametrize("per_page", ["1000", "-5"])
def test_log_page_size_stays_50(as_admin, administrator, bonuses, per_page):
    User.objects.bulk_create([User(email=f"p{n}@example.com", full_name=f"P {n}") for n in range(55)])
    services.accrue_many(users=User.objects.filter(email__startswith="p"), amount=1, actor=administrator)
    assert len(log_ids(as_admin.get(LOG))) == 50
    assert len(log_ids(as_admin.get(f"{LOG}?page=2"))) == 5
    response = as_admin.get(f"{LOG}?per_page={per_page}")
    assert response.status_code == 200
    assert len(log_ids(response)) == 50


def test_comments_and_names_are_escaped_when_shown(as_admin, make_user, bonuses):
    person = make_user(full_name="<b>Bold</b> Person")
    script = "<script>alert(1)</script>"
    assert post_single(as_admin, person, bonuses, amount="5", comment=script).status_code == 302
    assert Entry.objects.get().comment == script  # stored as typed
    page = as_admin.get(LOG).content.decode()
    assert escape(script) in page
    assert script not in page
    assert escape("<b>Bold</b> Person") in page and "<b>Bold</b>" not in page
    # The success message names the employee; it is escaped too.
    table_page = as_admin.get(ACCRUAL_LIST).content.decode()
    assert "<b>Bold</b>" not in table_page
    # A bulk accrual's message carries a working link (escaping must not break it).
    response = post_bulk(as_admin, [person], bonuses, amount="5", comment=script)
    assert response.status_code == 302
    page = as_admin.get(response["Location"]).content.decode()
    assert f'<a href="{LOG}?batch={Batch.objects.get().pk}"' in page


# Query counts -------------------------------------------------------------------------------------


def test_log_page_costs_the_same_queries_for_10_and_50_entries(
    as_admin, administrator, manager, bonuses, make_user, django_assert_max_num_queries
):
    def post_history(people: int):
        """Five entries per employee, of every shape the log shows: accruals, batches, orders, write-offs."""
        people = [make_user(department=manager.managed_departments.get()) for _ in range(people)]  # the manager's
        for person in people:
            services.accrue(user=person, amount=100, actor=administrator, comment="Hello")
        services.accrue_many(users=people, amount=5, actor=manager, source="manager")
        for n, person in enumerate(people):
            reservation = services.reserve(user=person, amount=10, reference=f"ORDER-{person.pk}")
            services.capture(reservation) if n % 2 else services.release(reservation)
        for person in people:
            services.write_off(user=person, amount=1, actor=administrator, comment="Fix")

    filtered = f"{LOG}?kind=manual_write_off&kind=order_reserved&period_from=2000-01-01&currency={bonuses.pk}"
    post_history(2)
    assert Entry.objects.count() == 10
    few = count_queries(as_admin, LOG)
    few_filtered = count_queries(as_admin, filtered)
    post_history(12)
    response = as_admin.get(LOG)
    assert len(response.context["table"].page.object_list) == 50
    assert {row.record.kind for row in response.context["table"].page.object_list} == {
        "manual_accrual",
        "manager_accrual",
        "order_reserved",
        "order_spent",
        "order_released",
        "manual_write_off",
    }
    with django_assert_max_num_queries(few):
        many = count_queries(as_admin, LOG)
    assert many == few
    assert len(as_admin.get(filtered).context["table"].page.object_list) == 28
    assert count_queries(as_admin, filtered) == few_filtered
