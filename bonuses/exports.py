"""Excel exports (SPEC.md section 7), streamed with openpyxl's write-only mode.

Rows are read from the database in chunks and written straight to a temporary file, so an
export of any size holds neither the rows nor the workbook in memory; the file is then sent.
"""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from django import forms
from django.http import FileResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from users.models import User

from .models import Currency, Entry, Order
from .templatetags.points import is_whole

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMAT = "#,##0.00"  # dates and times keep openpyxl's own yyyy-mm-dd (h:mm:ss) formats
WHOLE_FORMAT = "#,##0"


def points_format(value) -> str:
    """An amount's format: the row functions give a whole-number currency's whole amounts as int."""
    return WHOLE_FORMAT if isinstance(value, int) else NUMBER_FORMAT


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    number_format: str | Callable[[object], str] | None = None  # a callable picks it by the cell's value


def _points(value: Decimal | None, currency):
    """An amount as its cell's value: an int when the currency counts in whole numbers (and it is whole)."""
    return int(value) if value is not None and is_whole(value, currency) else value


def safe_text(value: str) -> str:
    """Text a spreadsheet would read as a formula gets a leading apostrophe: it stays text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell_value(value):
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime):
        # Excel has no time zones: write the company's local time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def write_xlsx(*, title: str, subtitle: str, columns: list[Column], rows: Iterable[tuple]) -> IO[bytes]:
    """Write a one-sheet workbook: a title row, a bold frozen header with autofilter, typed cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A3"
    bold = Font(bold=True)
    heading = WriteOnlyCell(sheet, value=safe_text(f"{title} — {subtitle}"))
    heading.font = Font(bold=True, size=12)
    sheet.append([heading])
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=safe_text(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # Plain values are written fastest; only the columns with a number format of their own need
    # a cell object (openpyxl gives dates and times a date format by itself).
    formatted = [(i, column.number_format) for i, column in enumerate(columns) if column.number_format]
    count = 0
    for row in rows:
        values = [_cell_value(value) for value in row]
        for i, number_format in formatted:
            if values[i] is not None:
                cell = WriteOnlyCell(sheet, value=values[i])
                cell.number_format = number_format(values[i]) if callable(number_format) else number_format
                values[i] = cell
        sheet.append(values)
        count += 1
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{count + 2}"
    output = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it once sent
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_response(*, name: str, title: str, filters: dict[str, str], columns: list[Column], rows) -> FileResponse:
    stamp = timezone.localtime()
    described = "; ".join(f"{label}: {value}" for label, value in filters.items()) or "all rows"
    subtitle = f"{described} (exported {stamp:%Y-%m-%d %H:%M})"
    suffix = slugify("_".join(f"{label}-{value}" for label, value in filters.items()))[:80]
    filename = f"{name}_{stamp:%Y-%m-%d_%H%M}{'_' + suffix if suffix else ''}.xlsx"
    output = write_xlsx(title=title, subtitle=subtitle, columns=columns, rows=rows)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _chunked(queryset, fields: list[str]) -> Iterator[list[tuple]]:
    """values_list rows in chunks of CHUNK, reading with a server-side cursor where there is one."""
    chunk = []
    for row in queryset.values_list(*fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


ACCRUAL_COLUMNS = [
    Column("Full name", 28),
    Column("E-mail", 32),
    Column("Employee number", 16),
    Column("Position", 24),
    Column("City", 16),
    Column("Department", 22),
    Column("Tags", 28),
    Column("Hire date", 12),
    Column("Balance", 14, points_format),
]


def accrual_rows(queryset, *, currency=None) -> Iterator[tuple]:
    """The accrual table's rows; `currency` is the one the balances are in."""
    fields = [
        "pk",
        "full_name",
        "email",
        "employee_number",
        "position__name",
        "city__name",
        "department__name",
        "hire_date",
        "balance",
    ]
    for chunk in _chunked(queryset.prefetch_related(None), fields):
        tags: dict[int, list[str]] = {}
        for user_id, tag in User.tags.through.objects.filter(user_id__in=[r[0] for r in chunk]).values_list(
            "user_id", "tag__name"
        ):
            tags.setdefault(user_id, []).append(tag)
        for pk, name, email, number, position, city, department, hired, balance in chunk:
            tag_names = ", ".join(sorted(tags.get(pk, [])))
            yield (name, email, number, position, city, department, tag_names, hired, _points(balance, currency))


LOG_COLUMNS = [
    Column("Time", 17),
    Column("Employee", 28),
    Column("E-mail", 30),
    Column("Department", 20),
    Column("Event type", 30),
    Column("Currency", 12),
    Column("Amount", 12, points_format),
    Column("Active balance after", 14, points_format),
    Column("Comment", 48),
    Column("Actor", 24),
    Column("Batch", 8),
    Column("Order", 14),
]


def log_rows(queryset) -> Iterator[tuple]:
    labels = dict(Entry.Kind.choices)
    fields = [
        "at",
        "user__full_name",
        "user__email",
        "user__department__name",
        "kind",
        "currency__name",
        "amount",
        "balance_after",
        "comment",
        "actor__full_name",
        "batch_id",
        "reservation__reference",
    ]
    currencies = {currency.name: currency for currency in Currency.objects.all()}  # a sheet may mix them
    for chunk in _chunked(queryset.select_related(None), fields):
        for row in chunk:
            currency = currencies.get(row[5])
            amounts = (_points(row[6], currency), _points(row[7], currency))
            yield (*row[:4], str(labels.get(row[4], row[4])), row[5], *amounts, *row[8:])


def describe_filters(form) -> dict[str, str]:
    """The filters in use, as label → readable value, for the sheet header and the file name."""
    described = {}
    if not form.is_valid():  # the export is empty: its header says why, never "all rows"
        errors = []
        for name, messages in form.errors.items():
            label = form.fields[name].label if name in form.fields else None
            errors.append(f"{label}: {' '.join(messages)}" if label else " ".join(messages))
        return {_("Invalid filter, nothing exported"): "; ".join(errors)}
    for name, value in form.cleaned_data.items():
        field = form.fields[name]
        if value is None or isinstance(value, str | int | float | Decimal | date) or hasattr(value, "pk"):
            text = value.isoformat() if isinstance(value, date) else str(value if value is not None else "")
        elif isinstance(field, forms.ModelMultipleChoiceField):
            text = ", ".join(str(item) for item in value)
        else:  # codes with labels, such as event types
            labels = dict(field.choices)
            text = ", ".join(str(labels.get(item, item)) for item in value)
        if text:
            described[str(field.label or name)] = text
    return described


ORDER_COLUMNS = [
    Column("Order", 10),
    Column("Placed", 17),
    Column("Employee", 28),
    Column("E-mail", 30),
    Column("Department", 20),
    Column("Gift", 30),
    Column("Quantity", 9),
    Column("Returned", 9),
    Column("Points", 12, points_format),
    Column("Currency", 12),
    Column("Status", 16),
    Column("Completed", 17),
    Column("Pick-up office", 18),
    Column("Delivery comment", 40),
]


def order_rows(queryset) -> Iterator[tuple]:
    labels = dict(Order.Status.choices)
    fields = [
        "pk",
        "created_at",
        "user__full_name",
        "user__email",
        "user__department__name",
        "gift__name",
        "quantity",
        "returned_quantity",
        "points",
        "currency__name",
        "status",
        "completed_at",
        "pickup_office",
        "delivery_comment",
    ]
    currencies = {currency.name: currency for currency in Currency.objects.all()}
    for chunk in _chunked(queryset.select_related(None), fields):
        for row in chunk:
            points = _points(row[8], currencies.get(row[9]))
            yield (f"#{row[0]:06d}", *row[1:8], points, row[9], str(labels.get(row[10], row[10])), *row[11:])
