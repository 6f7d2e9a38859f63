"""The outbox sender with a recording transport and a fake clock: no sleeping, no network."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result
from bot.delivery.outbox import MAX_IN_FLIGHT, OutboxSender
from bot.settings import Settings
from storage.db import Database
from storage.repositories.outbox import NewMessage, counts, enqueue_many
from tests.outbox_rows import OutboxRow, outbox_rows


class FakeClock:
    """`clock()` and `sleep()` for the sender: sleeping moves time, instantly."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # let the send tasks started before this wait run now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingTransport:
    """A Transport whose wire is a list; answers come from `script` (recipient -> results)."""

    clock: FakeClock
    limits: ChannelLimits = field(
        default_factory=lambda: ChannelLimits(per_second=30, per_chat_interval=1.0)
    )
    channel: str = "telegram"
    sent: list[tuple[datetime, Delivery]] = field(default_factory=list)
    requests: int = 0
    script: dict[str, list[Result]] = field(default_factory=dict)

    def is_group(self, recipient: str) -> bool:
        return recipient.startswith("-")

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        self.requests += 1
        results = []
        for d in deliveries:
            queued = self.script.get(d.recipient)
            result = queued.pop(0) if queued else Result(Outcome.SENT, message_id=f"m{d.id}")
            if result.outcome is Outcome.SENT:
                self.sent.append((self.clock.now, d))
            results.append(result)
        return results

    def texts(self, recipient: str | None = None) -> list[str]:
        return [
            d.payload["reply"]["text"]
            for _, d in self.sent
            if recipient is None or d.recipient == recipient
        ]


def message(recipient: str, text: str, key: str, urgent: bool = True) -> NewMessage:
    return NewMessage(
        channel="telegram",
        recipient=recipient,
        payload={"reply": {"text": text}},
        idempotency_key=key,
        kind="reply" if urgent else "invitation",
        urgent=urgent,
    )


def enqueue(db: Database, messages: list[NewMessage], now: datetime) -> None:
    with db.write() as session:
        enqueue_many(session, messages, now)


def make_sender(
    db: Database, settings: Settings, transport: RecordingTransport, **kw: object
) -> OutboxSender:
    return OutboxSender(
        db,
        {"telegram": transport},
        settings,
        clock=transport.clock,
        sleep=transport.clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


def drain(sender: OutboxSender, clock: FakeClock, rounds: int = 1000) -> None:
    async def run() -> None:
        for _ in range(rounds):
            if await sender.run_once() == 0:
                with sender.db.read() as session:
                    left = counts(session).get("pending", 0) + counts(session).get("sending", 0)
                if not left:
                    return
                clock.advance(1.0)

    asyncio.run(run())


def rows(db: Database) -> list[OutboxRow]:
    return outbox_rows(db)


def test_a_broadcast_is_paced_without_a_first_second_burst(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    enqueue(db, [message(str(1000 + i), "Нове опитування", f"k{i}") for i in range(300)], now)
    drain(make_sender(db, settings, transport), clock)
    times = [t for t, _ in transport.sent]
    assert len(times) == 300
    # No one-second window holds more than 30 (AIORateLimiter's default lets ~60 out at once).
    for i in range(len(times) - 30):
        assert times[i + 30] - times[i] >= timedelta(seconds=1)
    seconds = (times[-1] - times[0]).total_seconds()
    assert 299 / seconds >= 0.9 * 30


def test_urgent_replies_overtake_a_waiting_broadcast(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    enqueue(db, [message(str(1000 + i), "invite", f"b{i}", urgent=False) for i in range(100)], now)
    enqueue(db, [message("42", "Питання 2 з 7", "r1")], now + timedelta(seconds=1))
    clock.advance(2)
    asyncio.run(make_sender(db, settings, transport).run_once())
    assert transport.texts()[0] == "Питання 2 з 7"


def test_a_chats_messages_keep_their_order_and_its_pace(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    enqueue(db, [message("42", f"m{i}", f"k{i}") for i in range(6)], now)
    drain(make_sender(db, settings, transport), clock)
    assert transport.texts("42") == [f"m{i}" for i in range(6)]
    times = [t for t, _ in transport.sent]
    # A burst of 3 (an answer's echo and the next question go together), then ~1 per second.
    assert times[3] - times[0] >= timedelta(seconds=1)
    assert times[5] - times[3] >= timedelta(seconds=2)


def test_quiet_hours_hold_back_invitations_but_not_replies(
    db: Database, settings: Settings
) -> None:
    settings = settings.model_copy(update={"quiet_hours": "21:00-08:00"})
    late = datetime(2026, 3, 2, 21, 30, tzinfo=settings.tz).astimezone(UTC)
    assert settings.in_quiet_hours(late)
    clock = FakeClock(late)
    transport = RecordingTransport(clock)
    enqueue(db, [message("1", "invite", "i1", urgent=False), message("2", "reply", "r1")], late)
    sender = make_sender(db, settings, transport)
    asyncio.run(sender.run_once())
    assert transport.texts() == ["reply"]
    clock.now = datetime(2026, 3, 3, 8, 0, tzinfo=settings.tz).astimezone(UTC)
    asyncio.run(sender.run_once())
    assert transport.texts() == ["reply", "invite"]


def test_network_errors_back_off_then_fail_after_max_attempts(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    transport.script["7"] = [Result(Outcome.RETRY, error="NetworkError: 502")] * 10
    transport.script["8"] = [Result(Outcome.RETRY, error="TimedOut")]
    enqueue(db, [message("7", "a", "k7"), message("8", "b", "k8")], now)
    sender = make_sender(db, settings, transport, max_attempts=4)
    asyncio.run(sender.run_once())
    retry = {r.recipient: r for r in rows(db)}
    assert retry["8"].status == "pending" and retry["8"].attempts == 1
    assert retry["8"].next_attempt_at >= now + timedelta(seconds=1)  # backoff, not at once
    drain(sender, clock)
    final = {r.recipient: r for r in rows(db)}
    assert final["8"].status == "sent" and final["8"].external_message_id
    assert final["7"].status == "failed" and final["7"].attempts == 4
    assert final["7"].last_error == "gave up: NetworkError: 502"


def test_a_bad_request_is_recorded_as_failed_with_its_reason(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    transport.script["9"] = [Result(Outcome.FAILED, error="400 Bad Request: chat not found")]
    enqueue(db, [message("9", "x", "k9")], now)
    asyncio.run(make_sender(db, settings, transport).run_once())
    (row,) = rows(db)
    assert (row.status, row.last_error) == ("failed", "400 Bad Request: chat not found")


def test_a_crashed_round_is_resent_once_the_lease_runs_out(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    enqueue(db, [message(str(i), "m", f"k{i}") for i in range(3)], now)
    crashed = make_sender(db, settings, transport)
    with db.write() as session:  # the claim of a round whose process then died
        claimed = crashed._claim(session, crashed._lane("telegram", None), budget=10)
    assert len(claimed) == 3 and {r.status for r in rows(db)} == {"sending"}
    restarted = make_sender(db, settings, transport, lease=timedelta(seconds=60))
    assert asyncio.run(restarted.run_once()) == 0  # leased: not yet
    clock.advance(61)
    assert asyncio.run(restarted.run_once()) == 3
    assert {r.status for r in rows(db)} == {"sent"}


def test_rows_with_one_payload_are_batched_for_broadcast_channels(
    db: Database, settings: Settings, now: datetime
) -> None:
    clock = FakeClock(now)
    transport = RecordingTransport(
        clock, limits=ChannelLimits(per_second=50, per_chat_interval=0, batch_size=300)
    )
    transport.channel = "telegram"
    enqueue(db, [message(f"v{i}", "same", f"s{i}") for i in range(450)], now)
    enqueue(db, [message("v1", "other", "o1")], now)
    drain(make_sender(db, settings, transport), clock)
    assert len(transport.sent) == 451
    assert transport.requests <= 4  # 300 + 150 + the other one (+ a paced remainder)


def edit(recipient: str, text: str, key: str, message_id: int) -> NewMessage:
    """An answer's echo: the question's message edited to show the choice."""
    return NewMessage(
        channel="telegram",
        recipient=recipient,
        payload={"reply": {"text": text, "edit_ref": f"{recipient}:{message_id}"}},
        idempotency_key=key,
    )


def test_the_next_question_does_not_wait_behind_the_echo_of_the_last_answer(
    db: Database, settings: Settings, now: datetime
) -> None:
    """A person answers a question a second: each press queues the echo edit and the next
    question. The question goes out at once every time; the echoes fill the chat's spare pace."""
    clock = FakeClock(now)
    transport = RecordingTransport(clock)
    sender = make_sender(db, settings, transport)
    asked: dict[str, datetime] = {}
    for n in range(1, 9):
        enqueue(db, [edit("42", f"✓ {n}", f"e{n}", n), message("42", f"Q{n + 1}", f"q{n}")], now)
        asked[f"Q{n + 1}"] = clock.now
        asyncio.run(sender.run_once())
        clock.advance(1.05)  # reading the question and pressing
        now = clock.now
    drain(sender, clock)
    sent = {d.payload["reply"]["text"]: at for at, d in transport.sent}
    for question, at in asked.items():  # at once: at most a slot of the overall pace later
        assert sent[question] - at <= timedelta(seconds=0.1), (question, transport.sent)
    # Every echo arrives (each edits its own message: their order does not show).
    assert sorted(t for t in transport.texts() if t.startswith("✓")) == [
        f"✓ {n}" for n in range(1, 9)
    ]
    # Still within the chat's pace (Telegram counts edits too): a bucket of 3, one a second.
    tokens, last = 3.0, None
    for at in sorted(at for at, _ in transport.sent):
        if last is not None:
            tokens = min(3.0, tokens + (at - last).total_seconds())
        assert tokens >= 1.0, at
        tokens, last = tokens - 1.0, at


def test_a_reply_is_not_queued_behind_a_broadcast_in_flight(
    db: Database, settings: Settings, now: datetime
) -> None:
    """Broadcast requests hang (a slow platform); a person's reply still goes out at once."""
    clock = FakeClock(now)

    class Hanging(RecordingTransport):
        release = asyncio.Event()
        hanging = 0  # broadcast requests waiting for the platform

        async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
            if not deliveries[0].urgent:
                self.hanging += 1
                await self.release.wait()
            return await super().send_batch(deliveries)

    transport = Hanging(clock)
    enqueue(db, [message(str(1000 + i), "invite", f"b{i}", urgent=False) for i in range(200)], now)

    async def scenario() -> None:
        Hanging.release = asyncio.Event()
        sender = make_sender(db, settings, transport)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run_forever(stop))
        # The broadcast is stuck: as many requests in flight as the sender allows.
        for _ in range(500):
            if transport.hanging >= MAX_IN_FLIGHT:
                break
            await asyncio.sleep(0.01)
        assert transport.hanging == MAX_IN_FLIGHT and transport.sent == []
        enqueue(db, [message("42", "Питання 2 з 7", "r1")], clock.now)
        sender.wake()
        for _ in range(500):
            await asyncio.sleep(0.01)
            if transport.sent:
                break
        assert transport.texts() == ["Питання 2 з 7"]
        Hanging.release.set()
        stop.set()
        await task

    asyncio.run(scenario())
    assert len(transport.sent) >= 17  # the broadcast's requests in flight finished too
    assert counts_now(db).get("sent", 0) == len(transport.sent)


def counts_now(db: Database) -> dict[str, int]:
    with db.read() as session:
        return counts(session)


class RealClock(FakeClock):
    """The wall clock, for a test of two lanes sleeping side by side."""

    @property  # type: ignore[override]
    def now(self) -> datetime:
        return datetime.now(UTC)

    @now.setter
    def now(self, value: datetime) -> None:
        pass

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_replies_take_the_overall_slots_before_a_running_broadcast(
    db: Database, settings: Settings, now: datetime
) -> None:
    """20 people press at once during a broadcast: their replies take the next 20 overall slots
    (the broadcast gives its slots up to them), not every second one."""
    clock = RealClock(now)
    transport = RecordingTransport(
        clock, limits=ChannelLimits(per_second=100, per_chat_interval=1.0)
    )
    sender = OutboxSender(db, {"telegram": transport}, settings, clock=clock, sleep=clock.sleep)
    enqueue(db, [message(str(1000 + i), "invite", f"b{i}", urgent=False) for i in range(400)], now)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run_forever(stop))
        while len(transport.sent) < 30:  # the broadcast is under way
            await asyncio.sleep(0.01)
        enqueue(db, [message(str(42 + i), "Крок 2 з 7", f"r{i}") for i in range(20)], clock.now)
        sender.wake()
        while sum(d.urgent for _, d in transport.sent) < 20:
            await asyncio.sleep(0.01)
        stop.set()
        await task

    asyncio.run(scenario())
    kinds = [d.urgent for _, d in sorted(transport.sent, key=lambda s: s[0])]
    first, last = kinds.index(True), len(kinds) - 1 - kinds[::-1].index(True)
    between = kinds[first : last + 1].count(False)
    # Alternating with the broadcast, about 17 broadcast sends would sit between them (a few
    # slip in while a reply waits for a send in flight to finish: 16 at most at once).
    assert between <= 5, kinds[first : last + 1]
    assert counts_now(db).get("sent", 0) == len(transport.sent)


def test_a_late_wake_never_sends_into_another_processs_shared_slots(
    db: Database, settings: Settings, now: datetime
) -> None:
    """Two processes share the pace (bot/delivery/budget.py): another process booked the slots
    before and after this sender's. This sender wakes 30 ms late for its first slot (a busy
    machine). Sent anyway, and every later request pushed as late, its last request landed on
    the other process's first slot: the benchmark's 429. Now a request leaves at its slot (at
    most SLOT_GRACE after) or waits for the next claim, and nothing is lost."""
    from bot.delivery.budget import SharedBudget
    from bot.delivery.pacing import SLOT_GRACE, ChannelPacer
    from storage.repositories import budget as budget_repo

    class LateOnce(FakeClock):
        late = 0.03

        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(0)  # the requests started before this wait leave now
            self.advance(seconds + self.late)
            self.late = 0.0

    clock = LateOnce(now)
    transport = RecordingTransport(clock)
    enqueue(db, [message(str(800 + i), f"b{i}", f"late{i}", urgent=False) for i in range(30)], now)
    other, other_budget = ChannelPacer(transport.limits), SharedBudget()
    interval = 1.0 / other.rate
    ts = now.timestamp()

    def book_other(at: float) -> list[float]:
        with db.write() as session:
            booking = other_budget.open(session, "telegram", other, [], at)
            tat = booking.channel_tat
            other_budget.book(session, booking, [], 15, at)
        start = max(at + 0.03, tat)
        return [start + i * interval for i in range(15)]

    theirs = book_other(ts)  # the other process's slots before ours
    sender = make_sender(db, settings, transport, budget=SharedBudget())
    asyncio.run(sender.run_once())
    with db.read() as session:
        after = budget_repo.lock_channel(session, "telegram")
    theirs += [after + i * interval for i in range(15)]  # and right after ours
    ours = [at.timestamp() for at, _ in transport.sent]
    assert len(ours) >= 10
    arrivals = sorted(ours + theirs)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= interval - SLOT_GRACE - 1e-6
    # The strict server's rule: never 31 requests within one second.
    assert all(arrivals[i + 30] - arrivals[i] > 1.0 for i in range(len(arrivals) - 30))
    with db.read() as session:
        state = counts(session)
    assert state.get("sent", 0) == len(ours) and state.get("pending", 0) == 30 - len(ours)
