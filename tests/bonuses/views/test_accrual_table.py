"""The accrual table (issue 4): it filters, searches, sorts and pages as asked, shows the balance in the
chosen currency, a manager's departments only, and costs the same number of queries for few and many rows.
"""

import pytest

from bonuses import services
from bonuses.models import Currency
from tests.helpers import ACCRUAL_LIST, count_queries, table_records
from users.models import City, Department, Position, Tag, User

pytestmark = pytest.mark.django_db


def table_names(response) -> list[str]:
    return [record.full_name for record in table_records(response)]


def table(client, query: str) -> list[str]:
    response = client.get(f"{ACCRUAL_LIST}?q=staff.example&{query}")
    assert response.status_code == 200
    return table_names(response)


SORTS = {
    "full_name": ["Anna", "Boris", "Clara", "Dmitri"],
    "email": ["Dmitri", "Boris", "Anna", "Clara"],
    "employee_number": ["Boris", "Dmitri", "Clara", "Anna"],
    "position": ["Anna", "Clara", "Dmitri", "Boris"],
    "city": ["Clara", "Anna", "Dmitri", "Boris"],
    "department": ["Clara", "Anna", "Boris", "Dmitri"],
    "tags": ["Boris", "Dmitri", "Anna", "Clara"],  # by the first tag: alpha, beta, delta, gamma
    "balance": ["Boris", "Clara", "Anna", "Dmitri"],
}


@pytest.mark.parametrize("column", SORTS)
def test_accrual_table_sorts_by_every_column(as_admin, staff, column):
    assert table(as_admin, f"sort={column}") == SORTS[column]
    assert table(as_admin, f"sort=-{column}") == SORTS[column][::-1]


def test_accrual_table_default_order_is_by_name(as_admin, staff):
    assert table(as_admin, "") == ["Anna", "Boris", "Clara", "Dmitri"]


def test_accrual_table_lists_only_active_employees(as_admin, staff):
    names = table_names(as_admin.get(ACCRUAL_LIST))
    assert "Anna Former" not in names
    assert set(names) == {"Alex Admin", "Anna", "Boris", "Clara", "Dmitri"}


def test_accrual_table_search_by_name_email_or_number(as_admin, staff):
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?q="))) == 5  # empty: everyone, the administrator too
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=clara")) == ["Clara"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=k.boris@")) == ["Boris"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=n-03")) == ["Clara"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=nobody")) == []


def test_accrual_table_filters_by_department_city_position_and_tags(as_admin, staff):
    anna, boris, clara, dmitri = (staff[n] for n in ("Anna", "Boris", "Clara", "Dmitri"))
    assert table(as_admin, f"department={anna.department_id}") == ["Anna"]
    assert table(as_admin, f"department={anna.department_id}&department={dmitri.department_id}") == ["Anna", "Dmitri"]
    assert table(as_admin, f"city={boris.city_id}") == ["Boris"]
    assert table(as_admin, f"position={clara.position_id}") == ["Clara"]
    alpha, beta = Tag.objects.get(name="alpha"), Tag.objects.get(name="beta")
    assert table(as_admin, f"tags={alpha.pk}") == ["Boris"]
    # Several tags: employees with any of them, each once.
    assert table(as_admin, f"tags={alpha.pk}&tags={beta.pk}") == ["Boris", "Dmitri"]
    assert table(as_admin, f"tags={alpha.pk}&tags={beta.pk}&sort=-tags") == ["Dmitri", "Boris"]
    assert table(as_admin, f"department={boris.department_id}&city={clara.city_id}") == []


def test_accrual_table_filters_by_balance_and_hire_date_ranges(as_admin, staff):
    assert table(as_admin, "balance_min=15&balance_max=25") == ["Anna", "Clara"]  # inclusive
    assert table(as_admin, "balance_min=15.01") == ["Anna", "Dmitri"]
    assert table(as_admin, "balance_max=5") == ["Boris"]
    assert table(as_admin, "hired_after=2020-01-10&hired_before=2021-05-01") == ["Anna", "Boris"]  # inclusive
    assert table(as_admin, "hired_before=2019-12-31") == ["Clara"]


def test_accrual_table_refuses_a_bad_filter_value_without_an_error_page(as_admin, staff):
    response = as_admin.get(f"{ACCRUAL_LIST}?balance_min=lots&hired_after=yesterday")
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_accrual_table_shows_the_balance_in_the_chosen_currency(as_admin, staff, administrator):
    stars = Currency.objects.create(name="Stars")
    services.accrue(user=staff["Clara"], amount=7, actor=administrator, currency=stars)
    response = as_admin.get(f"{ACCRUAL_LIST}?q=staff.example&currency={stars.pk}")
    balances = [(r.record.full_name, r.record.balance) for r in response.context["table"].page.object_list]
    assert balances == [("Anna", 0), ("Boris", 0), ("Clara", 7), ("Dmitri", 0)]
    assert table(as_admin, f"currency={stars.pk}&balance_min=1") == ["Clara"]


def test_accrual_table_paginates_with_a_page_size_choice(as_admin, teams):
    response = as_admin.get(ACCRUAL_LIST)
    assert len(table_names(response)) == 25
    assert response.context["matching"] == 36  # 35 and the administrator
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?page=2"))) == 11
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?per_page=50"))) == 36


@pytest.mark.parametrize("per_page", ["7", "1000", "0", "-5", "many"])
def test_accrual_table_page_size_is_one_of_the_choices(as_admin, teams, per_page):
    """Only 25, 50, 100 or 200 rows a page: a hand-made ?per_page=1000 must not render the whole company."""
    response = as_admin.get(f"{ACCRUAL_LIST}?per_page={per_page}")
    assert response.status_code == 200
    assert len(table_names(response)) == 25


def test_accrual_table_for_a_manager_shows_only_their_departments(as_manager, staff, employee):
    response = as_manager.get(ACCRUAL_LIST)
    assert sorted(table_names(response)) == ["Boris", "Erik Employee"]  # Boris works in Sales
    assert response.context["matching"] == 2


# Query counts -------------------------------------------------------------------------------------


def test_accrual_table_page_costs_the_same_queries_for_25_and_100_rows(
    as_admin, administrator, bonuses, django_assert_max_num_queries
):
    departments = [Department.objects.create(name=f"Dept {n}") for n in range(3)]
    cities = [City.objects.create(name=f"City {n}") for n in range(3)]
    positions = [Position.objects.create(name=f"Position {n}") for n in range(3)]
    tags = [Tag.objects.create(name=f"tag-{n}") for n in range(4)]
    User.objects.bulk_create(
        [
            User(
                email=f"bulk{n}@example.com",
                full_name=f"Bulk {n:03}",
                department=departments[n % 3],
                city=cities[n % 3],
                position=positions[n % 3],
            )
            for n in range(120)
        ]
    )
    people = list(User.objects.filter(email__startswith="bulk"))
    Through = User.tags.through
    Through.objects.bulk_create(
        [Through(user_id=u.pk, tag_id=t.pk) for i, u in enumerate(people) for t in tags[: 1 + i % 3]]
    )
    services.accrue_many(users=people, amount=10, actor=administrator)

    few = count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=25&sort=balance")
    response = as_admin.get(f"{ACCRUAL_LIST}?per_page=100&sort=balance")
    assert len(response.context["table"].page.object_list) == 100
    with django_assert_max_num_queries(few):
        many = count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=100&sort=balance")
    assert many == few
    # Sorted by tags, and filtered, the same holds.
    assert count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=25&sort=tags&tags={tags[0].pk}") == count_queries(
        as_admin, f"{ACCRUAL_LIST}?per_page=100&sort=tags&tags={tags[0].pk}"
    )
