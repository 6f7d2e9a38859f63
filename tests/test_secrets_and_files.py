"""Secrets never printed, library loggers kept above their payload-logging levels, a crash as
one line, a start-up network error retried, files private to their owner. `classpulse run` runs
as a real process against the fake Bot API (tests/fake_telegram_server.py) on 127.0.0.1."""

from __future__ import annotations

import io
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.context import AppContext
from bot.logging_setup import RedactingFormatter, configure_logging, register_secret
from bot.settings import Settings
from storage.db import Database
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer

REJECTED = "987654321:AAH-this-token-is-rejected-by-the-server_01"


@pytest.fixture
def restore_levels() -> Iterator[None]:
    names = ["telegram", "httpx", "httpcore", "uvicorn", "apscheduler", "viber", "asyncio"]
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_a_traceback_is_redacted_as_a_whole() -> None:
    register_secret(REJECTED)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    try:
        raise RuntimeError(f"The token `{REJECTED}` was rejected by the server.")
    except RuntimeError:
        log.error("stopping failed", exc_info=True)
    finally:
        log.removeHandler(handler)
    assert "stopping failed" in out.getvalue() and "rejected by the server" in out.getvalue()
    assert REJECTED not in out.getvalue() and "AAH-this" not in out.getvalue()


def test_debug_level_does_not_open_the_libraries_payload_logs(restore_levels: None) -> None:
    configure_logging("DEBUG")
    # telegram.* logs each update (what a person answered) at DEBUG; httpx logs token URLs.
    assert not logging.getLogger("telegram.ext.Application").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("viber.bot.api").isEnabledFor(logging.INFO)


def run_classpulse(
    tmp_path: Path, db_url: str, base_url: str, token: str, **settings: str
) -> subprocess.Popen[str]:
    """`classpulse run` on a migrated database (no Alembic run: it is not what is tested)."""
    env = {
        **os.environ,
        **settings,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": base_url,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_rejected_token_ends_run_with_one_line_and_no_token(tmp_path: Path, db_url: str) -> None:
    with FakeTelegramServer(FakeTelegram()) as server:  # it knows another token: 404
        proc = run_classpulse(tmp_path, db_url, server.base_url, REJECTED)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert REJECTED not in out + err and "AAH-this" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: InvalidToken")
    assert "Traceback" not in err


def test_an_unreachable_bot_api_at_start_is_waited_for(tmp_path: Path, db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    # The first retry after 0.1 s, not the default 1 s: the test waits for two attempts.
    url = f"http://127.0.0.1:{port}"
    proc = run_classpulse(tmp_path, db_url, url, REJECTED, TELEGRAM_START_RETRY_SECONDS="0.1")
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and len(seen) < 2:
            line = proc.stderr.readline()
            if not line:
                break
            if "waiting for the Bot API" in line:
                seen.append(line)
        proc.terminate()  # SIGTERM ends the wait too
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(seen) == 2, "retries, saying what it waits for"
    assert proc.returncode == 0
    assert all(REJECTED not in line for line in seen)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_data_dir_and_qr_codes_are_private(settings: Settings, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh" / "school.db"
    Database(f"sqlite:///{fresh}").dispose()
    assert mode(fresh) == 0o600 and mode(fresh.parent) == 0o700
    app = AppContext(settings=settings)
    result = CliRunner().invoke(main, ["class", "add", "7-А"], obj=app)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["invite", "create", "--role", "director", "--json"], obj=app)
    assert result.exit_code == 0, result.output
    qr = next((settings.data_dir / "qr").glob("invite-*.png"))
    assert mode(qr) == 0o600
    assert mode(settings.data_dir) == 0o700 and mode(qr.parent) == 0o700
