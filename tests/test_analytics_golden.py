"""The report's numbers do not move when its code does: the JSON of the seed school (three
surveys, a previous students' wave for the trend, free texts) under several scopes and minimum
group sizes, compared with tests/data/report_golden.json.

That file was written by the report as it was before counting moved from pandas frames to plain
Python (one analysis, same numbers). A deliberate change of a figure or of the JSON shape is
re-recorded with `CLASSPULSE_RECORD_GOLDEN=1 pytest tests/test_analytics_golden.py`, and the diff
of the file is then the change to review.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics import build_report, render
from bot.settings import Settings
from storage.db import Database
from tests.analytics_fixtures import options, seed_previous_students, seed_school
from tests.conftest import clean_settings

GOLDEN = Path(__file__).parent / "data" / "report_golden.json"
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
# (name, min_group_size, class, role): k 14 hides the 13 students of 9-А and every class of the
# previous students' wave (12 each); k 16 hides every students' class and the parents of 9-А.
SCOPES: list[tuple[str, int, str | None, str | None]] = [
    ("school k5", 5, None, None),
    ("7-А k5", 5, "7-А", None),
    ("students k5", 5, None, "student"),
    ("parents of 9-А k5", 5, "9-А", "parent"),
    ("teachers k5", 5, None, "teacher"),
    ("school k14", 14, None, None),
    ("9-А k14", 14, "9-А", None),
    ("school k16", 16, None, None),
    ("students k16", 16, None, "student"),
]


@pytest.fixture(scope="module")
def reports(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    seed_school(module_db)
    seed_previous_students(module_db)
    settings: Settings = clean_settings(module_db.url, tmp_path_factory.mktemp("g") / "data")
    out = {}
    for name, k, class_name, role in SCOPES:
        report = build_report(
            module_db,
            options(settings, min_group_size=k),
            class_name=class_name,
            role=role,
            now=NOW,
        )
        out[name] = json.loads(str(render(report, "json")))
    if os.environ.get("CLASSPULSE_RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize("name", [s[0] for s in SCOPES])
def test_the_report_json_is_the_recorded_one(reports: dict[str, Any], name: str) -> None:
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert reports[name] == recorded[name]


def test_the_recorded_reports_hide_and_trend() -> None:
    """The recording covers what could go wrong: hidden groups, a suppressed survey, a trend."""
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert recorded["school k5"]["trend"] and recorded["school k5"]["gaps"]
    assert any(s["hidden_groups"] for s in recorded["school k14"]["surveys"])
    assert any(s["suppressed"] for s in recorded["school k16"]["surveys"])
    texts = [q for s in recorded["school k5"]["surveys"] for q in s["questions"] if q.get("texts")]
    assert texts
