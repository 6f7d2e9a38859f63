"""The outbox sender: drains the outbox table through each channel's Transport.

Every outgoing message is a row first (`storage.repositories.outbox.enqueue_many`, in the
transaction that decided to send it). The sender claims due rows, paces them to the channel's
published limits (bot/delivery/pacing.py), sends, and records each result at once:

- SENT: status sent, `external_message_id` kept (a teacher's reply to a relayed message is
  matched by it), then the `after_sent` hooks run in the same transaction.
- RETRY with retry_after (429): this row and the rest of that chat wait `retry_after`, the
  channel's overall pace halves for a while; the attempt does not count.
- RETRY without it (network error, 5xx): exponential backoff with jitter, `max_attempts`.
- UNREACHABLE (403 blocked / deactivated): `people.mark_unreachable` drops the person's queued
  rows; a group the bot was removed from is unbound.
- FAILED (400): status failed with the platform's reason.

Crash safety: claiming sets status "sending" with a lease (next_attempt_at = now + lease). A
sender killed mid-round leaves its rows claimed; they are sent again when the lease runs out
(or at once when a single SQLite sender restarts). Only rows whose request was in flight at the
moment of the crash can reach the user twice; nothing is lost.

Urgent rows (interactive replies) go before others; non-urgent ones (invitations, reminders)
wait while the quiet hours last (settings.quiet_window in settings.tz).

Use: `sender = OutboxSender(db, {"telegram": transport}, settings)`, then
`asyncio.create_task(sender.run_forever(stop))`; after enqueuing replies call `sender.wake()`.
Tests call `await sender.run_once()` with a fake `clock` and `sleep`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.delivery.budget import SharedBudget
from bot.delivery.contract import Delivery, Outcome, Result, Transport
from bot.delivery.pacing import ChannelPacer
from bot.settings import Settings
from storage.db import Database
from storage.repositories import groups as groups_repo
from storage.repositories import outbox as repo
from storage.repositories import people

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# Runs in the transaction that marks a row sent (e.g. criteria notices set delivered_at).
AfterSent = Callable[[Session, Delivery, Result, datetime], None]
T = TypeVar("T")

LEASE = timedelta(seconds=60)
ROUND_SECONDS = 0.5  # one claim covers about this much sending time
MAX_IN_FLIGHT = 16
MAX_ATTEMPTS = 8
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
POLL_SECONDS = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def _payload_key(row: repo.QueuedMessage) -> str:
    blob = json.dumps([row.kind, row.payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _delivery(row: repo.QueuedMessage) -> Delivery:
    return Delivery(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        payload=row.payload,
        kind=row.kind,
        urgent=row.urgent,
        attempts=row.attempts + 1,  # the claim counted this attempt
        person_id=row.person_id,
        notice_id=row.notice_id,
    )


class OutboxSender:
    def __init__(
        self,
        db: Database,
        transports: dict[str, Transport],
        settings: Settings,
        clock: Clock = utc_now,
        *,
        sleep: Sleep = asyncio.sleep,
        after_sent: Sequence[AfterSent] = (),
        max_attempts: int = MAX_ATTEMPTS,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        budget: SharedBudget | None = None,
    ) -> None:
        self.db = db
        self.transports = dict(transports)
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.after_sent = list(after_sent)
        self.max_attempts = max_attempts
        self.lease = lease
        self.rng = rng or random.Random()
        # Shared with the other processes on this database (several `classpulse run`).
        self.budget = budget
        self.pacers = {name: ChannelPacer(t.limits) for name, t in self.transports.items()}
        self._wake = asyncio.Event()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    # ------------------------------------------------------------ public
    def wake(self) -> None:
        """Something urgent was queued: start a round now instead of at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """One round per channel: claim what is due, send it paced, record. Returns how many."""
        handled = 0
        for channel, transport in self.transports.items():
            handled += await self._round(channel, transport)
        return handled

    async def run_forever(self, stop: asyncio.Event) -> None:
        if self.db.is_sqlite and self.transports:
            # SQLite runs one sender: whatever it had claimed before a restart is due again.
            released = await self._db(
                lambda s: repo.release_claims(s, list(self.transports), self.clock())
            )
            if released:
                logger.info(
                    "outbox: %d messages in flight at the last stop are due again", released
                )
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                logger.exception("outbox round failed")
                handled = 0
            if handled == 0:
                await self._idle(stop)

    # ------------------------------------------------------------ a round
    async def _round(self, channel: str, transport: Transport) -> int:
        pacer = self.pacers[channel]
        budget = max(1, int(pacer.rate * ROUND_SECONDS)) * max(transport.limits.batch_size, 1)
        rows = await self._db(lambda s: self._claim(s, channel, transport, budget))
        if not rows:
            return 0
        # Recipients not to send to for the rest of the round: unreachable, or told to wait.
        gone: set[str] = set()
        deferred: dict[int, datetime] = {}
        tasks: list[asyncio.Task[None]] = []
        # A chat's messages go out one after another, in queue order: a reply never
        # overtakes the one before it. Different chats go out concurrently.
        last_for: dict[str, asyncio.Task[None]] = {}
        for batch in self._batches(rows, transport.limits.batch_size):
            now_ts = self.clock().timestamp()
            ready: list[repo.QueuedMessage] = []
            for row in batch:
                at = pacer.chat(row.recipient, transport.is_group(row.recipient)).ready_at(now_ts)
                if at > now_ts + ROUND_SECONDS:
                    # This chat had its share: back to pending, due when its gate opens.
                    deferred[row.id] = datetime.fromtimestamp(at, UTC)
                else:
                    ready.append(row)
            if not ready:
                continue
            if pacer.out_of_slots(now_ts):  # the shared budget's slots of this round are gone
                deferred.update((row.id, self.clock()) for row in ready)
                continue
            wait = pacer.next_global(now_ts) - now_ts
            if wait > 0:
                await self.sleep(wait)
            sent_ts = self.clock().timestamp()
            ready = [r for r in ready if r.recipient not in gone]
            for row in ready:  # booked at the real send time, after the overall wait
                pacer.chat(row.recipient, transport.is_group(row.recipient)).reserve(sent_ts)
            if ready:
                await self._in_flight.acquire()
                before = {last_for[r.recipient] for r in ready if r.recipient in last_for}
                task = asyncio.create_task(self._deliver(transport, ready, gone, before))
                tasks.append(task)
                last_for.update((r.recipient, task) for r in ready)
        if deferred:
            await self._db(lambda s: repo.release(s, deferred))
        if tasks:
            await asyncio.gather(*tasks)
        pacer.forget_idle(self.clock().timestamp())
        return len(rows)

    def _claim(
        self, session: Session, channel: str, transport: Transport, budget: int
    ) -> list[repo.QueuedMessage]:
        now = self.clock()
        pacer = self.pacers[channel]
        quiet = self.settings.in_quiet_hours(now)
        now_ts = now.timestamp()
        booking = None
        if self.budget is not None:  # lock the shared pace first: claims are booked in turn
            booking = self.budget.open(session, channel, pacer, [], now_ts)
        candidates = repo.due_messages(
            session, channel, now, limit=budget * 3, include_non_urgent=not quiet
        )
        if self.budget is not None and booking is not None:
            chats = [(r.recipient, transport.is_group(r.recipient)) for r in candidates]
            self.budget.sync(session, booking, chats)
        chosen: list[repo.QueuedMessage] = []
        per_chat: dict[str, int] = {}
        later: dict[int, datetime] = {}
        for row in candidates:
            if len(chosen) >= budget:
                break
            is_group = transport.is_group(row.recipient)
            share = 1 if is_group else max(transport.limits.per_chat_burst, 1)
            ready_at = pacer.chat(row.recipient, is_group).ready_at(now_ts)
            if ready_at > now_ts + ROUND_SECONDS:
                # Out of the way until the chat's gate opens, so it does not block the head.
                later[row.id] = datetime.fromtimestamp(ready_at, UTC)
                continue
            if per_chat.get(row.recipient, 0) >= share:
                continue  # stays due; the next round takes it
            per_chat[row.recipient] = per_chat.get(row.recipient, 0) + 1
            chosen.append(row)
        repo.claim(session, [r.id for r in chosen], now + self.lease)
        repo.reschedule(session, later)
        if self.budget is not None and booking is not None:
            requests = len(self._batches(chosen, transport.limits.batch_size))
            chats = [(r.recipient, transport.is_group(r.recipient)) for r in chosen]
            self.budget.book(session, booking, chats, requests, now_ts)
        return chosen

    @staticmethod
    def _batches(rows: list[repo.QueuedMessage], batch_size: int) -> list[list[repo.QueuedMessage]]:
        """One request per row, or rows with one payload together (Viber broadcast)."""
        if batch_size <= 1:
            return [[row] for row in rows]
        groups: dict[str, list[repo.QueuedMessage]] = {}
        for row in rows:
            groups.setdefault(_payload_key(row), []).append(row)
        batches = []
        for same in groups.values():
            batches += [same[i : i + batch_size] for i in range(0, len(same), batch_size)]
        return batches

    async def _deliver(
        self,
        transport: Transport,
        rows: list[repo.QueuedMessage],
        gone: set[str],
        before: set[asyncio.Task[None]],
    ) -> None:
        try:
            if before:
                await asyncio.wait(before)
            rows = [r for r in rows if r.recipient not in gone]
            if not rows:
                return
            deliveries = [_delivery(row) for row in rows]
            try:
                results = await transport.send_batch(deliveries)
                if len(results) != len(deliveries):
                    raise RuntimeError("transport returned a wrong number of results")
            except Exception as exc:  # a transport bug must not stall the queue
                logger.exception("transport %s raised", transport.channel)
                results = [Result(Outcome.RETRY, error=f"transport error: {exc!r}"[:200])] * len(
                    deliveries
                )
            for delivery, result in zip(deliveries, results, strict=True):
                if result.outcome is Outcome.UNREACHABLE or result.retry_after is not None:
                    gone.add(delivery.recipient)
            await self._db(lambda s: self._record(s, transport, deliveries, results))
        except Exception:
            logger.exception("recording outbox results failed; the lease will retry them")
        finally:
            self._in_flight.release()

    def _record(
        self,
        session: Session,
        transport: Transport,
        deliveries: list[Delivery],
        results: list[Result],
    ) -> None:
        now = self.clock()
        pacer = self.pacers[transport.channel]
        # One backoff for the whole batch, so a failed broadcast is retried as one broadcast.
        batch_delay = backoff_seconds(max(d.attempts for d in deliveries), self.rng)
        for delivery, result in zip(deliveries, results, strict=True):
            if result.outcome is Outcome.SENT:
                repo.mark_sent(session, delivery.id, now, result.message_id)
                for hook in self.after_sent:
                    hook(session, delivery, result, now)
            elif result.outcome is Outcome.RETRY and result.retry_after is not None:
                wait = max(float(result.retry_after), 0.0)
                until = now + timedelta(seconds=wait)
                repo.mark_retry(session, delivery.id, until, result.error or "429", refund=True)
                repo.defer_recipient(session, delivery.channel, delivery.recipient, until)
                repo.release_recipient(session, delivery.channel, delivery.recipient, until)
                gate = pacer.chat(delivery.recipient, transport.is_group(delivery.recipient))
                gate.block_until(until.timestamp())
                if result.slow_down:  # the platform said the whole bot is too fast
                    pacer.slow_down(now.timestamp(), wait)
                logger.warning("outbox: %s asked to wait %.0f s", transport.channel, wait)
            elif result.outcome is Outcome.RETRY:
                if delivery.attempts >= self.max_attempts:
                    repo.mark_failed(session, delivery.id, f"gave up: {result.error}")
                else:
                    when = now + timedelta(seconds=batch_delay)
                    repo.mark_retry(session, delivery.id, when, result.error)
            elif result.outcome is Outcome.UNREACHABLE:
                reason = result.error or "unreachable"
                repo.mark_failed(session, delivery.id, f"unreachable: {reason}")
                people.mark_unreachable(session, delivery.channel, delivery.recipient, reason, now)
                repo.drop_claimed(session, delivery.channel, delivery.recipient, reason)
                if transport.is_group(delivery.recipient):
                    groups_repo.unbind(session, delivery.channel, delivery.recipient)
            else:
                repo.mark_failed(session, delivery.id, result.error or "failed")
                logger.warning("outbox: message %d failed: %s", delivery.id, result.error)

    # ------------------------------------------------------------ helpers
    async def _idle(self, stop: asyncio.Event) -> None:
        """Sleep until woken, stopped, or the poll interval passes."""
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._wake.clear()

    async def _db(self, work: Callable[[Session], T]) -> T:
        """Blocking DB work in a thread, one write transaction."""

        def run() -> T:
            with self.db.write() as session:
                return work(session)

        return await asyncio.to_thread(run)

    def status(self) -> dict[str, Any]:
        """Rows per status, per channel (for logs and the CLI)."""
        with self.db.read() as session:
            return {name: repo.counts(session, name) for name in self.transports}
