"""A burst of 1,000 `/menu` updates from 1,000 chats: classpulse against a bare PTB bot, both
on the fake Bot API that enforces Telegram's limits (tests/fake_telegram.py, in process).

    .venv/bin/python scripts/bench/burst.py [--updates 1000]

classpulse: the real bot of tests/telegram_harness.py (the durable inbox, ChatService, the
outbox sender) with Telegram's real limits; the 1,000 people are registered parents (the menu
lists the open survey). The peer: a bare python-telegram-bot 22 Application
(`concurrent_updates`, `AIORateLimiter(overall_max_rate=1, overall_time_period=1/30)`) that
answers `/menu` with a text and one button.

Prints: handled/s (classpulse: updates processed, their replies durably queued; the peer: its
handler entered), answered/s (every chat has its reply; both bounded by Telegram's 30/s), and
press -> reply p50/p95. Goal (issue 16): handled/s >= 0.9 x the bare bot's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.transport import LIMITS  # noqa: E402
from bot.conversation.service import ChatService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from scripts.bench.summary import emit  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.bare_ptb import bare_menu_bot  # noqa: E402
from tests.fake_telegram import SEND_METHODS, FakeTelegram  # noqa: E402
from tests.school import SchoolBuilder  # noqa: E402
from tests.telegram_harness import running_bot  # noqa: E402

FIRST_CHAT = 700_000


@dataclass
class Figures:
    name: str
    pushed: dict[int, float] = field(default_factory=dict)
    handled: list[float] = field(default_factory=list)
    answered: dict[int, float] = field(default_factory=dict)
    started: float = 0.0
    too_many: int = 0

    @property
    def handled_per_s(self) -> float:
        span = max(self.handled) - self.started if self.handled else 0.0
        return len(self.handled) / span if span else 0.0

    @property
    def answered_per_s(self) -> float:
        span = max(self.answered.values()) - self.started if self.answered else 0.0
        return len(self.answered) / span if span else 0.0

    def latency(self, q: int) -> float:
        lat = [self.answered[c] - self.pushed[c] for c in self.answered if c in self.pushed]
        return statistics.quantiles(lat, n=100, method="inclusive")[q - 1] if lat else 0.0

    def show(self) -> None:
        print(
            f"{self.name:<12} handled={self.handled_per_s:7.1f}/s "
            f"answered={self.answered_per_s:5.1f}/s press->reply p50={self.latency(50):.2f}s "
            f"p95={self.latency(95):.2f}s 429s={self.too_many}"
        )


def _answers(fake: FakeTelegram, figures: Figures) -> None:
    for call in fake.calls:
        chat = call.chat_id or 0
        if call.method in SEND_METHODS and call.status == 200 and chat >= FIRST_CHAT:
            figures.answered.setdefault(chat, call.at)


async def _burst(fake: FakeTelegram, figures: Figures, updates: int) -> None:
    figures.started = time.monotonic()
    for i in range(updates):
        fake.push_text(FIRST_CHAT + i, "/menu")
        figures.pushed[FIRST_CHAT + i] = time.monotonic()
    await fake.until(
        lambda: len({c.chat_id for c in fake.calls if c.method in SEND_METHODS}) >= updates,
        timeout=600,
    )


async def classpulse(updates: int, workdir: Path) -> Figures:
    url = f"sqlite:///{workdir / 'burst.db'}"
    upgrade(url)
    db = Database(url)
    settings = Settings(_env_file=None, database_url=url, quiet_hours="")
    builder = SchoolBuilder.create(db, settings, ("7-А",))
    builder.wave("assessment-parents", datetime.now(UTC), label="2026-03")
    for i in range(updates):
        builder.person(f"Parent {i}", "parent", "7-А", ("telegram", str(FIRST_CHAT + i)))
    figures = Figures("classpulse")
    fake = FakeTelegram(enforce_limits=True)
    handle = ChatService.handle_full

    def timed(self: ChatService, event: Any) -> Any:
        result = handle(self, event)
        figures.handled.append(time.monotonic())
        return result

    ChatService.handle_full = timed  # type: ignore[method-assign]
    try:
        async with running_bot(fake, settings, db, limits=LIMITS):
            await _burst(fake, figures, updates)
    finally:
        ChatService.handle_full = handle  # type: ignore[method-assign]
    _answers(fake, figures)
    figures.too_many = fake.too_many
    db.dispose()
    return figures


async def bare_ptb(updates: int) -> Figures:
    fake = FakeTelegram(enforce_limits=True)
    figures = Figures("bare PTB")
    app = bare_menu_bot(fake, lambda: figures.handled.append(time.monotonic()))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=30)
        try:
            await _burst(fake, figures, updates)
        finally:
            await app.updater.stop()
            await app.stop()
    _answers(fake, figures)
    figures.too_many = fake.too_many
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(classpulse(args.updates, Path(tmp)))
    peer = asyncio.run(bare_ptb(args.updates))
    ours.show()
    peer.show()
    handled_ok = ours.handled_per_s >= 0.9 * peer.handled_per_s
    answered_ok = ours.answered_per_s >= 0.9 * peer.answered_per_s and ours.too_many == 0
    emit(
        "burst",
        f"{args.updates} /menu updates: handled/s",
        ours.handled_per_s,
        peer=peer.handled_per_s,
        peer_name="bare PTB",
        unit="/s",
        goal=">= 0.9 x peer",
        met=handled_ok,
    )
    emit(
        "burst",
        f"{args.updates} /menu updates: answered/s",
        ours.answered_per_s,
        peer=peer.answered_per_s,
        peer_name="bare PTB",
        unit="/s",
        goal=">= 0.9 x peer, 0 x 429",
        met=answered_ok,
    )
    emit(
        "burst",
        "press -> reply p50",
        ours.latency(50),
        peer=peer.latency(50),
        peer_name="bare PTB",
        unit="s",
    )
    print("target met" if handled_ok and answered_ok else "TARGET MISSED")
    sys.exit(0 if handled_ok and answered_ok else 1)


if __name__ == "__main__":
    main()
