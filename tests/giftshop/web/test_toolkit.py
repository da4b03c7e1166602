"""The screens' toolkit (giftshop/web/) read directly: ids as URLs write them, text a spreadsheet must not
run, an amount's number format and the `next` address a form may follow. The screens that use them are
tested in tests/bonuses/views/ and tests/bonuses/shop/."""

import pytest
from django.test import RequestFactory

from giftshop.web.forms import MAX_ID, parse_id
from giftshop.web.views import safe_next
from giftshop.web.xlsx import NUMBER_FORMAT, WHOLE_FORMAT, points_format, safe_text


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("7", 7), (" 42 ", 42), (12, 12), (str(MAX_ID), MAX_ID), ("007", 7)],
)
def test_an_id_is_ascii_digits_within_the_range_of_an_id_column(value, parsed):
    assert parse_id(value) == parsed


@pytest.mark.parametrize("value", ["0", "-1", "", "abc", "1.5", "²", "١٢", str(MAX_ID + 1), "9" * 40, None])
def test_anything_else_is_no_id(value):
    assert parse_id(value) is None


@pytest.mark.parametrize(
    ("text", "cell"),
    [("=1+1", "'=1+1"), ("+49 30", "'+49 30"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx")]
    + [("\rx", "'\rx"), ("Erik", "Erik"), ("a=b", "a=b"), ("", "")],
)
def test_text_a_spreadsheet_would_run_stays_text(text, cell):
    assert safe_text(text) == cell


def test_whole_amounts_get_the_whole_number_format():
    assert (points_format(12), points_format(12.5)) == (WHOLE_FORMAT, NUMBER_FORMAT)


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"next": "/bonuses/log/?employee=3"}, "/bonuses/log/?employee=3"),
        ({"next": "https://evil.example/"}, "/fallback/"),
        ({"next": "//evil.example/"}, "/fallback/"),
        ({"next": "http://testserver/bonuses/"}, "http://testserver/bonuses/"),
        ({}, "/fallback/"),
    ],
)
def test_a_form_follows_next_only_on_this_site(data, target):
    assert safe_next(RequestFactory().post("/bonuses/accrual/", data), "/fallback/") == target
    assert safe_next(RequestFactory().get("/bonuses/accrual/", data), "/fallback/") == target
