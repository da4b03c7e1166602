"""Excel exports (SPEC.md section 7), declared column by column and streamed with openpyxl's write-only mode.

An export is a `SheetExport`: a name (for the file), a title, and its columns, each declared once
(as pretix's `ListExporter` does): the translated header, the field it reads, its width, its
number format, and how what is stored becomes the cell (`cell`: a label, an amount in whole numbers).
Rows are read from the database in chunks and written straight to a temporary file, so an export
of any size holds neither the rows nor the workbook in memory; the file is then sent.
"""

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django import forms
from django.http import FileResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMAT = "#,##0.00"  # dates and times keep openpyxl's own yyyy-mm-dd (h:mm:ss) formats
WHOLE_FORMAT = "#,##0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def points_format(value) -> str:
    """An amount's format: `SheetExport.points` gives a whole-number currency's whole amounts as int."""
    return WHOLE_FORMAT if isinstance(value, int) else NUMBER_FORMAT


@dataclass(frozen=True)
class Column:
    """One column of a sheet, declared once."""

    label: str  # the header, translatable (gettext_lazy)
    field: str  # what it reads: a `values_list` path of the export's queryset
    width: int
    number_format: str | Callable[[object], str] | None = None  # a callable picks it by the cell's value
    cell: str | Callable[[Any, tuple], Any] = ""  # stored value → cell: a method name of the export, or a function

    @property
    def header(self) -> str:
        """The header as the sheet shows it, in the active language."""
        return str(self.label)


def labels(choices) -> Callable[[Any, tuple], str]:
    """A `cell` that shows a code by its label (an event type, a status)."""
    names = dict(choices)
    return lambda value, row: str(names.get(value, value))


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


class SheetExport:
    """The rows of a queryset as one sheet. Subclasses set `name`, `title` and `columns`.

    A column's `cell` may name a method of the export, called as `method(value, row)` with the stored
    value and the row as read (the columns' fields in order, then `extra_fields`; `self.index` maps a
    field to its place): e.g. `points`, an amount as its currency shows it. `begin_chunk` sees each
    chunk of rows before they are written (to read what belongs to them in one query).
    """

    name: str
    title: str
    columns: list[Column]
    extra_fields: tuple[str, ...] = ()
    whole_numbers_field = "currency__whole_numbers"  # read for `points` when the export has no one currency

    def __init__(self, *, currency=None):
        self.currency = currency
        self.fields = [column.field for column in self.columns]
        self.fields += [field for field in self.extra_fields if field not in self.fields]
        self.index = {field: i for i, field in reversed(list(enumerate(self.fields)))}

    def read(self, queryset):
        """The queryset as read for the sheet: no joins or prefetches that `values_list` would not use."""
        return queryset.select_related(None)

    def begin_chunk(self, chunk: list[tuple]) -> None:
        pass

    def rows(self, queryset) -> Iterator[list]:
        width = len(self.columns)
        cells = [
            (i, getattr(self, column.cell) if isinstance(column.cell, str) else column.cell)
            for i, column in enumerate(self.columns)
            if column.cell
        ]
        for chunk in self._chunks(self.read(queryset)):
            self.begin_chunk(chunk)
            for row in chunk:
                values = list(row[:width])
                for i, cell in cells:
                    values[i] = cell(row[i], row)
                yield values

    def _chunks(self, queryset) -> Iterator[list[tuple]]:
        """values_list rows in chunks of CHUNK, reading with a server-side cursor where there is one."""
        chunk = []
        for row in queryset.values_list(*self.fields).iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def points(self, value: Decimal | None, row: tuple):
        """An amount as its cell's value: an int when the currency counts in whole numbers (and it is whole).

        The currency is the export's, or the row's (`whole_numbers_field`, among `extra_fields`).
        """
        if value is None:
            return None
        whole = self.currency.whole_numbers if self.currency is not None else row[self.index[self.whole_numbers_field]]
        return int(value) if whole and value == value.to_integral_value() else value

    def response(self, queryset, *, filters: dict[str, str]) -> FileResponse:
        """The sheet as a download named after the export, the moment and the filters in use."""
        stamp = timezone.localtime()
        described = "; ".join(f"{label}: {value}" for label, value in filters.items()) or "all rows"
        subtitle = f"{described} (exported {stamp:%Y-%m-%d %H:%M})"
        suffix = slugify("_".join(f"{label}-{value}" for label, value in filters.items()))[:80]
        filename = f"{self.name}_{stamp:%Y-%m-%d_%H%M}{'_' + suffix if suffix else ''}.xlsx"
        output = write_xlsx(title=str(self.title), subtitle=subtitle, columns=self.columns, rows=self.rows(queryset))
        return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


def write_xlsx(*, title: str, subtitle: str, columns: list[Column], rows) -> IO[bytes]:
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
            choices = dict(field.choices)
            text = ", ".join(str(choices.get(item, item)) for item in value)
        if text:
            described[str(field.label or name)] = text
    return described
