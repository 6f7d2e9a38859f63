"""Broadcast one invitation to N private chats through a fake Bot API that enforces Telegram's
limits (429 when exceeded): first through the outbox, then with `bot.send_message` in a loop.
PTB reaches the fake over real HTTP (tests/fake_telegram_server.py), as it reaches Telegram.

    .venv/bin/python scripts/bench/telegram_broadcast.py [--recipients 3000]

Prints, for each: recipients, seconds, achieved messages/s, ratio to the 30 msg/s limit,
429s received, duplicates. Target for the outbox: ratio >= 0.9, zero 429s, zero duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.transport import (  # noqa: E402
    RetryAfter,
    TelegramTransport,
    build_bot,
    retry_after_seconds,
)
from bot.delivery.outbox import OutboxSender  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.repositories import outbox  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fake_telegram_server import FakeTelegramServer  # noqa: E402

LIMIT = 30.0
TEXT = "📝 Нове опитування: «Анкета для батьків». Це займе кілька хвилин, відповіді анонімні."


@dataclass
class Figures:
    name: str
    recipients: int
    seconds: float
    too_many: int
    duplicates: int
    delivered: int

    def show(self) -> None:
        rate = self.delivered / self.seconds if self.seconds else 0.0
        print(
            f"{self.name:<26} recipients={self.recipients} delivered={self.delivered} "
            f"seconds={self.seconds:.1f} msg/s={rate:.2f} ratio={rate / LIMIT:.3f} "
            f"429s={self.too_many} duplicates={self.duplicates}"
        )


def _bot(fake: FakeTelegram, server: FakeTelegramServer) -> Any:
    return build_bot(fake.token, server.base_url)


def _span(fake: FakeTelegram) -> float:
    times = [c.at for c in fake.calls_to("sendMessage") if c.status == 200]
    return max(times) - min(times) if len(times) > 1 else 0.0


async def with_outbox(recipients: int, workdir: Path) -> Figures:
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    settings = Settings(_env_file=None, database_url=url, quiet_hours="")
    now = datetime.now(UTC)
    fake = FakeTelegram(enforce_limits=True)
    with FakeTelegramServer(fake) as server:
        async with _bot(fake, server) as bot:
            started = time.monotonic()
            with db.write() as session:  # a wave opening: one insert
                outbox.enqueue_many(
                    session,
                    [
                        outbox.NewMessage(
                            channel="telegram",
                            recipient=str(100_000 + i),
                            payload={"reply": {"text": TEXT}},
                            idempotency_key=f"bench:{i}",
                            kind="invitation",
                            urgent=False,
                        )
                        for i in range(recipients)
                    ],
                    now,
                )
            print(f"enqueued {recipients} rows in {time.monotonic() - started:.2f}s")
            sender = OutboxSender(db, {"telegram": TelegramTransport(bot)}, settings)
            stop = asyncio.Event()
            task = asyncio.create_task(sender.run_forever(stop))
            while True:
                await asyncio.sleep(0.5)
                with db.read() as session:
                    counts = outbox.counts(session)
                if counts.get("pending", 0) + counts.get("sending", 0) == 0:
                    break
            stop.set()
            await task
            delivered = sum(1 for c in fake.calls_to("sendMessage") if c.status == 200)
            figures = Figures(
                "outbox", recipients, _span(fake), fake.too_many, fake.duplicates(), delivered
            )
    db.dispose()
    return figures


async def plain_loop(recipients: int) -> Figures:
    """What one writes without an outbox: send in a loop, sleep when told to."""
    fake = FakeTelegram(enforce_limits=True)
    with FakeTelegramServer(fake) as server:
        async with _bot(fake, server) as bot:
            for i in range(recipients):
                while True:
                    try:
                        await bot.send_message(100_000 + i, TEXT)
                        break
                    except RetryAfter as exc:
                        await asyncio.sleep(retry_after_seconds(exc))
            delivered = sum(1 for c in fake.calls_to("sendMessage") if c.status == 200)
            return Figures(
                "plain send_message loop",
                recipients,
                _span(fake),
                fake.too_many,
                fake.duplicates(),
                delivered,
            )


async def plain_gather(recipients: int) -> Figures:
    """The same, all at once with asyncio.gather (what one tries when the loop is slow)."""
    fake = FakeTelegram(enforce_limits=True)
    with FakeTelegramServer(fake) as server:
        async with _bot(fake, server) as bot:

            async def one(chat_id: int) -> None:
                while True:
                    try:
                        await bot.send_message(chat_id, TEXT)
                        return
                    except RetryAfter as exc:
                        await asyncio.sleep(retry_after_seconds(exc))

            await asyncio.gather(*(one(100_000 + i) for i in range(recipients)))
            delivered = sum(1 for c in fake.calls_to("sendMessage") if c.status == 200)
            return Figures(
                "plain send_message gather",
                recipients,
                _span(fake),
                fake.too_many,
                fake.duplicates(),
                delivered,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    args = parser.parse_args()
    import warnings

    warnings.filterwarnings("ignore", module="telegram")
    with tempfile.TemporaryDirectory() as tmp:
        outbox_figures = asyncio.run(with_outbox(args.recipients, Path(tmp)))
    outbox_figures.show()
    for baseline in (plain_loop, plain_gather):
        asyncio.run(baseline(args.recipients)).show()
    ok = (
        outbox_figures.delivered == args.recipients
        and outbox_figures.too_many == 0
        and outbox_figures.duplicates == 0
        and outbox_figures.delivered / max(outbox_figures.seconds, 1e-9) / LIMIT >= 0.9
    )
    print("target met" if ok else "TARGET MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
