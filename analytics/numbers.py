"""Exact percentages and their Ukrainian spelling (decimal comma)."""

from __future__ import annotations

from fractions import Fraction
from math import floor


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal, rounded half up (23/80 -> 28.8); None if
    whole is 0. Exact fractions, so that 28.75 never becomes 28.7 through float error."""
    if whole <= 0:
        return None
    return round_half_up(Fraction(part * 100, whole))


def round_half_up(value: Fraction | float, digits: int = 1) -> float:
    scale = 10**digits
    exact = Fraction(value) * scale
    return floor(exact + Fraction(1, 2)) / scale


def gap_pp(high: Fraction, low: Fraction) -> float:
    """Difference of two exact shares (0..1) in percentage points, one decimal."""
    return round_half_up((high - low) * 100)


def uk_number(value: float, digits: int = 1) -> str:
    """12.5 -> "12,5"; 100.0 -> "100"; -3.0 -> "−3" is not used: plain hyphen-minus."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def uk_percent(value: float) -> str:
    """80.6 -> "80,6 %" (Ukrainian typography separates % with a space)."""
    return f"{uk_number(value)} %"


def uk_pp(value: float, signed: bool = False) -> str:
    """Percentage points: 40.8 -> "40,8 в. п."; signed: "+4,2 в. п."."""
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{uk_number(value)} в. п."
