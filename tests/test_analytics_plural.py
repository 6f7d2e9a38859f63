"""Ukrainian plural forms and number spelling as the director reads them."""

from __future__ import annotations

import pytest

from analytics.numbers import percent, uk_number, uk_percent, uk_pp
from analytics.plural import count_uk, plural_uk, responses_uk

FORMS = ("відповідь", "відповіді", "відповідей")


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "відповідей"),
        (1, "відповідь"),
        (2, "відповіді"),
        (3, "відповіді"),
        (4, "відповіді"),
        (5, "відповідей"),
        (10, "відповідей"),
        (11, "відповідей"),
        (12, "відповідей"),
        (13, "відповідей"),
        (14, "відповідей"),
        (15, "відповідей"),
        (20, "відповідей"),
        (21, "відповідь"),
        (22, "відповіді"),
        (24, "відповіді"),
        (25, "відповідей"),
        (31, "відповідь"),
        (71, "відповідь"),
        (80, "відповідей"),
        (100, "відповідей"),
        (101, "відповідь"),
        (104, "відповіді"),
        (111, "відповідей"),
        (112, "відповідей"),
        (114, "відповідей"),
        (121, "відповідь"),
        (122, "відповіді"),
        (1001, "відповідь"),
        (1011, "відповідей"),
        (1_000_000, "відповідей"),
        (-1, "відповідь"),
        (-3, "відповіді"),
    ],
)
def test_plural_uk_picks_the_form_after_a_number(n: int, expected: str) -> None:
    assert plural_uk(n, *FORMS) == expected


def test_counts_read_as_in_the_brief() -> None:
    assert [responses_uk(n) for n in (1, 3, 5, 11, 21)] == [
        "1 відповідь",
        "3 відповіді",
        "5 відповідей",
        "11 відповідей",
        "21 відповідь",
    ]
    assert count_uk(2, "особа", "особи", "осіб") == "2 особи"
    assert count_uk(182, "респондент", "респонденти", "респондентів") == "182 респонденти"


def test_percent_is_exact_and_rounds_half_up() -> None:
    assert percent(23, 80) == 28.8  # 28.75: half up, not the float-error 28.7
    assert percent(21, 80) == 26.3
    assert percent(42, 71) == 59.2
    assert percent(1, 3) == 33.3
    assert percent(5, 0) is None


def test_ukrainian_decimal_comma() -> None:
    assert uk_number(25.4) == "25,4"
    assert uk_number(100.0) == "100"
    assert uk_percent(80.6) == "80,6 %"
    assert uk_pp(40.8) == "40,8 в. п."
    assert uk_pp(4.2, signed=True) == "+4,2 в. п."
    assert uk_pp(-17.9, signed=True) == "-17,9 в. п."
