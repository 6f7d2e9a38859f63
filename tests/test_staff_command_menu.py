"""Staff find their commands in Telegram's "/" menu: each role its own, from the permission
table, published by `telegram set-commands` and kept up to date by the running bot."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from bot.channels.capabilities import CommandMenu
from bot.channels.telegram.client import publish_chat_menus
from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from bot.staff.command_menu import staff_menus
from storage.db import Database
from storage.repositories import staff
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.school import SchoolBuilder
from tests.telegram_harness import telegram_settings, transport_bot

DIRECTOR, CLASS_TEACHER, TEACHER, PARENT = 501, 502, 503, 504
FAMILY = ["menu", "criteria", "language", "help", "forget", "cancel"]
EVERY_STAFF_COMMAND = ["criteria_new", "coverage", "report", "rates", "survey", "invite", "staff"]


def staffed_school(db: Database, settings: Settings) -> SchoolBuilder:
    school = SchoolBuilder.create(db, settings)
    school.person("Директорка", "director", None, ("telegram", str(DIRECTOR)))
    school.person("Класна 7-А", "class_teacher", "7-А", ("telegram", str(CLASS_TEACHER)))
    school.person("Вчитель", "teacher", "8-Б", ("telegram", str(TEACHER)))
    school.person("Мама", "parent", "7-А", ("telegram", str(PARENT)))
    school.person("Адмін у Viber", "admin", None, ("viber", "vb-admin"))
    return school


def test_each_role_is_offered_what_it_may_do(db: Database, settings: Settings) -> None:
    staffed_school(db, settings)
    with db.read() as session:
        menus = {m.account: m.commands for m in staff_menus(session, "telegram")}
    assert menus == {
        str(DIRECTOR): tuple(EVERY_STAFF_COMMAND),
        # Not /survey or /staff: the permission table gives them to the administration only.
        str(CLASS_TEACHER): ("criteria_new", "coverage", "report", "rates", "invite"),
        str(TEACHER): ("criteria_new",),
    }  # no family and no account in another messenger


def test_set_commands_gives_each_staff_chat_its_menu(db: Database, settings: Settings) -> None:
    staffed_school(db, settings)
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        app = AppContext(settings=telegram_settings(settings, fake, server.base_url))
        done = CliRunner().invoke(main, ["telegram", "set-commands"], obj=app)
    assert done.exit_code == 0, done.output
    assert "3 staff chats with their own" in done.output
    assert fake.menu_for(DIRECTOR) == FAMILY[:1] + EVERY_STAFF_COMMAND + FAMILY[1:]
    assert "rates" in fake.menu_for(CLASS_TEACHER) and "staff" not in fake.menu_for(CLASS_TEACHER)
    assert fake.menu_for(PARENT) == FAMILY
    assert fake.menu_for(PARENT, "en") == FAMILY  # English speakers get the same commands


def test_the_running_bot_follows_role_changes(db: Database, settings: Settings) -> None:
    school = staffed_school(db, settings)
    fake = FakeTelegram()

    def menus() -> list[CommandMenu]:
        with db.read() as session:
            return staff_menus(session, "telegram")

    async def scenario() -> None:
        published: dict[str, CommandMenu] = {}
        async with transport_bot(fake) as bot:
            assert await publish_chat_menus(bot, menus(), published) == 3
            # Nothing changed: no call at all in the next round.
            calls = len(fake.calls)
            assert await publish_chat_menus(bot, menus(), published) == 0
            assert len(fake.calls) == calls
            # The director makes the teacher a class teacher, then takes it back.
            teacher = school.person("Нова класна", "class_teacher", "8-Б", ("telegram", "505"))
            assert await publish_chat_menus(bot, menus(), published) == 1
            assert "rates" in fake.menu_for(505)
            with db.write() as session:
                assert staff.remove_membership(
                    session, teacher, school.class_id("8-Б"), "class_teacher"
                )
            assert await publish_chat_menus(bot, menus(), published) == 1
            assert fake.menu_for(505) == []  # back to everyone's (none set in this test)
            # A chat Telegram refuses is not asked again every round.
            fake.fail(400, "Bad Request: chat not found", method="setMyCommands", chat_id=None)
            school.person("Ще одна", "teacher", "7-А", ("telegram", "506"))
            assert await publish_chat_menus(bot, menus(), published) == 1
            assert await publish_chat_menus(bot, menus(), published) == 0

    asyncio.run(scenario())
