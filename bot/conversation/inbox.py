"""The inbox: every inbound update is stored before it is acknowledged, then processed once.

A channel adapter calls `await inbox.store([...])` and only then confirms the update to its
platform (Telegram: the next getUpdates offset; a webhook: HTTP 200). `inbox.run(stop)` claims
stored updates (storage/repositories/inbox.py) and calls the adapter's handler for each: one
update of a chat at a time, in arrival order; different chats concurrently, across every process
on the database. A processed update is deleted, in the transaction of the worker's next claim.
After a crash the claims run out and another worker (or the restarted one) processes them
again; the chat service recognises an update it already processed
(`conversations.first_delivery`), so nobody gets a second answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.context import utc_now
from storage.db import Database
from storage.repositories import inbox as repo
from storage.repositories.inbox import NewUpdate, StoredUpdate

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
T = TypeVar("T")

LEASE = timedelta(seconds=30)  # a claim of a worker that died runs out after this
CONCURRENCY = 16  # chats processed at once by one worker
MAX_ATTEMPTS = 5
POLL_SECONDS = 1.0  # another process may have stored something (webhooks): look this often
STOP_GRACE = 10.0

__all__ = ["Inbox", "NewUpdate"]


class Inbox:
    def __init__(
        self,
        db: Database,
        channel: str,
        handle: Handler,
        clock: Callable[[], datetime] = utc_now,
        *,
        lease: timedelta = LEASE,
        concurrency: int = CONCURRENCY,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.channel = channel
        self.handle = handle
        self.clock = clock
        self.lease = lease
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._tasks: dict[asyncio.Task[None], StoredUpdate] = {}
        self._passes = 0  # claim passes started
        self._idle_pass = 0  # the last pass that found nothing and had nothing in flight
        self._changed = asyncio.Condition()
        self._finished: list[int] = []  # processed, to be deleted by the next claim pass

    # ------------------------------------------------------------ the adapter's side
    async def store(self, updates: list[NewUpdate]) -> int:
        """Commit the updates (duplicates of waiting ones are skipped); raises if it could not:
        then the platform must not be told they arrived."""
        added = await self._db(lambda s: repo.store(s, self.channel, updates, self.clock()))
        self.wake()
        return added

    def wake(self) -> None:
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # ------------------------------------------------------------ the worker
    async def run(self, stop: asyncio.Event) -> None:
        if self.db.is_sqlite:
            # One process per SQLite file: what it had claimed before a restart is due now.
            await self._db(lambda s: repo.release_claims(s, self.channel))
        try:
            while not stop.is_set():
                self._passes += 1
                number = self._passes
                rows: list[StoredUpdate] = []
                # Idle only if nothing was in flight before the claim either: an update that
                # finished during it may have made its chat's next update claimable.
                busy_before = bool(self._tasks)
                free = self.concurrency - len(self._tasks)
                # What finished since the last pass is deleted in this pass's transaction: one
                # transaction per update less, and the chat's next update is claimable in it.
                done, self._finished = self._finished, []
                if free > 0 or done:
                    try:
                        rows = await self._db(
                            lambda s, n=free, d=done: self._finish_and_claim(s, d, n)  # type: ignore[misc]
                        )
                    except Exception:
                        self._finished = done + self._finished
                        logger.exception("inbox %s: claiming failed", self.channel)
                for row in rows:
                    task = asyncio.create_task(self._process(row))
                    self._tasks[task] = row
                    task.add_done_callback(self._done)
                if not rows:
                    if not self._tasks and not busy_before:
                        async with self._changed:
                            self._idle_pass = number
                            self._changed.notify_all()
                    await self._idle(stop)
        finally:
            await self._shutdown()

    def _finish_and_claim(self, session: Any, done: list[int], free: int) -> list[StoredUpdate]:
        repo.finish(session, done)
        if free <= 0:
            return []
        return repo.claim(session, self.channel, self.clock(), self.lease, free)

    async def drained(self) -> None:
        """Until a claim pass that starts now finds nothing to do (tests)."""
        target = self._passes + 1
        self.wake()
        async with self._changed:
            await self._changed.wait_for(lambda: self._idle_pass >= target)

    async def _process(self, row: StoredUpdate) -> None:
        try:
            await self.handle(row.payload)
        except Exception:
            # Never the payload: it holds what a person wrote.
            logger.exception(
                "inbox %s: update %s failed (attempt %d)", self.channel, row.id, row.attempts
            )
            if row.attempts < self.max_attempts:
                when = self.clock() + timedelta(seconds=2**row.attempts)
                await self._db(lambda s: repo.retry_at(s, row.id, when))
                return
            logger.error(
                "inbox %s: update %s dropped after %d attempts", self.channel, row.id, row.attempts
            )
        self._finished.append(row.id)  # deleted by the next claim pass (`_done` wakes it)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._wake.set()  # the chat's next update may be claimed now
        if not task.cancelled() and task.exception() is not None:
            logger.error("inbox %s: recording an update failed", self.channel)

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._wake.clear()

    async def _shutdown(self) -> None:
        """Let updates in progress finish (bounded); delete the processed ones; give the
        others' claims back."""
        unfinished: list[StoredUpdate] = []
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=STOP_GRACE)
            unfinished = [self._tasks[t] for t in pending if t in self._tasks]
            for task in pending:
                task.cancel()
        done, self._finished = self._finished, []
        if done or unfinished:

            def finish_and_release(session: Any) -> None:
                repo.finish(session, done)
                repo.release(session, [r.id for r in unfinished])

            with contextlib.suppress(Exception):
                await self._db(finish_and_release)

    async def _db(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            with self.db.write() as session:
                return work(session)

        return await asyncio.to_thread(run)
