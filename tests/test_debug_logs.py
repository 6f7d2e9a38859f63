"""LOG_LEVEL=DEBUG, and every library logger turned to DEBUG as well (telegram, httpx, httpcore,
uvicorn, apscheduler, viberbot, sqlalchemy): whole surveys through the real Telegram path (PTB,
webhook mode on uvicorn, the fake Bot API) and the real Viber path (viberbot, the signed webhook,
the fake Viber API). The log, as the product's handler writes it, holds no answer text, no
invite code, no token and no webhook secret, and it does hold the libraries' debug lines (so the
test sees what an operator who turned everything on would see)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.logging_setup import LIBRARY_FLOORS, configure_logging, prepare_handler
from bot.settings import Settings
from storage.db import Database
from tests.fake_telegram import FakeTelegram
from tests.fake_viber import FakeViber
from tests.telegram_harness import (
    TELEGRAM_SECRET_HEADER,
    RunningBot,
    running_bot,
    seed_school,
    webhook_client,
)
from tests.viber_support import TOKEN as VIBER_TOKEN
from tests.viber_support import ViberWorld, build_world

pytest_plugins = ("tests.viber_fixtures",)

LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "uvicorn",
    "apscheduler",
    "viber",
    "sqlalchemy",
    "urllib3",
    "requests",
)
SECRET = "hook-SECRET-for-the-debug-log-test"
PARENT = 1001
TYPED = "Мій син боїться контрольних з алгебри"  # a free-text answer


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The product's logging at DEBUG, every library logger at DEBUG too, written to a buffer
    through a handler prepared as `configure_logging` prepares the product's."""
    root = logging.getLogger()
    names = (
        "",
        *LIBRARIES,
        *LIBRARY_FLOORS,
        "alembic",
        "sqlalchemy.engine",
        "sqlalchemy.pool",
        "viber.bot.api",
    )
    levels = {name: logging.getLogger(name).level for name in names}
    # configure_logging prepares the handlers it finds (pytest's): put them back afterwards.
    handlers = {h: (h.formatter, list(h.filters)) for h in root.handlers}
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    configure_logging("DEBUG")
    prepare_handler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for h, (formatter, filters) in handlers.items():
            h.setFormatter(formatter)
            h.filters = filters


def assert_clean(log: str, secrets: dict[str, str]) -> None:
    found = {what: value for what, value in secrets.items() if value in log}
    lines = [line for line in log.splitlines() if any(v in line for v in found.values())]
    assert not found, f"the log shows {sorted(found)}: {lines[:3]}"


def assert_libraries_spoke(log: str, names: tuple[str, ...]) -> None:
    quiet = [name for name in names if f" {name}" not in log]
    assert not quiet, f"no debug line from {quiet}: the test would see nothing"


def test_a_telegram_survey_at_debug_logs_no_answer_code_token_or_secret(
    db: Database, settings: Settings, debug_log: io.StringIO
) -> None:
    data = seed_school(db, settings)

    async def scenario(fake: FakeTelegram) -> None:
        url = "https://school.example/telegram/webhook"
        async with (
            running_bot(
                fake, settings, db, telegram_webhook_url=url, telegram_webhook_secret=SECRET
            ) as bot,
            webhook_client(bot) as client,
        ):
            headers = {TELEGRAM_SECRET_HEADER: SECRET}

            async def post(update: dict[str, object]) -> None:
                answer = await client.post("/telegram/webhook", json=update, headers=headers)
                assert answer.status_code == 200
                await bot.settle()

            async def press(running: RunningBot, label: str) -> None:
                message_id, button = fake.button(PARENT, label)
                await post(fake.callback_update(PARENT, message_id, button["callback_data"]))

            await post(fake.text_update(PARENT, f"/start {data.parent_code}"))
            await press(bot, "Погоджуюсь")
            await press(bot, "Анкета для батьків")
            for label in ("Так, завжди", "Іноді", "з сайту школи", "Готово"):
                await press(bot, label)
            for label in ("Частково", "Здебільшого", "Зовсім ні"):
                await press(bot, label)
            await post(fake.text_update(PARENT, TYPED))
            await press(bot, "Надіслати")
            assert any("Дякуємо" in text for text in fake.texts(PARENT))
            assert any(TYPED in text for text in fake.texts(PARENT))  # the echo was sent

    fake = FakeTelegram()
    asyncio.run(scenario(fake))
    log = debug_log.getvalue()
    assert_libraries_spoke(log, ("telegram", "uvicorn", "sqlalchemy"))
    assert_clean(
        log,
        {
            "the typed answer": TYPED,
            "the typed answer (escaped)": TYPED.encode("unicode_escape").decode(),
            "the invite code": data.parent_code,
            "the teacher's invite code": data.teacher_code,
            "the bot token": fake.token,
            "the token's secret part": fake.token.split(":", 1)[1],
            "the webhook secret": SECRET,
        },
    )


@pytest.mark.anyio
async def test_a_viber_survey_at_debug_logs_no_answer_code_or_token(
    db: Database,
    settings: Settings,
    fake_viber: FakeViber,
    debug_log: io.StringIO,
    now: datetime,
) -> None:
    world: ViberWorld = build_world(fake_viber, db, settings, now)
    try:
        user = world.user("u-olena")
        code = world.invite()
        assert (await user.open(code)).status_code == 200
        await user.press("Погоджуюсь")
        await user.press("Анкета")
        for label in ("Так, завжди", "Іноді", "з сайту школи", "Готово"):
            await user.press(label)
        for label in ("Частково", "Здебільшого", "Зовсім ні"):
            await user.press(label)
        await user.send_text(TYPED)
        await user.press("Надіслати")
        assert "Дякуємо! Ваші відповіді збережено анонімно." in user.texts()[-1]
    finally:
        world.parts.client.close()
    log = debug_log.getvalue()
    assert_libraries_spoke(log, ("urllib3", "sqlalchemy"))  # viberbot: see ViberLogFilter
    assert_clean(
        log,
        {
            "the typed answer": TYPED,
            "the typed answer (escaped)": TYPED.encode("unicode_escape").decode(),
            "the invite code": code,
            "the auth token": VIBER_TOKEN,
        },
    )


def test_a_flood_of_one_message_is_cut_to_a_few_lines_a_minute() -> None:
    """The handler as the product prepares it: one message repeated with different arguments
    (a flood of failing connections) is written RATE_BURST times, then held back. (The rate
    limit ran after the redaction, which replaces the template with the formatted text: every
    record looked new and nothing was ever held back.)"""
    from bot.logging_setup import RATE_BURST

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    prepare_handler(handler)
    log = logging.getLogger("bot.test_flood")
    log.addHandler(handler)
    log.propagate = False
    try:
        for i in range(1000):
            log.warning("connection %d failed: [Errno 24] Too many open files", i)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert len(buffer.getvalue().splitlines()) == RATE_BURST
