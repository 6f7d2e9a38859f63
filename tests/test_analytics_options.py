"""Analytics is told about the school through AnalyticsOptions and never imports the bot."""

from __future__ import annotations

import ast
from datetime import UTC
from pathlib import Path

import pytest

from analytics import AnalyticsOptions

ANALYTICS = Path(__file__).resolve().parent.parent / "analytics"


def test_nothing_in_analytics_imports_bot() -> None:
    offenders = []
    for path in sorted(ANALYTICS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "bot"]
    assert offenders == []


def test_options_are_frozen_with_a_sound_minimum_group() -> None:
    options = AnalyticsOptions(school_name="Гімназія", tz=UTC)
    assert options.min_group_size == 5
    with pytest.raises(AttributeError):
        options.min_group_size = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="at least 1"):
        AnalyticsOptions(school_name="Гімназія", tz=UTC, min_group_size=0)
