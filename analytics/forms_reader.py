"""Read a Google Forms responses export into a header and rows of cells.

Accepted: the CSV Google Forms downloads (UTF-8), CSV or XLSX from the linked Google Sheet, and
the same CSV after Excel re-saved it in Ukraine (Windows-1251, `;`). Encoding and delimiter are
sniffed; anything else fails with a FormsFileError saying what is wrong, in one line.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

Cell = str | datetime | None

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls
_DELIMITERS = (",", ";", "\t")
_BLOCK = 1 << 20  # bytes read at a time while hashing and checking the encoding
_SNIFF_BYTES = 1 << 18  # enough bytes for the 65,536 characters the delimiter is sniffed on


class FormsFileError(Exception):
    """The file cannot be read as a responses export (one clear line). `code` names the kind
    of problem for callers that say it in another language (the chat): empty, no_header,
    xlsx, xls, binary, csv, encoding, unreadable."""

    def __init__(self, message: str, code: str = "unreadable") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]  # data rows, padded to the header's width
    row_numbers: list[int]  # spreadsheet row number of each data row (header is row 1)
    encoding: str  # "xlsx", "utf-8", "utf-8-sig", "cp1251", "utf-16"
    delimiter: str


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


def _xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FormsFileError(f"cannot read the XLSX file: {exc}", "xlsx") from None
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
        raise FormsFileError("the file is empty", "empty")
    header = ["" if c is None else str(c).strip() for c in records[0]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise FormsFileError("the first row (the column titles) is empty", "no_header")
    width = len(header)
    rows, numbers = [], []
    for number, record in enumerate(records[1:], start=2):
        if all(_blank(c) for c in record):
            continue
        cells = list(record[:width]) + [None] * (width - len(record))
        rows.append(cells)
        numbers.append(number)
    return Table(header, rows, numbers, encoding, delimiter)


@dataclass
class Export:
    """A responses export opened for one pass over its rows, which are not kept in memory."""

    header: list[str]
    rows: Iterator[tuple[int, Sequence[Cell]]]  # (spreadsheet row number, cells, header's width)
    encoding: str
    delimiter: str
    digest: str  # SHA-256 of the file's bytes (the duplicate-import check)


def _scan(path: Path) -> tuple[str, bool, bool, bytes]:
    """(SHA-256, every byte is blank, the bytes are UTF-8, the first bytes) in one read."""
    digest = hashlib.sha256()
    blank, utf8 = True, True
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            if len(head) < _SNIFF_BYTES:
                head += block[: _SNIFF_BYTES - len(head)]
            blank = blank and not block.strip()
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), blank, utf8, head


def _encoding(head: bytes, utf8: bool) -> str:
    """BOMs first, then UTF-8 if every byte is, else Windows-1251: Excel's "CSV" in a Ukrainian
    Windows is cp1251; it decodes nearly any byte, so the column matching later is what tells
    a wrong guess."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8" if utf8 else "cp1251"


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """The file's CSV records, decoded and parsed as they are read."""
    with path.open("r", encoding=encoding, newline="") as handle:
        try:
            yield from csv.reader(handle, delimiter=delimiter)
        except csv.Error as exc:
            raise FormsFileError(f"broken CSV: {exc}", "csv") from None
        except UnicodeDecodeError:
            raise FormsFileError(
                "cannot decode the file: expected UTF-8 or Windows-1251 text", "encoding"
            ) from None


def _stream(records: Iterator[list[str]]) -> tuple[list[str], Iterator[tuple[int, Sequence[Cell]]]]:
    """Header and data rows, with the same rules as `_table`, without keeping the rows."""
    for record in records:
        if "".join(record).strip():
            break
    else:
        raise FormsFileError("the file is empty", "empty")
    header = [c.strip() for c in record]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise FormsFileError("the first row (the column titles) is empty", "no_header")
    width = len(header)

    def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
        for number, cells in enumerate(records, start=2):
            if not "".join(cells).strip():
                continue
            if len(cells) == width:
                yield number, cells
            else:
                yield number, [*cells[:width], *[None] * (width - len(cells))]

    return header, rows()


def open_export(path: Path) -> Export:
    """Open a responses export for one pass over its rows. A CSV file is read twice, never
    whole: once for its hash and encoding, then parsed while the rows are consumed (a CSV
    broken further down raises FormsFileError then). An XLSX file is read whole."""
    try:
        digest, blank, utf8, head = _scan(path)
    except OSError as exc:
        raise FormsFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if blank:
        raise FormsFileError("the file is empty", "empty")
    if head.startswith(_OLE):
        raise FormsFileError("old Excel .xls is not supported: save it as .xlsx or CSV", "xls")
    if head.startswith(_ZIP):
        table = _xlsx_table(path.read_bytes())
        return Export(
            table.header,
            iter(list(zip(table.row_numbers, table.rows, strict=True))),
            table.encoding,
            table.delimiter,
            digest,
        )
    encoding = _encoding(head, utf8)
    text = head.decode(encoding, errors="ignore")[:65536]
    if not text.strip():
        raise FormsFileError("the file is empty", "empty")
    if _looks_binary(text):
        raise FormsFileError("this is not a CSV or XLSX file (binary content)", "binary")
    delimiter = sniff_delimiter(text)
    header, rows = _stream(_csv_records(path, encoding, delimiter))
    return Export(header, rows, encoding, delimiter, digest)
