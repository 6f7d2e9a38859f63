"""Several real `classpulse run` processes on one PostgreSQL database (the PostgreSQL leg of
`make test`; one SQLite file is for one process) against the fake Bot API over HTTP on
127.0.0.1: one poller (no 409), every update answered once, and another process takes polling
over after `kill -9` of the poller. Every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database
from storage.repositories import leases
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.process_helpers import wait_until

pytestmark = pytest.mark.pg_only

PROCESSES = 2
TAKEOVER_LIMIT = 40.0  # the lease's ttl (20 s) + retry (5 s) + start-up slack on a busy machine


@pytest.fixture
def processes(
    db_url: str, tmp_path: Path
) -> Iterator[tuple[FakeTelegram, list[subprocess.Popen[bytes]]]]:
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATABASE_URL": db_url,
            "QUIET_HOURS": "",
            "DATA_DIR": str(tmp_path / "data"),
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"run-{i}.log").open("wb"),
            )
            for i in range(PROCESSES)
        ]
        try:
            assert wait_until(lambda: len(fake.calls_to("getMe")) >= PROCESSES, 60)
            yield fake, procs
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def running(procs: list[subprocess.Popen[bytes]], logs: Path) -> str:
    """ "" while every process runs; else which stopped, and the end of its log (to debug)."""
    stopped = [(i, p.poll()) for i, p in enumerate(procs) if p.poll() is not None]
    return "; ".join(
        f"process {i} exited {code}: {(logs / f'run-{i}.log').read_text(errors='replace')[-2000:]}"
        for i, code in stopped
    )


def test_processes_share_one_poller_answer_once_and_take_over_after_kill_9(
    processes: tuple[FakeTelegram, list[subprocess.Popen[bytes]]], db: Database, tmp_path: Path
) -> None:
    fake, procs = processes
    assert running(procs, tmp_path) == ""  # every process running
    chats = range(1001, 1021)
    for chat in chats:
        fake.push_text(chat, "/help")
    assert wait_until(lambda: all(fake.texts(c) for c in chats), 60), "not every chat answered"
    time.sleep(1.5)  # a second answer would come now
    assert [len(fake.texts(c)) for c in chats] == [1] * len(chats)
    assert fake.conflicts == 0  # never two getUpdates at once
    assert running(procs, tmp_path) == ""

    with db.read() as session:
        holder = leases.holder_of(session, "poller:telegram", datetime.now(UTC)) or ""
    victim = next(p for p in procs if f":{p.pid}:" in holder)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed = time.monotonic()
    fake.push_text(2001, "/help")
    assert wait_until(lambda: bool(fake.texts(2001)), TAKEOVER_LIMIT), "no takeover"
    assert time.monotonic() - killed < TAKEOVER_LIMIT
    assert len(fake.texts(2001)) == 1
