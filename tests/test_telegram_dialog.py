"""Private chats through real PTB and the fake Bot API: what a parent sees, press by press."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.settings import Settings
from storage.db import Database
from storage.models import Response
from tests.fake_telegram import SEND_METHODS, FakeTelegram
from tests.telegram_harness import RunningBot, running_bot, seed_school

PARENT = 1001


async def press(bot: RunningBot, label: str, expect: str) -> None:
    bot.fake.press(PARENT, label)
    await bot.settle()
    assert expect in bot.fake.last(PARENT).text


async def say(bot: RunningBot, text: str, expect: str) -> None:
    bot.fake.push_text(PARENT, text)
    await bot.settle()
    assert expect in bot.fake.last(PARENT).text


def _sends(fake: FakeTelegram) -> int:
    """Requests that count against Telegram's message limits, to the parent's chat."""
    return sum(1 for c in fake.calls if c.chat_id == PARENT and c.method in SEND_METHODS)


async def register(bot: RunningBot, code: str) -> None:
    await say(bot, f"/start {code}", "Погоджуєтесь")
    await press(bot, "Погоджуюсь", "Головне меню")


def test_full_parent_survey_from_deep_link_to_submit(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await register(bot, data.parent_code)
            await press(bot, "Анкета для батьків", "Крок 1 з 7")
            q1 = fake.last(PARENT).message_id
            sends = _sends(fake)
            await press(bot, "Так, завжди", "Крок 2 з 7")
            # A press turns the question's message into the answer and the next question: one
            # request (the spinner's answer aside), the answer still in sight.
            assert _sends(fake) == sends + 1
            assert fake.last(PARENT).message_id == q1
            assert "Ваша відповідь: Так, завжди" in fake.last(PARENT).text
            assert fake.last(PARENT).text.index("Так, завжди") < fake.last(PARENT).text.index(
                "Крок 2 з 7"
            )
            await press(bot, "Іноді", "Крок 3 з 7")
            assert "Ваша відповідь: Іноді" in fake.last(PARENT).text
            assert "Так, завжди" not in fake.last(PARENT).text  # the review shows them all
            # Multi-choice: toggles edit the keyboard of the same message in place.
            multi = fake.last(PARENT).message_id
            assert multi == q1
            fake.press(PARENT, "з сайту школи")
            await bot.settle()
            assert "✓ з сайту школи" in fake.last(PARENT).labels()
            fake.press(PARENT, "від класного керівника")
            await bot.settle()
            assert "✓ від класного керівника" in fake.last(PARENT).labels()
            assert fake.last(PARENT).message_id == multi
            await press(bot, "Готово", "Крок 4 з 7")
            await press(bot, "Частково", "Крок 5 з 7")
            await press(bot, "Здебільшого", "Крок 6 з 7")
            await press(bot, "Зовсім ні", "Крок 7 з 7")
            text_question = fake.last(PARENT).message_id
            assert fake.last(PARENT).buttons  # "⬅️ Назад", "Пропустити"
            await say(bot, "Більше пояснень критеріїв", "Перевірте відповіді")
            review = fake.last(PARENT).message_id
            assert any("Надіслати" in label for label in fake.last(PARENT).labels())
            await press(bot, "Надіслати", "немає відкритих опитувань")

            shown = {s.message_id: s for s in fake.view(PARENT)}
            # A typed answer and a submitted review leave no live buttons behind.
            assert shown[text_question].buttons == []
            assert "Ваша відповідь: Більше пояснень критеріїв" in shown[text_question].text
            assert shown[review].buttons == []
            assert "Перевірте відповіді" in shown[review].text
            # The questions answered by buttons were one message: it shows the last of them
            # answered, its buttons gone; the review before submitting showed every answer.
            assert text_question == q1
            assert "Більше пояснень критеріїв" in shown[review].text
            assert "від класного керівника; з сайту школи" in shown[review].text
            assert any("Дякуємо" in s.text for s in shown.values())
            # Every press is answered (the spinner stops).
            assert len(fake.calls_to("answerCallbackQuery")) == 11

        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Response)) == 1

    asyncio.run(scenario())


def test_resume_after_the_bot_restarts_mid_survey(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await register(bot, data.parent_code)
            await press(bot, "Анкета для батьків", "Крок 1 з 7")
            await press(bot, "Переважно так", "Крок 2 з 7")
        # The process is gone; a new one starts against the same database.
        async with running_bot(fake, settings, db) as bot:
            await say(bot, "/menu", "Головне меню")
            assert any("продовжити" in label for label in fake.last(PARENT).labels())
            await press(bot, "продовжити", "Крок 2 з 7")
            await press(bot, "Ніколи", "Крок 3 з 7")

    asyncio.run(scenario())


def test_a_stale_button_shows_the_current_question(db: Database, settings: Settings) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await register(bot, data.parent_code)
            await press(bot, "Анкета для батьків", "Крок 1 з 7")
            old_id, old_button = fake.button(PARENT, "Так, завжди")
            await press(bot, "Так, завжди", "Крок 2 з 7")
            # The same press again, e.g. from a second device that still shows the buttons.
            fake.push_callback(PARENT, old_id, old_button["callback_data"])
            await bot.settle()
            assert "вже пройдено" in fake.last(PARENT).text
            assert "Крок 2 з 7" in fake.last(PARENT).text
            # Tampered callback data gets a polite answer, and the handler survives.
            fake.push_callback(PARENT, old_id, "~a:999999:0:0'; drop table")
            await bot.settle()
            assert "розпізнати" in fake.last(PARENT).text
            assert len(fake.calls_to("answerCallbackQuery")) == 5

    asyncio.run(scenario())


def test_a_group_invitation_link_opens_the_survey_in_private(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await register(bot, data.parent_code)
            await say(bot, f"/start w{data.wave_id}", "Крок 1 з 7")
            await say(bot, "/start menu", "Головне меню")

    asyncio.run(scenario())
