"""The timestamp column of a Forms export, in any interface language and its date format.

    2025/02/14 10:15:00 AM EET   (Forms CSV download, English)
    2/14/2025 10:15:00           (Sheet, en-US: month first)
    14.02.2025 10:15:00          (Sheet, uk/ru/de)
    14/02/2025 10:15:00          (Sheet, es/fr/en-GB: day first)
    2025-02-14 10:15:00          (ISO)
XLSX cells arrive as datetimes already. A time-zone word at the end (EET, GMT+2) is ignored:
the time is the school's local time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from analytics.forms_reader import Cell

TIMESTAMP_TITLES = {
    "timestamp",
    "позначка часу",
    "отметка времени",
    "marca temporal",
    "horodateur",
    "zeitstempel",
    "carimbo de data/hora",
    "informazioni cronologiche",
    "sygnatura czasowa",
    "tijdstempel",
    "časová značka",
    "zaman damgası",
    "dấu thời gian",
    "marca de temps",
    "tidsstämpel",
    "tidsstempel",
    "aikaleima",
    "časová pečiatka",
    "časovna oznaka",
    "időbélyeg",
    "marcaj de timp",
    "χρονική σήμανση",
    "дата и время",
    "дата і час",
}
# Only the English (US) interface writes a/b/yyyy as month/day.
_MONTH_FIRST_TITLES = {"timestamp"}

_PATTERN = re.compile(
    r"^\s*(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})\.?"
    r"(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:[.,]\d+)?"
    r"\s*([AaPp]\.?\s?[Mm]\.?|дп|пп|ДП|ПП)?)?"
    r"(?:\s+\S+)?\s*$"
)


def is_timestamp_title(title: str) -> bool:
    return title.strip().lower() in TIMESTAMP_TITLES


class _Parts(NamedTuple):
    a: int
    b: int
    c: int  # the year unless `iso`
    iso: bool  # year first: a = year, b = month, c = day
    hour: int
    minute: int
    second: int
    marker: str  # "am", "pm" or ""


def _parts(text: str) -> _Parts | None:
    m = _PATTERN.match(text)
    if m is None:
        return None
    a, b, c, hh, mm, ss, ampm = m.groups()
    marker = (ampm or "").replace(".", "").replace(" ", "").lower()
    marker = {"дп": "am", "пп": "pm"}.get(marker, marker)
    iso = len(a) == 4
    year_text = a if iso else c
    if len(year_text) not in (2, 4):
        return None
    c_value = int(c) if iso or len(c) == 4 else 2000 + int(c)
    return _Parts(int(a), int(b), c_value, iso, int(hh or 0), int(mm or 0), int(ss or 0), marker)


def month_first(values: Sequence[Cell], title: str) -> bool:
    """Whether `a/b/yyyy` dates are month/day: decided by any day past 12 in the column, else by
    the column title's language (only the English "Timestamp" means US order)."""
    for value in values:
        if not isinstance(value, str):
            continue
        parts = _parts(value)
        if parts is None or parts.iso:
            continue
        if parts.a > 12:
            return False
        if parts.b > 12:
            return True
    return title.strip().lower() in _MONTH_FIRST_TITLES


def parse_timestamp(value: Cell, month_is_first: bool) -> datetime | None:
    """A naive local datetime, or None if the cell is not a date."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if value is None or not value.strip():
        return None
    parts = _parts(value)
    if parts is None:
        return None
    if parts.iso:
        year, month, day = parts.a, parts.b, parts.c
    elif month_is_first:
        month, day, year = parts.a, parts.b, parts.c
    else:
        day, month, year = parts.a, parts.b, parts.c
    hour = parts.hour
    if parts.marker == "pm" and hour < 12:
        hour += 12
    elif parts.marker == "am" and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, parts.minute, parts.second)
    except ValueError:
        return None


def school_year(moment: datetime) -> str:
    """The Ukrainian school year (September to August) of a date: 2025-02-14 -> "2024-2025"."""
    start = moment.year if moment.month >= 9 else moment.year - 1
    return f"{start}-{start + 1}"
