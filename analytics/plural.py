"""Ukrainian plural forms: `plural_uk(21, "відповідь", "відповіді", "відповідей")`."""

from __future__ import annotations


def plural_uk(n: int, one: str, few: str, many: str) -> str:
    """The form of a noun after the integer `n`: 1, 21, 101 -> one; 2-4, 22-24 -> few; 0, 5-20,
    25-30, 111-114 -> many (11-14 take "many" whatever the last digit)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count_uk(n: int, one: str, few: str, many: str) -> str:
    """`n` and its noun: count_uk(3, "відповідь", "відповіді", "відповідей") -> "3 відповіді"."""
    return f"{n} {plural_uk(n, one, few, many)}"


def responses_uk(n: int) -> str:
    return count_uk(n, "відповідь", "відповіді", "відповідей")
