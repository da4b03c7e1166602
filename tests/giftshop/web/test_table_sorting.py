"""Sortable tables say to screen readers which column they are sorted by, and which way (WAI-ARIA
aria-sort on that column's header, none on the others), whichever template the table uses."""

from html.parser import HTMLParser

import pytest
from django.test import RequestFactory
from django_tables2 import RequestConfig

from bonuses.models import BudgetMovement
from bonuses.tables import BudgetMovementTable, MyRequestTable
from tests.helpers import ACCRUAL_LIST, LOG

pytestmark = pytest.mark.django_db


class Headers(HTMLParser):
    """Each <th scope="col">'s text and its aria-sort (None without one)."""

    def __init__(self):
        super().__init__()
        self.headers: list[list] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "th" and attrs.get("scope") == "col":
            self.headers.append(["", attrs.get("aria-sort"), attrs.get("class") or ""])
            self.inside = True

    def handle_endtag(self, tag):
        if tag == "th":
            self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.headers[-1][0] += data.strip()


def sorted_by(html: str) -> dict[str, str]:
    parser = Headers()
    parser.feed(html)
    assert parser.headers, "no column headers"
    return {text: sort for text, sort, _css in parser.headers if sort is not None}


def test_the_accrual_table_says_it_is_sorted_by_name_until_asked_otherwise(as_admin):
    assert sorted_by(as_admin.get(ACCRUAL_LIST).content.decode()) == {"Full name": "ascending"}
    html = as_admin.get(f"{ACCRUAL_LIST}?sort=-balance").content.decode()
    assert sorted_by(html) == {"Balance": "descending"}
    parser = Headers()
    parser.feed(html)
    balance = next(header for header in parser.headers if header[0] == "Balance")
    assert "text-end" in balance[2]  # the column's own header attributes stay


def test_the_log_says_it_is_newest_first(as_admin):
    assert sorted_by(as_admin.get(LOG).content.decode()) == {"Time": "descending"}
    assert sorted_by(as_admin.get(f"{LOG}?sort=user").content.decode()) == {"Employee": "ascending"}


def test_the_order_list_says_how_it_is_sorted(as_admin):
    assert sorted_by(as_admin.get("/bonuses/orders/").content.decode()) == {"Placed": "descending"}
    assert sorted_by(as_admin.get("/bonuses/orders/?sort=-gift").content.decode()) == {"Gift": "descending"}


def render(table_class, query: str = "") -> str:
    request = RequestFactory().get(f"/?{query}")
    table = table_class(BudgetMovement.objects.none() if table_class is BudgetMovementTable else [])
    RequestConfig(request).configure(table)
    return table.as_html(request)


def test_a_scrolling_table_says_how_it_is_sorted_too():
    assert sorted_by(render(BudgetMovementTable)) == {"Time": "descending"}
    assert sorted_by(render(BudgetMovementTable, "sort=amount")) == {"Amount": "ascending"}


def test_a_table_that_cannot_be_sorted_claims_no_order():
    assert sorted_by(render(MyRequestTable, "sort=total")) == {}
