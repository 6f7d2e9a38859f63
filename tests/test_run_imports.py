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
import asyncio, json, sys
from pathlib import Path

from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer

from bot.context import AppContext
from bot.settings import load_settings

url, data_dir = sys.argv[1], Path(sys.argv[2])
fake = FakeTelegram()
loaded = []


class Probe:
    # Started after every component: it waits for the outbox sender, then looks.
    name = "probe"
    transports = {}
    routes = []

    def __init__(self, rt, stop):
        self.rt, self.stop_event = rt, stop

    async def start(self):
        self.task = asyncio.create_task(self.look())

    async def look(self):
        while self.rt.sender is None:
            await asyncio.sleep(0.01)
        loaded.extend(sys.modules)
        self.stop_event.set()

    async def stop(self):
        await self.task


with FakeTelegramServer(fake) as server:
    settings = load_settings(
        _env_file=None, database_url=url, data_dir=data_dir, quiet_hours="",
        telegram_bot_token=fake.token, telegram_api_base_url=server.base_url,
    )
    app = AppContext(settings=settings)
    app.migrate()  # as `classpulse run` does
    from bot import app as composition
    from bot.runtime import serve

    async def main():
        stop = asyncio.Event()
        probe = lambda rt: Probe(rt, stop)
        factories = (*composition.COMPONENTS, probe)
        await serve(app, factories, stop, service=composition.chat_service(app))

    asyncio.run(main())
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
