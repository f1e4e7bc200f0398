"""Bytes to rows of text: encodings, delimiters, Excel workbooks, and the limits on size."""

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
DELIMITERS = (",", ";", "\t")
XLSX_MAGIC = b"PK\x03\x04"

# Cells beginning with these are formulas to a spreadsheet: exports put a "'" before them
# (and before a leading "'" itself, so that escaping can always be undone).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPED_STARTS = (*FORMULA_STARTS, "'")


class PlanFileError(Exception):
    """The file as a whole cannot be read (size, encoding, header, number of rows)."""

    def __init__(self, message: str, *, row: int | None = None, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Line:
    """One non-blank row of the file, numbered as a spreadsheet shows it (the first row is 1)."""

    number: int
    cells: list[str]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cell_escape(value: str) -> str:
    """Return ``value`` safe for a spreadsheet cell: a leading formula character gets a "'"."""
    return "'" + value if value.startswith(ESCAPED_STARTS) else value


def cell_unescape(value: str) -> str:
    """Undo `cell_escape`; a "'" before anything else is the user's own and stays."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(ESCAPED_STARTS):
        return value[1:]
    return value


def _cell_clean(cell: str) -> str:
    """Return a cell as a row holds it: without surrounding spaces or the export's formula escape."""
    cell = cell.strip()
    return cell_unescape(cell).strip() if cell.startswith("'") else cell


def _looks_like_utf16(data: bytes) -> str:
    # UTF-16 without a byte order mark: text in Latin script has every other byte zero.
    sample = data[:2000]
    if len(sample) < 4:
        return ""
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros > half * 0.4 and even_zeros < half * 0.05:
        return "utf-16-le"
    if even_zeros > half * 0.4 and odd_zeros < half * 0.05:
        return "utf-16-be"
    return ""


def decode(data: bytes) -> str:
    """Return the text of a CSV file in UTF-8 (BOM or not), UTF-16 (BOM) or Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif utf16 := _looks_like_utf16(data):
        encodings = [utf16]
    else:
        # Windows-1252 decodes almost anything, so it is the last resort.
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise PlanFileError(_("The file is not text in UTF-8, UTF-16 or Windows-1252. Save it as CSV (UTF-8) or .xlsx."))


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count = 0
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def sniff_delimiter(text: str) -> str:
    """Return the delimiter of the first row: the most frequent of , ; and tab outside quotes."""
    first = ""
    quoted = False
    # The first record, which may span lines inside quotes.
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            first = text[:index]
            break
    else:
        first = text
    counts = {delimiter: _count_outside_quotes(first, delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise PlanFileError(_("The Excel file cannot be read: %(error)s") % {"error": exc.__class__.__name__}) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_xlsx_cell(value) for value in row]
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise PlanFileError(
            _("Row %(row)d cannot be read as CSV: %(error)s") % {"row": reader.line_num, "error": exc},
            row=reader.line_num,
        ) from exc


def read_lines(data: bytes, *, has_header: bool = True) -> list[Line]:
    """Return the non-blank rows of a CSV or .xlsx file with their spreadsheet numbers.

    Raises `PlanFileError` for a file over the limits or one that cannot be read.
    """
    if len(data) > MAX_BYTES:
        raise PlanFileError(
            _("The file is larger than %(limit)d MB. Split the plan into smaller files.")
            % {"limit": MAX_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise PlanFileError(_("The file is empty."))
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    limit = MAX_ROWS + (1 if has_header else 0)
    lines: list[Line] = []
    for number, cells in enumerate(rows, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if len(lines) >= limit:
            raise PlanFileError(
                _("The plan has more than %(limit)s rows. Split it into smaller files.") % {"limit": f"{MAX_ROWS:,}"}
            )
        lines.append(Line(number=number, cells=[_cell_clean(cell) for cell in cells]))
    if not lines:
        raise PlanFileError(_("The file is empty."))
    return lines
