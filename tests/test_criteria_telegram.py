"""Criteria end to end in Telegram (real PTB, fake Bot API): the class teacher publishes, a
parent acknowledges and asks, the teacher answers with Telegram's "reply"."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.settings import Settings
from storage.db import Database
from storage.models import NoticeDelivery, NoticeQuestion
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import RunningBot, running_bot, seed_school

PARENT, TEACHER = 1001, 2002


async def press(bot: RunningBot, chat: int, label: str, expect: str) -> None:
    bot.fake.press(chat, label)
    await bot.settle()
    assert expect in bot.fake.last(chat).text


async def say(bot: RunningBot, chat: int, text: str, expect: str, **kw: object) -> None:
    bot.fake.push_text(chat, text, **kw)
    await bot.settle()
    assert expect in bot.fake.last(chat).text


async def register(bot: RunningBot, chat: int, code: str) -> None:
    await say(bot, chat, f"/start {code}", "Погоджуєтесь")
    bot.fake.press(chat, "Погоджуюсь")
    await bot.settle()
    assert "ℹ️ Допомога" in bot.fake.last(chat).labels()  # the menu


def test_publish_ack_question_and_reply_in_telegram(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await register(bot, PARENT, data.parent_code)
            await register(bot, TEACHER, data.teacher_code)
            await press(bot, TEACHER, "Критерії оцінювання", "Крок 1 з 4")
            await press(bot, TEACHER, "Далі", "Крок 2 з 4")
            await press(bot, TEACHER, "Українська мова", "Крок 3 з 4")
            await press(bot, TEACHER, "Батькам", "Крок 4 з 4")
            await say(bot, TEACHER, "Диктант: 12 балів — без помилок.", "Текст отримано")
            await press(bot, TEACHER, "Без файлу", "Отримувачів: 1")
            await press(bot, TEACHER, "Надіслати", "опитувань")  # then the menu

            assert "Предмет: Українська мова" in fake.last(PARENT).text
            await press(bot, PARENT, "Зрозуміло", "Дякуємо")
            # On the notice, still the last keyboard.
            await press(bot, PARENT, "Маю питання", "Напишіть питання")
            await say(bot, PARENT, "А якщо дві помилки?", "передано вчителю")
            assert "А якщо дві помилки?" in fake.last(TEACHER).text
            relay = fake.last(TEACHER).message_id
            await say(bot, TEACHER, "Тоді 10 балів.", "Відповідь надіслано", reply_to=relay)
            assert "Відповідь: Тоді 10 балів." in fake.last(PARENT).text

        with db.read() as session:
            delivery = session.scalars(select(NoticeDelivery)).one()
            assert delivery.acknowledged_at is not None
            question = session.scalars(select(NoticeQuestion)).one()
            assert question.answer == "Тоді 10 балів."

    asyncio.run(scenario())
