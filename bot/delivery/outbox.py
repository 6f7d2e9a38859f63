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
sender killed mid-flight leaves its rows claimed; they are sent again when the lease runs out
(or at once when a single SQLite sender restarts). Only rows whose request was in flight at the
moment of the crash can reach the user twice; nothing is lost.

Replies first: each channel has two lanes, the urgent rows (replies to a person's own press) and
the rest (invitations, reminders, notices), claiming side by side and sharing the channel's
pacer, so a reply never waits behind a broadcast; while replies wait for an overall slot the
broadcasts give theirs up (`_give_way`), and a reply put back until its chat's gate opens is
claimed again at that moment. Results are recorded by group commit. A lane claims again as
soon as its last claim is on its way (no round waits for its slowest request). Non-urgent rows
wait while the quiet hours last (settings.quiet_window in settings.tz). An answer's echo (an
edit of the answered question, without buttons) yields to the chat's new messages: the next
question goes first and the echo never takes the last send of the chat's burst (Telegram counts
edits against the per-chat limit too).

Use: `sender = OutboxSender(db, {"telegram": transport}, settings)`, then
`asyncio.create_task(sender.run_forever(stop))`; after enqueuing replies call `sender.wake()`.
Tests call `await sender.run_once()` (one claim of both kinds, then waits for its sends) with a
fake `clock` and `sleep`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.delivery.budget import SharedBudget
from bot.delivery.contract import Delivery, Outcome, Result, Transport
from bot.delivery.pacing import ChannelPacer
from bot.settings import Settings
from storage.db import Database
from storage.repositories import conversations, people
from storage.repositories import groups as groups_repo
from storage.repositories import outbox as repo

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# Runs in the transaction that marks a row sent (e.g. criteria notices set delivered_at).
AfterSent = Callable[[Session, Delivery, Result, datetime], None]
T = TypeVar("T")
_ToRecord = tuple[Transport, list[Delivery], list[Result], "asyncio.Future[None]"]

LEASE = timedelta(seconds=60)
ROUND_SECONDS = 0.5  # one claim covers about this much sending time
MAX_IN_FLIGHT = 16
MAX_ATTEMPTS = 8
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
POLL_SECONDS = 1.0
UNREACHABLE_HOLD = 10.0
GIVE_WAY_MAX = 30  # overall slots a broadcast send gives up to waiting replies, at most


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


def _yields(row: repo.QueuedMessage) -> bool:
    """An edit that shows an answered message (its echo), not what the person waits for.

    It changes a message already in the chat, so it may go after the chat's new messages
    without reordering anything, and it never takes the last send a chat's burst allows: the
    next question does not wait behind the echo of the last answer. (Telegram counts edits
    against the same per-chat limit as sends, so they are still paced.) Keyboard-only edits
    (multi-choice toggles) and edits that bring buttons (the echo with the next question, see
    bot/surveys/flows.py) are the reply itself and go as usual.
    """
    reply = row.payload.get("reply")
    return (
        isinstance(reply, dict)
        and bool(reply.get("edit_ref"))
        and not reply.get("keyboard_only")
        and not reply.get("buttons")  # an answer's echo and the next question: the reply
    )


@dataclass(eq=False)
class _Lane:
    """One channel's stream of claims: the replies (urgent), the rest, or both (`run_once`).

    A lane claims again as soon as its last claim is on its way (sends in flight are bounded
    by its own semaphore), so nothing waits for a whole round to finish; the replies' lane runs
    beside the broadcasts' lane, so a reply never queues behind a broadcast. Both share the
    channel's pacer: together they stay under the platform's limits.
    """

    channel: str
    transport: Transport
    urgent: bool | None
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # A chat's messages go out one after another, in queue order: a reply never overtakes
    # the one before it. Different chats go out concurrently.
    last_for: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # The earliest time a row this lane put back (a chat's gate was closed) is due again.
    due_again: float | None = None


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
        # Recipients not to send to until a time (a 429) or at all (unreachable), per channel.
        self._held: dict[str, dict[str, float]] = {name: {} for name in self.transports}
        self._lanes: dict[tuple[str, bool | None], _Lane] = {}
        # Results waiting for the next record transaction (group commit, see _recorded).
        self._to_record: list[_ToRecord] = []
        self._recorder: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ public
    def wake(self) -> None:
        """Something urgent was queued: claim it now instead of at the next poll."""
        for lane in self._lanes.values():
            lane.wake.set()

    async def run_once(self) -> int:
        """One claim per channel (replies first), sent paced and recorded. Returns how many."""
        handled = 0
        for channel in self.transports:
            lane = self._lane(channel, None)
            handled += await self._round(lane)
            await self._settle(lane)
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
        lanes = [self._lane(c, urgent) for c in self.transports for urgent in (True, False)]
        await asyncio.gather(*(self._drive(lane, stop) for lane in lanes))

    # ------------------------------------------------------------ lanes
    def _lane(self, channel: str, urgent: bool | None) -> _Lane:
        lane = self._lanes.get((channel, urgent))
        if lane is None:
            lane = _Lane(channel, self.transports[channel], urgent)
            self._lanes[(channel, urgent)] = lane
        return lane

    async def _drive(self, lane: _Lane, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self._round(lane)
            except Exception:
                logger.exception("outbox round failed")
                handled = 0
            if handled == 0:
                await self._idle(lane, stop)
        await self._settle(lane)

    @staticmethod
    async def _settle(lane: _Lane) -> None:
        """Wait for the lane's sends in flight (and their records)."""
        while lane.tasks:
            await asyncio.gather(*lane.tasks, return_exceptions=True)
        lane.last_for.clear()

    def _is_held(self, channel: str, recipient: str, now_ts: float) -> bool:
        return self._held[channel].get(recipient, float("-inf")) > now_ts

    # ------------------------------------------------------------ a claim
    async def _round(self, lane: _Lane) -> int:
        channel, transport = lane.channel, lane.transport
        pacer = self.pacers[channel]
        budget = max(1, int(pacer.rate * ROUND_SECONDS)) * max(transport.limits.batch_size, 1)
        rows = await self._db(lambda s: self._claim(s, lane, budget))
        if not rows:
            return 0
        deferred: dict[int, datetime] = {}
        for batch in self._batches(rows, transport.limits.batch_size):
            now_ts = self.clock().timestamp()
            ready: list[repo.QueuedMessage] = []
            for row in batch:
                gate = pacer.chat(row.recipient, transport.is_group(row.recipient))
                at = gate.ready_at(now_ts, spare=1 if _yields(row) else 0)
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
            if lane.urgent is False:
                await self._give_way(pacer)
            if lane.urgent:
                pacer.replies_waiting += 1
            try:
                now_ts = self.clock().timestamp()
                slot = pacer.next_global(now_ts)
                if slot > now_ts:
                    await self.sleep(slot - now_ts)
            finally:
                if lane.urgent:
                    pacer.replies_waiting -= 1
            sent_ts = self.clock().timestamp()
            if pacer.missed(slot, sent_ts):  # woke too late for a shared slot
                deferred.update((row.id, self.clock()) for row in ready)
                continue
            ready = [r for r in ready if not self._is_held(channel, r.recipient, sent_ts)]
            for row in ready:  # booked at the real send time, after the overall wait
                pacer.chat(row.recipient, transport.is_group(row.recipient)).reserve(sent_ts)
            if ready:
                await lane.in_flight.acquire()
                before = {lane.last_for[r.recipient] for r in ready if r.recipient in lane.last_for}
                task = asyncio.create_task(self._deliver(lane, ready, before))
                lane.tasks.add(task)
                task.add_done_callback(lane.tasks.discard)
                lane.last_for.update((r.recipient, task) for r in ready)
        if deferred:
            await self._db(lambda s: repo.release(s, deferred))
            self._due_again(lane, min(deferred.values()).timestamp())
        if lane.urgent and lane.due_again is not None:
            # A reply put back until its chat's gate opens is claimed then, not at the next
            # poll a second later.
            delay = max(lane.due_again - self.clock().timestamp(), 0.0)
            lane.due_again = None
            asyncio.get_running_loop().call_later(delay, lane.wake.set)
        now_ts = self.clock().timestamp()
        lane.last_for = {k: t for k, t in lane.last_for.items() if not t.done()}
        held = self._held[channel]
        if len(held) > 1000:
            self._held[channel] = {k: until for k, until in held.items() if until > now_ts}
        pacer.forget_idle(now_ts)
        return len(rows)

    @staticmethod
    def _due_again(lane: _Lane, at: float) -> None:
        lane.due_again = at if lane.due_again is None else min(lane.due_again, at)

    async def _give_way(self, pacer: ChannelPacer) -> None:
        """A broadcast's send waits while replies wait for an overall slot: a person who just
        pressed a button is answered first, the broadcast takes the slots they leave. Bounded,
        so that a flood of replies slows a broadcast down but never stops it."""
        for _ in range(GIVE_WAY_MAX):
            if pacer.replies_waiting <= 0:
                return
            await self.sleep(pacer.interval)

    def _claim(self, session: Session, lane: _Lane, budget: int) -> list[repo.QueuedMessage]:
        now = self.clock()
        transport = lane.transport
        pacer = self.pacers[lane.channel]
        quiet = self.settings.in_quiet_hours(now)
        now_ts = now.timestamp()
        booking = None
        if self.budget is not None:  # lock the shared pace first: claims are booked in turn
            booking = self.budget.open(session, lane.channel, pacer, [], now_ts)
        candidates = repo.due_messages(
            session,
            lane.channel,
            now,
            limit=budget * 3,
            include_non_urgent=not quiet,
            urgent=lane.urgent,
        )
        # A chat's new messages before its echo edits (stable: the queue order otherwise).
        candidates.sort(key=_yields)
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
            gate = pacer.chat(row.recipient, is_group)
            ready_at = gate.ready_at(now_ts, spare=1 if _yields(row) else 0)
            if ready_at > now_ts + ROUND_SECONDS:
                # Out of the way until the chat's gate opens, so it does not block the head.
                later[row.id] = datetime.fromtimestamp(ready_at, UTC)
                continue
            if per_chat.get(row.recipient, 0) >= share:
                continue  # stays due; the next claim takes it
            per_chat[row.recipient] = per_chat.get(row.recipient, 0) + 1
            chosen.append(row)
        repo.claim(session, [r.id for r in chosen], now + self.lease)
        repo.reschedule(session, later)
        if later:
            self._due_again(lane, min(later.values()).timestamp())
        if self.budget is not None and booking is not None:
            requests = len(self._batches(chosen, transport.limits.batch_size))
            chats = [(r.recipient, transport.is_group(r.recipient)) for r in chosen]
            self.budget.book(session, booking, chats, requests, self.clock().timestamp())
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
        self, lane: _Lane, rows: list[repo.QueuedMessage], before: set[asyncio.Task[None]]
    ) -> None:
        transport = lane.transport
        try:
            if before:
                await asyncio.wait(before)
            now_ts = self.clock().timestamp()
            rows = [r for r in rows if not self._is_held(lane.channel, r.recipient, now_ts)]
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
            held = self._held[lane.channel]
            for delivery, result in zip(deliveries, results, strict=True):
                if result.outcome is Outcome.UNREACHABLE:
                    # Long enough for what was claimed with it; their rows are dropped.
                    held[delivery.recipient] = now_ts + UNREACHABLE_HOLD
                elif result.retry_after is not None:
                    until = now_ts + max(float(result.retry_after), 0.0)
                    held[delivery.recipient] = max(held.get(delivery.recipient, until), until)
            await self._recorded(transport, deliveries, results)
        except Exception:
            logger.exception("recording outbox results failed; the lease will retry them")
        finally:
            lane.in_flight.release()

    async def _recorded(
        self, transport: Transport, deliveries: list[Delivery], results: list[Result]
    ) -> None:
        """Record a request's results; returns once they are committed.

        Group commit: the results that arrive while a record transaction runs are written
        together in the next one, so a broadcast at 30/s costs a few write transactions a
        second instead of thirty, and a person's press does not queue behind them for the
        database's one writer."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_record.append((transport, deliveries, results, done))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_pending())
        await done

    async def _record_pending(self) -> None:
        while self._to_record:
            batch, self._to_record = self._to_record, []

            def record_all(session: Session, batch: list[_ToRecord] = batch) -> None:
                for transport, deliveries, results, _ in batch:
                    self._record(session, transport, deliveries, results)

            try:
                await self._db(record_all)
            except Exception:
                if len(batch) > 1:  # one bad record must not take the others with it
                    for item in batch:
                        await self._record_alone(item)
                    continue
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(RuntimeError("recording outbox results failed"))
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _record_alone(self, item: _ToRecord) -> None:
        transport, deliveries, results, done = item
        try:
            await self._db(lambda s: self._record(s, transport, deliveries, results))
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
        else:
            if not done.done():
                done.set_result(None)

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
                _remember_question(session, delivery, result)
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
    async def _idle(self, lane: _Lane, stop: asyncio.Event) -> None:
        """Sleep until woken, stopped, or the poll interval passes."""
        waiters = [
            asyncio.create_task(lane.wake.wait()),
            asyncio.create_task(stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            lane.wake.clear()

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


def _remember_question(session: Session, delivery: Delivery, result: Result) -> None:
    """A sent question (a reply with a position and buttons) is remembered on its chat, so a
    typed answer can edit it; the outbox row itself is scrubbed."""
    reply = delivery.payload.get("reply") if isinstance(delivery.payload, dict) else None
    if not isinstance(reply, dict) or not result.message_id:
        return
    if reply.get("position") and reply.get("buttons") and not reply.get("keyboard_only"):
        conversations.remember_shown(
            session, delivery.channel, delivery.recipient, str(reply["position"]), result.message_id
        )
