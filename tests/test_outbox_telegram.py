"""The outbox sender with the real TelegramTransport (PTB Bot) against the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.settings import Settings
from storage.db import Database
from storage.models import Identity, OutboxMessage
from storage.repositories import people
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import (
    ChannelLimits,
    OutboxSender,
    SettlingSender,
    TelegramTransport,
    transport_bot,
)
from tests.test_outbox import FakeClock, enqueue, message, rows

CHAT, OTHER = 555, 556


def test_a_429_is_honoured_for_that_chat_and_slows_the_channel(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with transport_bot(fake) as bot:
            fake.fail(
                429,
                "Too Many Requests: retry after 7",
                chat_id=CHAT,
                retry_after=7,
            )
            enqueue(db, [message(str(CHAT), "Питання 1", "a"), message(str(CHAT), "b", "b")], now)
            transport = TelegramTransport(bot)
            sender = OutboxSender(
                db, {"telegram": transport}, settings, clock=clock, sleep=clock.sleep
            )
            await sender.run_once()
            assert len(fake.calls_to("sendMessage", CHAT)) == 1  # the 429, nothing after it
            first = rows(db)[0]
            assert first.status == "pending" and first.attempts == 0  # a wait, not a failure
            wait = first.next_attempt_at - now
            assert timedelta(seconds=7) <= wait < timedelta(seconds=7.5)
            assert sender.pacers["telegram"].rate < 30 * 0.6  # the channel slowed down
            clock.advance(5)
            assert await sender.run_once() == 0
            assert len(fake.calls_to("sendMessage", CHAT)) == 1
            clock.advance(2.6)
            await sender.run_once()
            assert fake.texts(CHAT) == ["Питання 1", "b"]  # in order, after the wait

    asyncio.run(scenario())


def test_a_403_marks_the_person_unreachable_and_stops_sending(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    with db.write() as session:
        person_id = people.register(session, "telegram", str(CHAT), "Олена", "uk", now)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with transport_bot(fake) as bot:
            fake.fail(403, "Forbidden: bot was blocked by the user", chat_id=CHAT, times=None)
            enqueue(
                db,
                [message(str(CHAT), f"m{i}", f"k{i}") for i in range(3)]
                + [message(str(OTHER), "hello", "o")],
                now,
            )
            sender = OutboxSender(
                db,
                {"telegram": TelegramTransport(bot)},
                settings,
                clock=clock,
                sleep=clock.sleep,
            )
            await sender.run_once()
            clock.advance(60)
            await sender.run_once()
            assert len(fake.calls_to("sendMessage", CHAT)) == 1  # only the one that told us
            assert fake.texts(OTHER) == ["hello"]
            statuses = [(r.recipient, r.status) for r in rows(db)]
            assert statuses == [
                (str(CHAT), "failed"),
                (str(CHAT), "dropped"),
                (str(CHAT), "dropped"),
                (str(OTHER), "sent"),
            ]

    asyncio.run(scenario())
    with db.read() as session:
        identity = session.scalars(select(Identity).where(Identity.person_id == person_id)).one()
        assert identity.unreachable_at is not None
        assert "blocked" in (identity.unreachable_reason or "")
        assert people.reachable_identities(session, person_id) == []


def test_400_and_500_answers(db: Database, settings: Settings, now: datetime) -> None:
    clock = FakeClock(now)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with transport_bot(fake) as bot:
            fake.fail(400, "Bad Request: chat not found", chat_id=CHAT)
            fake.fail(500, "Internal Server Error", chat_id=OTHER)
            enqueue(db, [message(str(CHAT), "x", "x"), message(str(OTHER), "y", "y")], now)
            sender = OutboxSender(
                db,
                {"telegram": TelegramTransport(bot)},
                settings,
                clock=clock,
                sleep=clock.sleep,
            )
            await sender.run_once()
            failed, retried = rows(db)
            assert (failed.status, failed.last_error) == (
                "failed",
                "400 Chat not found",  # PTB's wording of Telegram's description
            )
            assert retried.status == "pending" and retried.attempts == 1
            clock.advance(600)
            await sender.run_once()
            assert fake.texts(OTHER) == ["y"]

    asyncio.run(scenario())


def test_the_outbox_resumes_after_the_sender_is_killed(
    db: Database, settings: Settings, now: datetime
) -> None:
    """The sender is cancelled while a request is in flight, then restarted."""
    clock = FakeClock(now)
    limits = ChannelLimits(per_second=4, per_chat_interval=1.0)  # one request in flight at most
    every = {f"m{i}" for i in range(6)}

    async def scenario() -> None:
        fake = FakeTelegram()
        # The third message reaches its chat, but its answer is still on the way back.
        fake.hold("sendMessage", nth=3)

        def delivered() -> set[str]:
            return {c.params["text"] for c in fake.calls_to("sendMessage")}

        async with transport_bot(fake) as bot:
            transports = {"telegram": TelegramTransport(bot, limits)}
            enqueue(db, [message(str(700 + i), f"m{i}", f"k{i}") for i in range(6)], now)
            first = OutboxSender(db, transports, settings, clock=clock, sleep=clock.sleep)
            task = asyncio.create_task(first.run_forever(asyncio.Event()))
            await fake.until(lambda: len(fake.calls_to("sendMessage")) == 3)
            task.cancel()  # killed mid-flight, as by SIGKILL: no cleanup runs
            # ...and nothing of it runs on either: its sends in flight and its recorder would
            # otherwise go on writing beside the second sender, which no killed process does.
            orphans = [t for lane in first._lanes.values() for t in lane.tasks]
            orphans += [first._recorder] if first._recorder is not None else []
            for orphan in [task, *orphans]:
                orphan.cancel()
            await asyncio.gather(task, *orphans, return_exceptions=True)
            with db.read() as session:
                statuses = list(session.scalars(select(OutboxMessage.status)))
            assert "sending" in statuses or "pending" in statuses
            # Only what was in flight at the crash may go twice (the sender keeps several
            # requests in flight; the held third one is among them).
            in_flight = statuses.count("sending")

            if not db.is_sqlite:
                clock.advance(61)  # PostgreSQL may run several senders: the lease runs out
            stop = asyncio.Event()
            second = SettlingSender(db, transports, settings, clock=clock, sleep=clock.sleep)
            restarted = asyncio.create_task(second.run_forever(stop))
            await asyncio.wait_for(second.drained(), 10)  # a round found nothing due
            stop.set()
            await restarted
            assert {r.status for r in rows(db)} == {"sent"}
            assert delivered() == every  # nothing lost
            assert fake.duplicates() <= max(in_flight, 1)  # at most those in flight

    asyncio.run(scenario())
