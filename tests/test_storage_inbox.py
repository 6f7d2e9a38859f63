"""The inbox, leases and the shared send budget: what several processes on one database share.

Storage-facing: these run on SQLite files and again on PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from bot.conversation.inbox import Inbox, NewUpdate
from bot.delivery.budget import SharedBudget
from bot.delivery.contract import ChannelLimits
from bot.delivery.pacing import ChannelPacer
from bot.leases import Lease
from storage.db import Database
from storage.repositories import inbox as inbox_repo

LIMITS = ChannelLimits(per_second=30, per_chat_interval=1.0)


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """A test written as a coroutine, run on a fresh event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def updates(*pairs: tuple[str, str]) -> list[NewUpdate]:
    return [NewUpdate(key, chat, {"key": key, "chat": chat}) for key, chat in pairs]


async def run_until_drained(inbox: Inbox) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(inbox.run(stop))
    await asyncio.wait_for(inbox.drained(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)


@in_loop
async def test_an_update_claimed_by_a_worker_that_died_is_processed_once_by_another(
    db: Database, now: datetime
) -> None:
    seen: list[str] = []

    async def handle(payload: dict[str, Any]) -> None:
        seen.append(payload["key"])

    first = Inbox(db, "chat", handle, clock=lambda: now)
    await first.store(updates(("1", "a"), ("2", "b"), ("3", "a")))
    with db.write() as session:  # the first worker claims, then is killed before finishing
        claimed = inbox_repo.claim(session, "chat", now, timedelta(seconds=30), 10)
    assert sorted(u.update_key for u in claimed) == ["1", "2"]  # one per chat
    # Another process, while the claims hold: nothing to take (chat a's order is kept too).
    with db.write() as session:
        assert inbox_repo.claim(session, "chat", now, timedelta(seconds=30), 10) == []
    # SQLite: the restarted only worker takes its claims back at once; PostgreSQL: another
    # process takes them when the claims run out.
    later = now if db.is_sqlite else now + timedelta(seconds=31)
    second = Inbox(db, "chat", handle, clock=lambda: later)
    await run_until_drained(second)
    assert seen == ["1", "2", "3"] or seen == ["2", "1", "3"]
    assert seen.index("1") < seen.index("3")
    with db.read() as session:
        assert inbox_repo.waiting(session) == 0  # processed ones are gone (no text kept)


@in_loop
async def test_a_chat_is_processed_in_order_while_chats_run_concurrently(
    db: Database, now: datetime
) -> None:
    running: set[str] = set()
    overlap_across = 0
    order: dict[str, list[str]] = {"a": [], "b": []}

    async def handle(payload: dict[str, Any]) -> None:
        nonlocal overlap_across
        chat = payload["chat"]
        assert chat not in running, "two updates of one chat at once"
        if running:
            overlap_across += 1
        running.add(chat)
        await asyncio.sleep(0.01)
        order[chat].append(payload["key"])
        running.discard(chat)

    inbox = Inbox(db, "chat", handle, clock=lambda: now)
    pairs = [(f"{chat}{i}", chat) for i in range(5) for chat in ("a", "b")]
    await inbox.store(updates(*pairs))
    await inbox.store(updates(("a0", "a")))  # a platform's re-delivery of a waiting update
    await run_until_drained(inbox)
    assert order == {"a": [f"a{i}" for i in range(5)], "b": [f"b{i}" for i in range(5)]}
    assert overlap_across > 0


@in_loop
async def test_a_failing_update_is_retried_then_dropped(db: Database, now: datetime) -> None:
    clock = [now]
    calls = 0

    async def handle(payload: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    inbox = Inbox(db, "chat", handle, clock=lambda: clock[0], max_attempts=2)
    await inbox.store(updates(("1", "a")))
    await run_until_drained(inbox)
    assert calls == 1
    clock[0] = now + timedelta(seconds=10)
    await run_until_drained(inbox)
    assert calls == 2
    with db.read() as session:
        assert inbox_repo.waiting(session) == 0


@in_loop
async def test_one_lease_holder_at_a_time_and_takeover_after_expiry(
    db: Database, now: datetime
) -> None:
    clock = [now]
    ttl = timedelta(seconds=20)
    one = Lease(db, "poller:x", ttl=ttl, holder="one", clock=lambda: clock[0])
    two = Lease(db, "poller:x", ttl=ttl, holder="two", clock=lambda: clock[0])
    assert await one.hold()
    assert not await two.hold()
    clock[0] = now + timedelta(seconds=10)
    assert await one.hold()  # renewed until +30
    clock[0] = now + timedelta(seconds=29)
    assert not await two.hold()
    clock[0] = now + timedelta(seconds=31)  # the holder died at +10
    assert await two.hold()
    assert not await one.hold()
    await two.release()  # a clean stop hands over at once
    assert await one.hold()


def test_two_senders_book_disjoint_slots_of_one_shared_pace(db: Database, now: datetime) -> None:
    budget = SharedBudget()
    pacers = [ChannelPacer(LIMITS), ChannelPacer(LIMITS)]
    ts = now.timestamp()
    slots: list[float] = []
    for round_ in range(3):
        for n, pacer in enumerate(pacers):
            with db.write() as session:
                booking = budget.open(session, "chat", pacer, [], ts)
                chats = [(f"{round_}-{n}-{i}", False) for i in range(15)]
                budget.book(session, booking, chats, 15, ts)
            slots += [pacer.next_global(ts) for _ in range(15)]
    slots.sort()
    interval = 1.0 / pacers[0].rate
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= interval - 1e-5
    # 90 sends take 90 intervals: the two processes together keep one rate, 28.5/s.
    assert slots[-1] - slots[0] >= 89 * interval - 1e-4


def test_a_chat_paced_by_one_sender_is_held_back_for_the_other(db: Database, now: datetime) -> None:
    budget = SharedBudget()
    one, two = ChannelPacer(LIMITS), ChannelPacer(LIMITS)
    ts = now.timestamp()
    with db.write() as session:
        booking = budget.open(session, "chat", one, [], ts)
        budget.book(session, booking, [("42", False)] * 3, 3, ts)  # a burst of three
    with db.write() as session:
        budget.open(session, "chat", two, [("42", False)], ts)
    assert two.chat("42", False).ready_at(ts) > ts + 0.5


def test_a_missed_shared_slot_is_dropped_not_sent_late() -> None:
    pacer = ChannelPacer(LIMITS)
    pacer.use_slots([100.0, 100.5])
    assert not pacer.out_of_slots(100.3)  # 100.0 is missed (another process's turn now)
    assert pacer.next_global(100.3) == 100.5
    assert pacer.out_of_slots(100.6)  # nothing left: the rows wait for the next claim


def test_a_lanes_booking_adds_to_the_others_and_slots_are_kept_exactly() -> None:
    pacer = ChannelPacer(LIMITS)
    pacer.use_slots([100.0, 100.07])  # the broadcasts' lane
    pacer.use_slots([])  # the replies' lane claimed nothing: the other's slots stay
    pacer.use_slots([100.035])  # ... or something: its slot joins them, in time order
    assert not pacer.out_of_slots(100.005)
    assert pacer.next_global(100.005) == 100.0  # 5 ms late: still its slot
    # The local gate does not push the next slots later than booked.
    assert [pacer.next_global(100.005), pacer.next_global(100.005)] == [100.035, 100.07]
    assert pacer.missed(100.0, 100.02) and not pacer.missed(100.035, 100.04)
