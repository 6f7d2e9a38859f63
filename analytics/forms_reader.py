"""Read a Google Forms responses export into a header and rows of cells.

Accepted: the CSV Google Forms downloads (UTF-8), CSV or XLSX from the linked Google Sheet, and
the same CSV after Excel re-saved it in Ukraine (Windows-1251, `;`). Encoding and delimiter are
sniffed; anything else fails with a FormsFileError saying what is wrong, in one line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

Cell = str | datetime | None

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls
_DELIMITERS = (",", ";", "\t")


class FormsFileError(Exception):
    """The file cannot be read as a responses export (one clear line)."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]  # data rows, padded to the header's width
    row_numbers: list[int]  # spreadsheet row number of each data row (header is row 1)
    encoding: str  # "xlsx", "utf-8", "utf-8-sig", "cp1251", "utf-16"
    delimiter: str


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read with: BOMs first, then UTF-8, then Windows-1251."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV" in a Ukrainian Windows is cp1251; it decodes nearly any byte, so the
        # column matching later is what tells a wrong guess.
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError:
        raise FormsFileError(
            "cannot decode the file: expected UTF-8 or Windows-1251 text"
        ) from None


def _looks_binary(text: str) -> bool:
    sample = text[:4000]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t")
    return "\x00" in sample or controls > len(sample) // 100 + 2


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns, consistently over rows."""
    sample_lines = text[:65536]
    best, best_score = ",", -1.0
    for delimiter in _DELIMITERS:
        rows = list(csv.reader(io.StringIO(sample_lines), delimiter=delimiter))[:50]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        full = rows[1:-1] or rows[1:]  # the last sampled row may be cut short
        consistent = sum(1 for r in full if len(r) == width) / len(full) if full else 1.0
        score = width * consistent
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_table(data: bytes) -> Table:
    text, encoding = decode(data)
    if not text.strip():
        raise FormsFileError("the file is empty")
    if _looks_binary(text):
        raise FormsFileError("this is not a CSV or XLSX file (binary content)")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise FormsFileError(f"broken CSV: {exc}") from None
    cells: list[list[Cell]] = [list(r) for r in records]
    return _table(cells, encoding, delimiter)


def _xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FormsFileError(f"cannot read the XLSX file: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        records: list[list[Cell]] = []
        for values in sheet.iter_rows(values_only=True):
            row: list[Cell] = []
            for value in values:
                if value is None or isinstance(value, datetime):
                    row.append(value)
                elif isinstance(value, float) and value.is_integer():
                    row.append(str(int(value)))
                else:
                    row.append(str(value))
            records.append(row)
    finally:
        workbook.close()
    return _table(records, "xlsx", "")


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(records: list[list[Cell]], encoding: str, delimiter: str) -> Table:
    while records and all(_blank(c) for c in records[0]):
        records.pop(0)
    if not records:
        raise FormsFileError("the file is empty")
    header = ["" if c is None else str(c).strip() for c in records[0]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise FormsFileError("the first row (the column titles) is empty")
    width = len(header)
    rows, numbers = [], []
    for number, record in enumerate(records[1:], start=2):
        if all(_blank(c) for c in record):
            continue
        cells = list(record[:width]) + [None] * (width - len(record))
        rows.append(cells)
        numbers.append(number)
    return Table(header, rows, numbers, encoding, delimiter)


def read_table(path: Path) -> tuple[Table, bytes]:
    """The file's table and its bytes (for the duplicate-import hash)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormsFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(data), data


def parse_bytes(data: bytes) -> Table:
    if not data.strip():
        raise FormsFileError("the file is empty")
    if data.startswith(_ZIP):
        return _xlsx_table(data)
    if data.startswith(_OLE):
        raise FormsFileError("old Excel .xls is not supported: save it as .xlsx or CSV")
    return _csv_table(data)
