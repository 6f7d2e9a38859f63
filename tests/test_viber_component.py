"""The Viber component as `classpulse run` composes it (bot/app.py): its adapter has a chat
service of its own, and a slow job's replies there (a report, a Forms import) must wake the
outbox sender, as the main service's do, instead of waiting for its next poll."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.app import ViberComponent
from bot.context import AppContext
from bot.conversation.service import ChatService
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import Database
from tests.fake_viber import FakeViber
from tests.viber_support import _viber_settings


def test_a_slow_jobs_replies_in_viber_wake_the_sender(db: Database, settings: Settings) -> None:
    fake = FakeViber("viber-component-token").start()
    try:
        own = _viber_settings(settings, fake.url)
        app = AppContext(settings=own)

        async def scenario() -> bool:
            woken = asyncio.Event()
            rt = Runtime(app, own, db, lambda: datetime.now(UTC), ChatService(db, own))
            rt.wake = woken.set  # type: ignore[method-assign]  # the sender's wake, observed
            component = ViberComponent(rt)
            await component.start()
            try:
                # What ChatService does in its worker thread once a slow job queued replies.
                await asyncio.to_thread(component.parts.adapter.service.after_background)
                return await asyncio.wait_for(woken.wait(), 10)
            finally:
                await component.parts.adapter.stop_worker()
                component.parts.client.close()

        assert asyncio.run(scenario())
    finally:
        fake.stop()
