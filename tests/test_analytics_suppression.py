"""Small groups stay hidden, and no hidden cell can be recovered by subtraction from what the
report shows (totals, other cells, positive shares, school totals of response rates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from analytics import build_report, render
from analytics.suppression import suppress_columns, suppress_line, suppress_with_blocks
from bot.settings import Settings
from storage.db import Database
from tests.analytics_fixtures import PARENTS, STUDENTS, Q, add_wave, options


def test_primary_suppression_hides_one_to_four() -> None:
    assert suppress_line([0, 1, 4, 5, 30], 5, additive=False) == [False, True, True, False, False]


def test_a_lone_hidden_cell_takes_the_next_smallest_non_zero_with_it() -> None:
    # 80 - 29 - 24 - 23 would give the 4 back
    assert suppress_line([29, 24, 4, 23], 5) == [False, False, True, True]
    # never a zero as the partner: 31 - 20 - 0 would still give the 3
    assert suppress_line([3, 0, 20, 8], 5) == [True, False, False, True]
    # two small cells hide each other
    assert suppress_line([3, 2, 20, 8], 5) == [True, True, False, False]


def test_blocks_keep_the_positive_share_safe() -> None:
    # positive = options 0 and 1: 12 + 49 is shown as a share, so 12 must not be the partner
    hidden, share_hidden = suppress_with_blocks([12, 49, 3, 16], 5, [[0, 1], [2, 3]])
    assert hidden == [False, False, True, True]
    assert not share_hidden
    # a small positive cell with no non-zero partner in its block: the share goes instead
    hidden, share_hidden = suppress_with_blocks([3, 0, 20, 10], 5, [[0, 1], [2, 3]])
    assert share_hidden
    assert hidden == [True, False, False, True]


def test_response_rate_columns_and_their_total() -> None:
    (column,), (total_hidden,) = suppress_columns([[9, 3, 14]], [26], 5)
    assert column == [True, True, False]
    assert not total_hidden
    # one small class and nothing else to pair it with: the total would reveal it
    (column,), (total_hidden,) = suppress_columns([[3, 0]], [3], 5)
    assert column == [True, False]
    assert total_hidden


def _recovered(cells: list[int | None], total: int) -> int | None:
    """The attack: with exactly one unknown cell in a row, total - known = the unknown."""
    unknown = [c for c in cells if c is None]
    if len(unknown) != 1:
        return None
    return total - sum(c for c in cells if c is not None)


def _attack_question(q: dict[str, Any]) -> list[int]:
    """Every hidden count the report would give away by subtraction (should be none)."""
    if q["kind"] != "single" or q["suppressed"]:
        return []
    cells = [o["count"] for o in q["options"]]
    if "other" in q:
        cells.append(q["other"]["count"])
    found = []
    if (value := _recovered(cells, q["answered"])) is not None:
        found.append(value)
    if q["positive_percent"] is not None:
        # positive count from the shown share: round(share * answered)
        positive = round(q["positive_percent"] * q["answered"] / 100)
        blocks = ([0, 1], [i for i in range(len(cells)) if i not in (0, 1)])
        for block, total in zip(blocks, (positive, q["answered"] - positive), strict=True):
            value = _recovered([cells[i] for i in block], total)
            if value is not None:
                found.append(value)
    return found


# Counts chosen to hit every case: a lone small cell, a small cell beside zeros, a small
# positive cell, two small cells, a whole question answered by four people.
TRICKY = (
    40,
    {
        "q1": Q("single", (29, 4, 0, 7)),  # small positive cell; partner 29 (same block)
        "q2": Q("single", (3, 0, 27, 10)),  # small positive cell, its block partner is 0
        "q5": Q("single", (20, 10, 8, 2)),  # small negative cell
        "q6": Q("single", (2, 0, 35, 3)),  # two small cells
        "q7": Q("single", (1, 1, 1, 1)),  # four answered: nothing shown
        "q4": Q("multi", (30, 3, 12, 40, 1, 0), 40),
    },
)


@pytest.fixture
def tricky_json(db: Database, settings: Settings) -> dict[str, Any]:
    add_wave(db, PARENTS, "2025", TRICKY, opens=datetime(2025, 3, 1, tzinfo=UTC))
    return dict(json.loads(str(render(build_report(db, options(settings), [PARENTS]), "json"))))


def test_subtraction_attack_recovers_nothing(tricky_json: dict[str, Any]) -> None:
    questions = {q["id"]: q for q in tricky_json["surveys"][0]["questions"]}
    for q in questions.values():
        assert _attack_question(q) == [], q["id"]
    # and the cells a naive report would have shown as they are are indeed hidden
    assert [o["count"] for o in questions["q1"]["options"]] == [None, None, 0, 7]
    assert [o["count"] for o in questions["q5"]["options"]] == [20, 10, None, None]
    assert [o["count"] for o in questions["q6"]["options"]] == [None, 0, 35, None]
    assert questions["q2"]["positive_percent"] is None  # 3/40 would give the 3 back
    assert all(o["count"] is None for o in questions["q7"]["options"])
    assert questions["q7"]["answered"] == 4
    multi = [o["count"] for o in questions["q4"]["options"]]
    assert multi == [30, None, 12, 40, None, 0]


def test_hidden_counts_never_reach_the_text_or_percent(tricky_json: dict[str, Any]) -> None:
    q1 = next(q for q in tricky_json["surveys"][0]["questions"] if q["id"] == "q1")
    assert [o["percent"] for o in q1["options"]] == [None, None, 0.0, 17.5]
    assert q1["positive_percent"] == 82.5  # 33 of 40: both positive cells hidden together


def test_withheld_positive_share_also_leaves_the_gap(db: Database, settings: Settings) -> None:
    # q2 (fairness) of parents hides its share; the gap table must not show it either
    add_wave(db, PARENTS, "2025", TRICKY, opens=datetime(2025, 3, 1, tzinfo=UTC))
    add_wave(
        db,
        STUDENTS,
        "2025",
        (20, {"q12": Q("single", (5, 5, 5, 5))}),
        opens=datetime(2025, 3, 1, tzinfo=UTC),
    )
    report = build_report(db, options(settings))
    fairness = next(g for g in report.gaps if g.construct == "fairness")
    assert fairness.positive["parent"] is None
    assert fairness.positive["student"] == 50.0
    assert fairness.max_gap_pp is None


def test_min_group_size_comes_from_settings(db: Database, settings: Settings) -> None:
    add_wave(db, PARENTS, "2025", TRICKY, opens=datetime(2025, 3, 1, tzinfo=UTC))
    report = build_report(db, options(settings, min_group_size=2), [PARENTS])
    q5 = next(q for q in report.surveys[0].questions if q.id == "q5")
    assert [o.count for o in q5.options] == [20, 10, 8, 2]
