"""What a running bot keeps in memory: `classpulse run` on a current schema, polling Telegram,
loads no report renderers, no Alembic, no web server and no QR codes (issue 16: idle RSS).

Checked in a fresh interpreter, as `run` composes it (bot/app.py's COMPONENTS, started and
sending), against the fake Bot API; the lists say which library stays out and why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Loaded only when their job runs: a report, a migration, a webhook, an invite's QR code.
NOT_AT_REST = (
    "pandas",
    "numpy",
    "matplotlib",
    "openpyxl",
    "docx",
    "alembic",
    "mako",
    "uvicorn",
    "starlette",
    "qrcode",
    "PIL",
    "sqlalchemy.dialects.postgresql",  # the bot runs on SQLite here
)
# What a started bot must have loaded: without these the probe saw no running bot.
RUNNING = ("telegram.ext", "apscheduler.schedulers.asyncio", "bot.delivery.outbox")

PROBE = """
import json, sys

from tests.running_probe import serve_with

loaded = []


async def look(rt, app):
    loaded.extend(sys.modules)


serve_with(sys.argv[1], sys.argv[2], look)
print(json.dumps(sorted(loaded)))
"""


def _modules_of_a_running_bot(url: str, data_dir: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, url, str(data_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return set(json.loads(out.stdout.splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.mark.sqlite_only  # on PostgreSQL its dialect is loaded, rightly
def test_a_running_bot_on_a_current_schema_loads_no_heavy_library(
    db_url: str, tmp_path: Path
) -> None:
    modules = _modules_of_a_running_bot(db_url, tmp_path / "data")
    assert [name for name in RUNNING if name not in modules] == []
    assert [name for name in NOT_AT_REST if _loaded(modules, name)] == []
