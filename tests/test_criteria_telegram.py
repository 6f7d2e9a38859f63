"""Criteria end to end in Telegram (real PTB, fake Bot API): the class teacher publishes, a
parent acknowledges and asks, the teacher answers with Telegram's "reply"."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.settings import Settings
from storage.db import Database
from storage.models import NoticeDelivery, NoticeQuestion
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import eventually, running_bot, seed_school

PARENT, TEACHER = 1001, 2002


async def press(fake: FakeTelegram, chat: int, label: str, expect: str) -> None:
    fake.press(chat, label)
    await eventually(lambda: expect in fake.last(chat).text)


async def say(fake: FakeTelegram, chat: int, text: str, expect: str, **kw: object) -> None:
    fake.push_text(chat, text, **kw)
    await eventually(lambda: expect in fake.last(chat).text)


async def register(fake: FakeTelegram, chat: int, code: str) -> None:
    await say(fake, chat, f"/start {code}", "Погоджуєтесь")
    fake.press(chat, "Погоджуюсь")
    await eventually(lambda: "ℹ️ Допомога" in fake.last(chat).labels())  # the menu


def test_publish_ack_question_and_reply_in_telegram(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await register(fake, PARENT, data.parent_code)
                await register(fake, TEACHER, data.teacher_code)
                await press(fake, TEACHER, "Критерії оцінювання", "Крок 1 з 4")
                await press(fake, TEACHER, "Далі", "Крок 2 з 4")
                await press(fake, TEACHER, "Українська мова", "Крок 3 з 4")
                await press(fake, TEACHER, "Батькам", "Крок 4 з 4")
                await say(fake, TEACHER, "Диктант: 12 балів — без помилок.", "Текст отримано")
                await press(fake, TEACHER, "Без файлу", "Отримувачів: 1")
                await press(fake, TEACHER, "Надіслати", "опитувань")  # then the menu

                await eventually(lambda: "Предмет: Українська мова" in fake.last(PARENT).text)
                await press(fake, PARENT, "Зрозуміло", "Дякуємо")
                fake.press(PARENT, "Маю питання")  # on the notice, still the last keyboard
                await eventually(lambda: "Напишіть питання" in fake.last(PARENT).text)
                await say(fake, PARENT, "А якщо дві помилки?", "передано вчителю")
                await eventually(lambda: "А якщо дві помилки?" in fake.last(TEACHER).text)
                relay = fake.last(TEACHER).message_id
                await say(fake, TEACHER, "Тоді 10 балів.", "Відповідь надіслано", reply_to=relay)
                await eventually(lambda: "Відповідь: Тоді 10 балів." in fake.last(PARENT).text)

        with db.read() as session:
            delivery = session.scalars(select(NoticeDelivery)).one()
            assert delivery.acknowledged_at is not None
            question = session.scalars(select(NoticeQuestion)).one()
            assert question.answer == "Тоді 10 балів."

    asyncio.run(scenario())
