"""Webhook mode: the shared starlette app on uvicorn, real PTB behind it, the fake Bot API."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage, ProcessedEvent
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import TELEGRAM_SECRET_HEADER, running_bot, seed_school, webhook_client

SECRET = "s3cret-webhook-token_for-tests"
PARENT = 1001


def counts(db: Database) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def test_webhook_processes_a_duplicate_update_once_and_refuses_wrong_secrets(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        webhook = {
            "telegram_webhook_url": "https://school.example/telegram/webhook",
            "telegram_webhook_secret": SECRET,
        }
        async with running_bot(fake, settings, db, **webhook) as bot, webhook_client(bot) as client:
            (set_webhook,) = fake.calls_to("setWebhook")
            assert set_webhook.params["secret_token"] == SECRET
            assert set_webhook.params["url"] == "https://school.example/telegram/webhook"

            update = fake.text_update(PARENT, f"/start {data.parent_code}")
            # Wrong or missing secret: 403, nothing stored, nothing sent.
            for headers in ({TELEGRAM_SECRET_HEADER: "wrong"}, {}):
                answer = await client.post("/telegram/webhook", json=update, headers=headers)
                assert answer.status_code == 403
            await bot.settle()
            assert counts(db) == (0, 0)
            assert fake.calls_to("sendMessage") == []

            good = {TELEGRAM_SECRET_HEADER: SECRET}
            bad_json = await client.post("/telegram/webhook", content=b"{no", headers=good)
            assert bad_json.status_code == 400
            huge = await client.post(
                "/telegram/webhook", content=b"x" * (1024 * 1024 + 1), headers=good
            )
            assert huge.status_code == 413
            # A JSON object that is no update: 200 (so Telegram stops), then dropped.
            junk = await client.post("/telegram/webhook", json={"foo": [1]}, headers=good)
            assert junk.status_code == 200

            # Telegram re-delivers an update (same update_id): answered once.
            for _ in range(2):
                answer = await client.post("/telegram/webhook", json=update, headers=good)
                assert answer.status_code == 200
            await bot.settle()
            assert "Погоджуєтесь" in fake.last(PARENT).text
            assert len(fake.calls_to("sendMessage", PARENT)) == 1
            assert counts(db) == (1, 1)

            health = await client.get("/healthz")
            assert health.json() == {"status": "ok"}

    asyncio.run(scenario())
