"""The scheduler's job store on SQLite starts while the bot writes, without "database is locked".

The job store creates its table at start: a read (does it exist?) then a write in one
transaction. Begun deferred, that transaction reads a snapshot; a write committed meanwhile by
the bot makes SQLite refuse the upgrade at once, whatever the busy timeout, and the scheduler
failed to start ("could not start; trying again"). Begun IMMEDIATE it waits its turn.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from bot.cli.app import AppContext
from bot.schedule.scheduler import TABLE, start_scheduler, stop_scheduler
from bot.settings import Settings
from storage.db import Database
from storage.repositories import identity


def test_the_job_store_starts_while_another_connection_writes(
    db: Database, settings: Settings
) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's locking")
    holding = threading.Event()

    def bot_writes() -> None:
        with db.write() as session:  # BEGIN IMMEDIATE: the write lock, held a moment
            identity.remember(session, "telegram", "username", "school_bot", datetime.now(UTC))
            holding.set()
            time.sleep(0.3)

    writer = threading.Thread(target=bot_writes)
    writer.start()
    holding.wait()

    async def start() -> list[str]:
        scheduler = await start_scheduler(AppContext(settings=settings))
        try:
            return [job.id for job in scheduler.get_jobs()]
        finally:
            await stop_scheduler(scheduler)

    try:
        jobs = asyncio.run(start())
    finally:
        writer.join()
    assert "waves-open-close" in jobs
    assert TABLE in inspect(db.engine).get_table_names()
    with db.read() as session:
        assert identity.recall(session, "telegram", "username") == "school_bot"
