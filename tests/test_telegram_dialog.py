"""Private chats through real PTB and the fake Bot API: what a parent sees, press by press."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.settings import Settings
from storage.db import Database
from storage.models import Response
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import eventually, running_bot, seed_school

PARENT = 1001


async def press(fake: FakeTelegram, label: str, expect: str) -> None:
    fake.press(PARENT, label)
    await eventually(lambda: expect in fake.last(PARENT).text)


async def register(fake: FakeTelegram, code: str) -> None:
    fake.push_text(PARENT, f"/start {code}")
    await eventually(lambda: "Погоджуєтесь" in fake.last(PARENT).text)
    await press(fake, "Погоджуюсь", "Головне меню")


def test_full_parent_survey_from_deep_link_to_submit(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await register(fake, data.parent_code)
                await press(fake, "Анкета для батьків", "Питання 1 з 7")
                q1 = fake.last(PARENT).message_id
                await press(fake, "Так, завжди", "Питання 2 з 7")
                await press(fake, "Іноді", "Питання 3 з 7")
                # Multi-choice: toggles edit the keyboard of the same message in place.
                multi = fake.last(PARENT).message_id
                fake.press(PARENT, "з сайту школи")
                await eventually(lambda: "✓ з сайту школи" in fake.last(PARENT).labels())
                fake.press(PARENT, "від класного керівника")
                await eventually(lambda: "✓ від класного керівника" in fake.last(PARENT).labels())
                assert fake.last(PARENT).message_id == multi
                await press(fake, "Готово", "Питання 4 з 7")
                await press(fake, "Частково", "Питання 5 з 7")
                await press(fake, "Здебільшого", "Питання 6 з 7")
                await press(fake, "Зовсім ні", "Питання 7 з 7")
                fake.push_text(PARENT, "Більше пояснень критеріїв")
                await eventually(lambda: "Перевірте відповіді" in fake.last(PARENT).text)
                await press(fake, "Надіслати", "немає відкритих опитувань")

                shown = {s.message_id: s for s in fake.view(PARENT)}
                # Answered questions were edited to show the choice, their buttons gone.
                assert "Ваша відповідь: Так, завжди" in shown[q1].text
                assert shown[q1].buttons == []
                assert "від класного керівника; з сайту школи" in shown[multi].text
                assert any("Дякуємо" in s.text for s in shown.values())
                # Every press is answered (the spinner stops).
                await eventually(lambda: len(fake.calls_to("answerCallbackQuery")) == 11)

        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Response)) == 1

    asyncio.run(scenario())


def test_resume_after_the_bot_restarts_mid_survey(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await register(fake, data.parent_code)
                await press(fake, "Анкета для батьків", "Питання 1 з 7")
                await press(fake, "Переважно так", "Питання 2 з 7")
            # The process is gone; a new one starts against the same database.
            async with running_bot(fake, settings, db):
                fake.push_text(PARENT, "/menu")
                await eventually(lambda: "Головне меню" in fake.last(PARENT).text)
                assert any("продовжити" in label for label in fake.last(PARENT).labels())
                await press(fake, "продовжити", "Питання 2 з 7")
                await press(fake, "Ніколи", "Питання 3 з 7")

    asyncio.run(scenario())


def test_a_stale_button_shows_the_current_question(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await register(fake, data.parent_code)
                await press(fake, "Анкета для батьків", "Питання 1 з 7")
                old_id, old_button = fake.button(PARENT, "Так, завжди")
                await press(fake, "Так, завжди", "Питання 2 з 7")
                # The same press again, e.g. from a second device that still shows the buttons.
                fake.push_callback(PARENT, old_id, old_button["callback_data"])
                await eventually(lambda: "вже пройдено" in fake.last(PARENT).text)
                assert "Питання 2 з 7" in fake.last(PARENT).text
                # Tampered callback data gets a polite answer, and the handler survives.
                fake.push_callback(PARENT, old_id, "~a:999999:0:0'; drop table")
                await eventually(lambda: "розпізнати" in fake.last(PARENT).text)
                await eventually(lambda: len(fake.calls_to("answerCallbackQuery")) == 5)

    asyncio.run(scenario())


def test_a_group_invitation_link_opens_the_survey_in_private(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await register(fake, data.parent_code)
                fake.push_text(PARENT, f"/start w{data.wave_id}")
                await eventually(lambda: "Питання 1 з 7" in fake.last(PARENT).text)
                fake.push_text(PARENT, "/start menu")
                await eventually(lambda: "Головне меню" in fake.last(PARENT).text)

    asyncio.run(scenario())
