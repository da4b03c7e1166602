"""Excel exports of the accrual table and the log (SPEC.md section 7), opened with openpyxl.

Each export holds exactly the filtered rows of every page, typed cells (numbers, dates), a bold
frozen header with an autofilter and column widths, a title row naming the filters, a file name
that says what and when, and no text that a spreadsheet would run as a formula.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from bonuses import services
from bonuses.models import Account, Currency, Entry
from tests.helpers import ACCRUAL_HEADER, ACCRUAL_LIST, LOG, LOG_HEADER, local
from users.models import City, Department, Position, Tag, User

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.worksheets) == 1
    return response, workbook.active


def filename(response) -> str:
    match = re.search(r'filename="([^"]+)"', response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    return match.group(1)


def data_rows(sheet) -> list[tuple]:
    """The rows under the title and the header, as cells."""
    return list(sheet.iter_rows(min_row=3))


def values(sheet, column: int) -> list:
    return [row[column].value for row in data_rows(sheet)]


@pytest.fixture
def sixty(administrator, bonuses):
    """60 employees in Engineering (more than two pages of 25), 10 in Legal, 1 former in Engineering."""
    engineering, legal = Department.objects.create(name="Engineering"), Department.objects.create(name="Legal")
    berlin, clerk = City.objects.create(name="Berlin"), Position.objects.create(name="Clerk")
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    User.objects.bulk_create(
        [
            User(
                email=f"eng{n:02}@example.com",
                full_name=f"Engineer {n:02}",
                employee_number=f"E{n:03}",
                department=engineering,
                city=berlin,
                position=clerk,
                hire_date=date(2020, 1, 1 + n % 28),
            )
            for n in range(60)
        ]
        + [User(email=f"law{n}@example.com", full_name=f"Lawyer {n}", department=legal) for n in range(10)]
        + [User(email="gone@example.com", full_name="Engineer Gone", department=engineering, is_active=False)]
    )
    engineers = list(User.objects.filter(email__startswith="eng").order_by("full_name"))
    Through = User.tags.through
    Through.objects.bulk_create([Through(user_id=u.pk, tag_id=red.pk) for u in engineers])
    Through.objects.bulk_create([Through(user_id=u.pk, tag_id=blue.pk) for u in engineers[:5]])
    # Everyone but the administrator, who accrues: nobody accrues points to themselves.
    everyone = User.objects.filter(is_active=True).exclude(pk=administrator.pk)
    services.accrue_many(users=everyone, amount=10, actor=administrator, comment="Start")
    services.accrue(user=engineers[0], amount="2.50", actor=administrator)
    return {"engineering": engineering, "legal": legal, "engineers": engineers, "red": red}


# The accrual table ----------------------------------------------------------------------------


def test_accrual_export_holds_exactly_the_filtered_rows_of_all_pages(as_admin, sixty):
    department = sixty["engineering"].pk
    # The page shows 25 of them; page and page size do not limit the export.
    page = as_admin.get(f"{ACCRUAL_LIST}?department={department}&per_page=25&page=2")
    assert len(page.context["table"].page.object_list) == 25
    response, sheet = download(as_admin, f"{ACCRUAL_LIST}?department={department}&per_page=25&page=2&export=xlsx")
    assert [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))] == ACCRUAL_HEADER
    assert values(sheet, 0) == [f"Engineer {n:02}" for n in range(60)]  # by name; no former, no lawyers
    first = [cell.value for cell in data_rows(sheet)[0]]
    assert first == [
        "Engineer 00",
        "eng00@example.com",
        "E000",
        "Clerk",
        "Berlin",
        "Engineering",
        "blue, red",
        datetime(2020, 1, 1),
        12.5,
    ]
    assert values(sheet, 8)[1:] == [10] * 59


def test_accrual_export_without_filters_holds_every_active_employee(as_admin, sixty, administrator):
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?export=xlsx")
    assert len(data_rows(sheet)) == 71  # 60 + 10 + the administrator
    assert "Engineer Gone" not in values(sheet, 0)
    assert "Currency: Bonuses" in sheet["A1"].value
    assert "Department" not in sheet["A1"].value


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("department={engineering}&tags={red}&q=engineer 0", 10),  # Engineer 00 to 09
        # Hired on the 5th to the 10th (day 1 + n % 28): engineers 4 to 9 and 32 to 37.
        ("city={berlin}&position={clerk}&hired_after=2020-01-05&hired_before=2020-01-10", 12),
        ("department={legal}&department={engineering}&q=0@", 7),  # eng00@ ... eng50@ and law0@
    ],
)
def test_accrual_export_applies_the_filters_like_the_table(as_admin, sixty, query, count):
    query = query.format(
        engineering=sixty["engineering"].pk,
        legal=sixty["legal"].pk,
        red=sixty["red"].pk,
        berlin=City.objects.get().pk,
        clerk=Position.objects.get().pk,
    )
    table = as_admin.get(f"{ACCRUAL_LIST}?{query}&per_page=200")
    shown = [row.record.full_name for row in table.context["table"].page.object_list]
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?{query}&export=xlsx")
    assert values(sheet, 0) == shown
    assert len(shown) == count


def test_accrual_export_filtered_by_a_balance_range(as_admin, sixty):
    query = f"department={sixty['engineering'].pk}&balance_min=11&balance_max=20"
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?{query}&export=xlsx")
    assert values(sheet, 0) == ["Engineer 00"]  # 12.50; the others have 10
    assert "Balance from: 11" in sheet["A1"].value


def test_accrual_export_cells_are_typed(as_admin, sixty):
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?department={sixty['engineering'].pk}&export=xlsx")
    for row in data_rows(sheet):
        balance, hired = row[8], row[7]
        assert balance.data_type == "n" and isinstance(balance.value, int | float)
        assert hired.is_date and isinstance(hired.value, datetime)
        assert row[2].data_type == "s"  # an employee number stays text


def test_accrual_export_layout(as_admin, sixty):
    response, sheet = download(as_admin, f"{ACCRUAL_LIST}?department={sixty['engineering'].pk}&export=xlsx")
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:I62"
    assert all(cell.font.b for cell in next(sheet.iter_rows(min_row=2, max_row=2)))
    assert not data_rows(sheet)[0][0].font.b
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHI"]
    assert all(width and width >= 10 for width in widths), widths
    assert widths[1] > widths[8]  # e-mail wider than balance
    # The title row says what this is and which filters made it.
    title = sheet["A1"].value
    assert "Accrual of bonuses to users" in title
    assert "Department: Engineering" in title
    assert "Currency: Bonuses" in title
    name = filename(response)
    today = timezone.localdate().isoformat()
    assert name.startswith(f"bonus-balances_{today}_")
    assert name.endswith(".xlsx")
    assert "engineering" in name


def test_accrual_export_balance_in_the_chosen_currency(as_admin, sixty, administrator):
    stars = Currency.objects.create(name="Stars")
    services.accrue(user=sixty["engineers"][3], amount=7, actor=administrator, currency=stars)
    response, sheet = download(as_admin, f"{ACCRUAL_LIST}?currency={stars.pk}&q=Engineer+0&export=xlsx")
    assert [(row[0].value, row[8].value) for row in data_rows(sheet)] == [
        (f"Engineer {n:02}", 7 if n == 3 else 0) for n in range(10)
    ]
    assert "Currency: Stars" in sheet["A1"].value


def test_accrual_export_for_a_manager_holds_only_their_departments(client, make_user, sixty):
    manager = make_user(role="Managers", manages=[sixty["legal"]])
    client.force_login(manager)
    _response, sheet = download(client, f"{ACCRUAL_LIST}?export=xlsx")
    assert values(sheet, 0) == [f"Lawyer {n}" for n in range(10)]
    # A filter naming another department cannot widen the scope.
    _response, sheet = download(client, f"{ACCRUAL_LIST}?department={sixty['engineering'].pk}&export=xlsx")
    assert values(sheet, 0) == []


def test_accrual_export_with_an_invalid_filter_exports_nothing(as_admin, sixty):
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?balance_min=lots&export=xlsx")
    assert data_rows(sheet) == []


# The log --------------------------------------------------------------------------------------


@pytest.fixture
def log_history(sixty, administrator, bonuses):
    """60 accruals and 60 write-offs in Engineering (more than two pages of 50), 10 accruals in Legal."""
    for engineer in sixty["engineers"]:
        services.write_off(user=engineer, amount=4, actor=administrator, comment="Lunch")
    return sixty


def test_log_export_holds_exactly_the_filtered_rows_of_all_pages(as_admin, log_history):
    query = f"department={log_history['engineering'].pk}"
    entries = list(Entry.objects.filter(user__department=log_history["engineering"]).order_by("-at", "-id"))
    assert len(entries) == 121  # 60 in the batch, 1 more accrual, 60 write-offs
    response, sheet = download(as_admin, f"{LOG}?{query}&page=2&export=xlsx")
    assert [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))] == LOG_HEADER
    rows = data_rows(sheet)
    assert len(rows) == len(entries)
    # Newest first, like the log.
    assert [(r[1].value, Decimal(str(r[6].value))) for r in rows] == [(e.user.full_name, e.amount) for e in entries]
    assert sheet.auto_filter.ref == f"A2:L{len(entries) + 2}"


def test_log_export_filtered_by_employee_and_event_type(as_admin, log_history):
    engineer = log_history["engineers"][0]
    url = f"{LOG}?employee={engineer.pk}&kind=manual_write_off&export=xlsx"
    response, sheet = download(as_admin, url)
    (row,) = data_rows(sheet)
    write_off = Entry.objects.get(user=engineer, kind=Entry.Kind.MANUAL_WRITE_OFF)
    values_ = [cell.value for cell in row]
    assert values_[1:] == [
        "Engineer 00",
        "eng00@example.com",
        "Engineering",
        "Written off by the administrator",
        "Bonuses",
        -4,
        8.5,
        "Lunch",
        "Alex Admin",
        None,
        None,
    ]
    local_time = timezone.localtime(write_off.at).replace(tzinfo=None)  # Excel has no time zones
    assert abs((values_[0] - local_time).total_seconds()) < 1
    title = sheet["A1"].value
    assert "Bonus accrual and spending log" in title
    assert "Employee: Engineer 00" in title
    assert "Event types: Written off by the administrator" in title
    name = filename(response)
    assert name.startswith(f"bonus-log_{timezone.localdate().isoformat()}_") and name.endswith(".xlsx")


def test_log_export_cells_are_typed_and_negative_amounts_stay_numbers(as_admin, log_history):
    _response, sheet = download(as_admin, f"{LOG}?department={log_history['engineering'].pk}&export=xlsx")
    rows = data_rows(sheet)
    negative = [row for row in rows if row[4].value == "Written off by the administrator"]
    assert len(negative) == 60
    for row in rows:
        time, amount, after = row[0], row[6], row[7]
        assert time.is_date and isinstance(time.value, datetime)
        assert amount.data_type == "n" and after.data_type == "n"
    assert {row[6].value for row in negative} == {-4}
    batch_cells = [row[10] for row in rows if row[10].value is not None]
    assert len(batch_cells) == 60 and all(cell.data_type == "n" for cell in batch_cells)  # the accrual to all


def test_log_export_layout(as_admin, log_history):
    _response, sheet = download(as_admin, f"{LOG}?export=xlsx")
    assert sheet.freeze_panes == "A3"
    assert all(cell.font.b for cell in next(sheet.iter_rows(min_row=2, max_row=2)))
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKL"]
    assert all(width and width >= 8 for width in widths), widths
    assert widths[8] == max(widths)  # the comment gets the widest column
    assert len(data_rows(sheet)) == Entry.objects.count()


def test_log_export_for_a_manager_holds_only_their_departments(client, make_user, log_history):
    manager = make_user(role="Managers", manages=[log_history["legal"]])
    client.force_login(manager)
    _response, sheet = download(client, f"{LOG}?export=xlsx")
    assert len(data_rows(sheet)) == 10
    assert {row[3].value for row in data_rows(sheet)} == {"Legal"}


def test_log_export_period_is_in_company_days(as_admin, make_user, administrator, bonuses):
    person = make_user(full_name="Night Owl")
    services.accrue(user=person, amount=1, actor=administrator, at=local(3, 1, 23, 30))
    services.accrue(user=person, amount=2, actor=administrator, at=local(3, 2, 0, 30))
    _response, sheet = download(as_admin, f"{LOG}?period_from=2026-03-02&period_to=2026-03-02&export=xlsx")
    assert [(row[0].value, row[6].value) for row in data_rows(sheet)] == [(datetime(2026, 3, 2, 0, 30), 2)]
    assert "From: 2026-03-02" in sheet["A1"].value


# Formula injection ---------------------------------------------------------------------------


def assert_text_not_formula(cell, original: str):
    assert cell.data_type != "f", f"{original!r} became a formula"
    assert cell.data_type == "s"
    assert cell.value.startswith("'"), cell.value
    # The rest is the original text (XML turns a lone carriage return into a line feed).
    assert cell.value[1:].replace("\n", "\r") == original.replace("\n", "\r")


@pytest.fixture
def formula_people(make_user, administrator, bonuses):
    """One employee per dangerous first character; their log comments start with it too."""
    department = Department.objects.create(name="=cmd|' /C calc'!A0")
    people = {}
    for n, start in enumerate(FORMULA_STARTS):
        name = f"{start}SUM(A1:A9) person {n}"
        people[start] = make_user(f"formula{n}@example.com", full_name=name, department=department)
    for start in FORMULA_STARTS[:4]:
        services.accrue(user=people[start], amount=5, actor=administrator, comment=f'{start}HYPERLINK("x")')
    # Comments starting with a tab or a carriage return cannot come through the services (they
    # strip the comment), but an entry holding one must still export safely.
    for start in FORMULA_STARTS[4:]:
        account = Account.objects.create(
            user=people[start], currency=services.get_currency(), active=5, total_accrued=5
        )
        Entry.objects.create(
            account=account,
            user=people[start],
            currency=account.currency,
            kind=Entry.Kind.MANUAL_ACCRUAL,
            amount=Decimal("5.00"),
            balance_after=Decimal("5.00"),
            at=timezone.now(),
            actor=administrator,
            comment=f"{start}cmd|' /C calc'!A0",
        )
    return {"department": department, "people": people}


def test_names_that_look_like_formulas_come_out_as_text_in_the_table_export(as_admin, formula_people):
    _response, sheet = download(as_admin, f"{ACCRUAL_LIST}?department={formula_people['department'].pk}&export=xlsx")
    by_email = {row[1].value: row for row in data_rows(sheet)}
    assert len(by_email) == len(FORMULA_STARTS)
    for n, start in enumerate(FORMULA_STARTS):
        row = by_email[f"formula{n}@example.com"]
        assert_text_not_formula(row[0], formula_people["people"][start].full_name)
        assert_text_not_formula(row[5], formula_people["department"].name)
        assert row[8].data_type == "n" and row[8].value == 5  # the balance stays a number
    assert sheet["A1"].data_type == "s"  # the title row names the department: text too


def test_names_and_comments_that_look_like_formulas_come_out_as_text_in_the_log_export(
    as_admin, formula_people, administrator
):
    people = formula_people["people"]
    minus = services.write_off(user=people["-"], amount=2, actor=administrator, comment="-2 for a late return")
    _response, sheet = download(as_admin, f"{LOG}?department={formula_people['department'].pk}&export=xlsx")
    rows = data_rows(sheet)
    assert len(rows) == 7
    by_email = {row[2].value: row for row in rows if row[4].value != "Written off by the administrator"}
    for n, start in enumerate(FORMULA_STARTS):
        row = by_email[f"formula{n}@example.com"]
        entry = Entry.objects.get(user=people[start], kind=Entry.Kind.MANUAL_ACCRUAL)
        assert_text_not_formula(row[1], people[start].full_name)
        assert_text_not_formula(row[8], entry.comment)
        assert_text_not_formula(row[3], formula_people["department"].name)
        assert row[6].data_type == "n" and row[6].value == 5
    (written_off,) = [row for row in rows if row[4].value == "Written off by the administrator"]
    assert_text_not_formula(written_off[8], minus.comment)
    assert written_off[6].data_type == "n" and written_off[6].value == -2  # a negative amount stays a number
    assert written_off[7].data_type == "n" and written_off[7].value == 3


def test_plain_text_is_left_alone(as_admin, make_user, administrator, bonuses):
    person = make_user(full_name="Ann O'Neil")
    services.accrue(user=person, amount=1, actor=administrator, comment="Thanks - and well done = 1 +1 @team")
    _response, sheet = download(as_admin, f"{LOG}?employee={person.pk}&export=xlsx")
    (row,) = data_rows(sheet)
    assert (row[1].value, row[8].value) == ("Ann O'Neil", "Thanks - and well done = 1 +1 @team")
