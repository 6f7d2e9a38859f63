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
from tests.telegram_harness import eventually, running_bot, seed_school

TEACHER, PARENT, STRANGER = 2001, 1001, 3001
GROUP = -1001234567890


async def join(fake: FakeTelegram, chat: int, code: str) -> None:
    fake.push_text(chat, f"/start {code}")
    await eventually(lambda: "Погоджуєтесь" in fake.last(chat).text)
    fake.press(chat, "Погоджуюсь")
    await eventually(lambda: "🗑 Видалити мої дані" in fake.last(chat).labels())  # the menu


def group_binding(db: Database) -> groups.Binding | None:
    with db.read() as session:
        return groups.binding(session, "telegram", str(GROUP))


def test_bind_is_refused_to_others_and_allowed_to_the_class_teacher(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db):
                await join(fake, TEACHER, data.teacher_code)
                await join(fake, PARENT, data.parent_code)
                fake.push_my_chat_member(GROUP, "supergroup", "left", "member", by_user=TEACHER)
                await eventually(lambda: "/bind 7-А" in fake.last(GROUP).text)

                fake.push_text(GROUP, "/bind 7-А", user_id=STRANGER, chat_type="supergroup")
                await eventually(lambda: "зареєстрований" in fake.last(GROUP).text)
                fake.push_text(GROUP, "/bind 7-А", user_id=PARENT, chat_type="supergroup")
                await eventually(lambda: "може лише вчитель" in fake.last(GROUP).text)
                assert group_binding(db) is None

                # Other text in the group is ignored; so is a command for another bot.
                fake.push_text(GROUP, "Добрий день!", user_id=PARENT, chat_type="supergroup")
                fake.push_text(
                    GROUP, "/bind@other_bot 7-А", user_id=TEACHER, chat_type="supergroup"
                )
                fake.push_text(
                    GROUP, "/bind@classpulse_test_bot 7а", user_id=TEACHER, chat_type="supergroup"
                )
                await eventually(lambda: "прив'язано до класу 7-А" in fake.last(GROUP).text)
                assert len(fake.calls_to("sendMessage", GROUP)) == 4
                binding = group_binding(db)
                assert binding is not None and binding.class_name == "7-А"

                fake.push_text(GROUP, "/unbind", user_id=TEACHER, chat_type="supergroup")
                await eventually(lambda: "відв'язано" in fake.last(GROUP).text)
                assert group_binding(db) is None

                fake.push_text(GROUP, "/bind 7-А", user_id=TEACHER, chat_type="supergroup")
                await eventually(lambda: len(fake.calls_to("sendMessage", GROUP)) == 6)
                assert group_binding(db) is not None
                # Removed from the group: the binding goes, nothing is sent there.
                fake.push_my_chat_member(GROUP, "supergroup", "member", "kicked", by_user=TEACHER)
                await eventually(lambda: group_binding(db) is None)
                await asyncio.sleep(0.2)
                assert len(fake.calls_to("sendMessage", GROUP)) == 6

    asyncio.run(scenario())


def test_a_bound_group_gets_the_invitation_with_a_deep_link_button(
    db: Database, settings: Settings
) -> None:
    data = seed_school(db, settings)

    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with running_bot(fake, settings, db) as bot:
                await join(fake, TEACHER, data.teacher_code)
                fake.push_text(GROUP, "/bind 7-А", user_id=TEACHER, chat_type="group")
                await eventually(lambda: group_binding(db) is not None)

                base = telegram_chat_link(bot.adapter.username)
                with db.write() as session:
                    wave = waves.get_wave(session, data.wave_id)
                    assert wave is not None
                    assert queue_group_invitations(session, wave, base, datetime.now(UTC)) == 1
                    # Idempotent: the scheduler may run twice.
                    assert queue_group_invitations(session, wave, base, datetime.now(UTC)) == 0
                bot.sender.wake()
                await eventually(lambda: "Нове опитування" in fake.last(GROUP).text)
                invitation = fake.last(GROUP)
                assert "«Анкета для батьків»" in invitation.text
                button = invitation.button("Почати опитування")
                assert button == {
                    "text": "Почати опитування",
                    "url": f"https://t.me/classpulse_test_bot?start=w{data.wave_id}",
                }
                assert "callback_data" not in button  # nothing is answered in the group

    asyncio.run(scenario())
