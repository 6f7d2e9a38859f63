"""The real bot (PTB Application + ChatService + OutboxSender) against tests/fake_telegram.py.

`async with running_bot(fake, settings, db) as bot:` starts long polling and the outbox sender;
leaving the block stops both, as a process exit would. The database outlives it, so a second
block is the bot after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channels.telegram.client import TelegramAdapter
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits
from bot.delivery.outbox import OutboxSender
from bot.settings import Settings
from storage.db import Database
from storage.repositories import invites, school, surveys, waves
from storage.survey_schema import bundled_surveys_dir, load_survey_file
from tests.fake_telegram import FakeTelegram

# Dialog tests are about what the user sees, not about pacing: no waiting between messages.
FAST = ChannelLimits(
    per_second=10_000, per_chat_interval=0.0, group_per_minute=100_000, per_chat_burst=100
)


def telegram_settings(settings: Settings, fake: FakeTelegram, **more: object) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": fake.token,
            "telegram_api_base_url": fake.base_url,
            **more,
        }
    )


@dataclass
class RunningBot:
    adapter: TelegramAdapter
    sender: OutboxSender
    service: ChatService


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram,
    settings: Settings,
    db: Database,
    limits: ChannelLimits = FAST,
) -> AsyncIterator[RunningBot]:
    settings = telegram_settings(settings, fake)
    service = ChatService(db, settings)
    holder: list[OutboxSender] = []
    adapter = TelegramAdapter(
        settings, db, service, wake=lambda: holder[0].wake(), limits=limits, poll_timeout=1
    )
    sender = OutboxSender(db, {"telegram": adapter.transport}, settings)
    holder.append(sender)
    stop = asyncio.Event()
    await adapter.start()
    task = asyncio.create_task(sender.run_forever(stop))
    try:
        yield RunningBot(adapter, sender, service)
    finally:
        stop.set()
        sender.wake()
        await task
        await adapter.stop()


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until `check()` is truthy (and does not raise); fail with its last error."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
            last = None
        except (AssertionError, LookupError) as exc:
            last = exc
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met in {timeout}s: {last!r}")


@dataclass
class SchoolData:
    class_id: int
    wave_id: int
    parent_code: str
    teacher_code: str


def seed_school(db: Database, settings: Settings, now: datetime | None = None) -> SchoolData:
    """Class 7-А, invites for a parent and the class teacher, the parents' survey open."""
    now = now or datetime.now(UTC) - timedelta(minutes=1)
    with db.write() as session:
        (klass,) = school.add_classes(session, settings.school_name, ["7-А"])
        parent = invites.create_invite(session, klass.id, "parent", now)
        teacher = invites.create_invite(session, klass.id, "class_teacher", now)
        path = Path(bundled_surveys_dir()) / "assessment-parents.yaml"
        survey = surveys.sync_survey(session, load_survey_file(path))
        wave = waves.create_wave(session, survey.id, "2026-03", [klass.id], status="open")
        return SchoolData(klass.id, wave.id, parent.code, teacher.code)
