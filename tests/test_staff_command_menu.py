"""Staff find their commands in Telegram's "/" menu: each role its own, from the permission
table, published by `telegram set-commands` and kept up to date by the running bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from click.testing import CliRunner
from telegram import Bot

from bot.channels.capabilities import CommandMenu
from bot.channels.telegram.client import publish_chat_menus
from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from bot.staff.command_menu import StaffMenuSync, published_menus, staff_menus
from storage.db import Database
from storage.repositories import people, staff
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.school import SchoolBuilder
from tests.telegram_harness import telegram_settings, transport_bot

DIRECTOR, CLASS_TEACHER, TEACHER, PARENT = 501, 502, 503, 504
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
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


def _no_longer_staff(db: Database, school: SchoolBuilder) -> None:
    """The teacher leaves the staff (in /staff or the CLI, while the bot is stopped)."""
    with db.write() as session:
        teacher = people.person_for_identity(session, "telegram", str(TEACHER))
        assert teacher is not None
        assert staff.remove_membership(session, teacher.id, school.class_id("8-Б"), "teacher")


def test_a_restart_takes_the_staff_menu_back_from_who_stopped_being_staff_meanwhile(
    db: Database, settings: Settings
) -> None:
    school = staffed_school(db, settings)
    fake = FakeTelegram()

    async def one_run(bot: Bot) -> tuple[int, int]:
        """A running bot's first round: a fresh process, nothing in memory."""
        sync = StaffMenuSync(
            db,
            "telegram",
            lambda menus, published: publish_chat_menus(bot, menus, published),
            lambda: NOW,
        )
        return await sync.run_once()

    async def scenario() -> None:
        async with transport_bot(fake) as bot:
            assert await one_run(bot) == (3, 0)
            assert "criteria_new" in fake.menu_for(TEACHER)
            # The bot is stopped; the teacher leaves the staff (the CLI, another process).
            _no_longer_staff(db, school)
            calls = len(fake.calls)
            assert await one_run(bot) == (0, 1)  # nothing re-sent to the other two
            assert fake.menu_for(TEACHER) == []  # everyone's menu (none set in this test)
            assert len(fake.calls) == calls + 1
            assert await one_run(bot) == (0, 0)

    asyncio.run(scenario())


def test_set_commands_again_takes_back_a_menu_it_gave_before(
    db: Database, settings: Settings
) -> None:
    school = staffed_school(db, settings)
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        app = AppContext(settings=telegram_settings(settings, fake, server.base_url))
        first = CliRunner().invoke(main, ["telegram", "set-commands"], obj=app)
        _no_longer_staff(db, school)
        again = CliRunner().invoke(main, ["telegram", "set-commands"], obj=app)
    assert first.exit_code == again.exit_code == 0, again.output
    assert again.output.strip().endswith(
        "2 staff chats with their own; 1 no longer staff given everyone's back"
    )
    assert fake.menu_for(TEACHER) == FAMILY
    assert fake.menu_for(DIRECTOR) == FAMILY[:1] + EVERY_STAFF_COMMAND + FAMILY[1:]


def test_forget_erases_the_record_of_a_staff_chats_menu(db: Database, settings: Settings) -> None:
    staffed_school(db, settings)
    fake = FakeTelegram()

    def stored_accounts() -> set[str]:
        with db.read() as session:
            return set(published_menus(session, "telegram"))

    async def scenario() -> None:
        async with transport_bot(fake) as bot:
            sync = StaffMenuSync(
                db,
                "telegram",
                lambda menus, published: publish_chat_menus(bot, menus, published),
                lambda: NOW,
            )
            assert await sync.run_once() == (3, 0)
            assert str(TEACHER) in stored_accounts()
            with db.write() as session:  # the teacher uses /forget
                teacher = people.person_for_identity(session, "telegram", str(TEACHER))
                assert teacher is not None
                people.forget(session, teacher.id)
            assert stored_accounts() == {str(DIRECTOR), str(CLASS_TEACHER)}
            # The running bot still takes the menu back, and stores nothing about the chat.
            assert await sync.run_once() == (0, 1)
            assert fake.menu_for(TEACHER) == []
            assert stored_accounts() == {str(DIRECTOR), str(CLASS_TEACHER)}

    asyncio.run(scenario())
