"""Class groups through real PTB and the fake Bot API: /bind, /unbind, removal, invitations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.channels.capabilities import telegram_chat_link
from bot.members.groups import queue_group_invitations
from bot.settings import Settings
from storage.db import Database
from storage.repositories import groups, waves
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import RunningBot, running_bot, seed_school

TEACHER, PARENT, STRANGER = 2001, 1001, 3001
GROUP = -1001234567890


async def join(bot: RunningBot, chat: int, code: str) -> None:
    bot.fake.push_text(chat, f"/start {code}")
    await bot.settle()
    assert "Погоджуєтесь" in bot.fake.last(chat).text
    bot.fake.press(chat, "Погоджуюсь")
    await bot.settle()
    assert "🗑 Видалити мої дані" in bot.fake.last(chat).labels()  # the menu


async def in_group(bot: RunningBot, text: str, user_id: int, chat_type: str = "supergroup") -> None:
    bot.fake.push_text(GROUP, text, user_id=user_id, chat_type=chat_type)
    await bot.settle()


def group_binding(db: Database) -> groups.Binding | None:
    with db.read() as session:
        return groups.binding(session, "telegram", str(GROUP))


def test_bind_is_refused_to_others_and_allowed_to_the_class_teacher(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await join(bot, TEACHER, data.teacher_code)
            await join(bot, PARENT, data.parent_code)
            fake.push_my_chat_member(GROUP, "supergroup", "left", "member", by_user=TEACHER)
            await bot.settle()
            assert "/bind 7-А" in fake.last(GROUP).text

            await in_group(bot, "/bind 7-А", STRANGER)
            assert "зареєстрований" in fake.last(GROUP).text
            await in_group(bot, "/bind 7-А", PARENT)
            assert "може лише вчитель" in fake.last(GROUP).text
            assert group_binding(db) is None

            # Other text in the group is ignored; so is a command for another bot.
            fake.push_text(GROUP, "Добрий день!", user_id=PARENT, chat_type="supergroup")
            fake.push_text(GROUP, "/bind@other_bot 7-А", user_id=TEACHER, chat_type="supergroup")
            await in_group(bot, "/bind@classpulse_test_bot 7а", TEACHER)
            assert "прив'язано до класу 7-А" in fake.last(GROUP).text
            assert len(fake.calls_to("sendMessage", GROUP)) == 4
            binding = group_binding(db)
            assert binding is not None and binding.class_name == "7-А"

            await in_group(bot, "/unbind", TEACHER)
            assert "відв'язано" in fake.last(GROUP).text
            assert group_binding(db) is None

            await in_group(bot, "/bind 7-А", TEACHER)
            assert len(fake.calls_to("sendMessage", GROUP)) == 6
            assert group_binding(db) is not None
            # Removed from the group: the binding goes, nothing is sent there.
            fake.push_my_chat_member(GROUP, "supergroup", "member", "kicked", by_user=TEACHER)
            await bot.settle()
            assert group_binding(db) is None
            assert len(fake.calls_to("sendMessage", GROUP)) == 6

    asyncio.run(scenario())


def test_a_bound_group_gets_the_invitation_with_a_deep_link_button(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            await join(bot, TEACHER, data.teacher_code)
            await in_group(bot, "/bind 7-А", TEACHER, chat_type="group")
            assert group_binding(db) is not None

            base = telegram_chat_link(bot.adapter.username)
            with db.write() as session:
                wave = waves.get_wave(session, data.wave_id)
                assert wave is not None
                assert queue_group_invitations(session, wave, base, datetime.now(UTC)) == 1
                # Idempotent: the scheduler may run twice.
                assert queue_group_invitations(session, wave, base, datetime.now(UTC)) == 0
            await bot.settle()  # the sender is woken, as the scheduler would
            invitation = fake.last(GROUP)
            assert "Нове опитування" in invitation.text
            assert "«Анкета для батьків»" in invitation.text
            button = invitation.button("Почати опитування")
            assert button == {
                "text": "Почати опитування",
                "url": f"https://t.me/classpulse_test_bot?start=w{data.wave_id}",
            }
            assert "callback_data" not in button  # nothing is answered in the group

    asyncio.run(scenario())
