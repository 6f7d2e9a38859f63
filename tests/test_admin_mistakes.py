"""Issue 15: an admin's ordinary mistakes are refused or explained, never quietly done wrong."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.context import AppContext
from bot.settings import Settings
from bot.surveys.admin import sync_surveys
from storage.db import Database
from storage.models import Wave
from storage.repositories import school, surveys, waves


@pytest.fixture
def cli(settings: Settings, now: datetime) -> tuple[CliRunner, AppContext]:
    return CliRunner(), AppContext(settings=settings, clock=lambda: now)


def _run(cli: tuple[CliRunner, AppContext], *args: str) -> tuple[int, str, str]:
    runner, app = cli
    result = runner.invoke(main, list(args), obj=app)
    return result.exit_code, result.stdout, result.stderr


def _waves(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(w.label, w.status) for w in session.scalars(select(Wave).order_by(Wave.id))]


# ---------------------------------------------------------------- waves
def test_opening_a_survey_twice_changes_nothing(
    cli: tuple[CliRunner, AppContext], db: Database
) -> None:
    _run(cli, "class", "add", "7-А", "7-Б")
    code, out, _ = _run(cli, "survey", "open", "assessment-parents", "--class", "7-А")
    assert code == 0 and "wave 2026-03 of assessment-parents is open" in out
    code, out, err = _run(cli, "survey", "open", "assessment-parents", "--class", "7-А")
    assert code == 1
    assert err.strip() == (
        "error: survey 'assessment-parents' already has open wave 2026-03 for 7-А: close it "
        "first (`classpulse survey close assessment-parents --wave 2026-03`) or pass --new-wave "
        "to run another one"
    )
    # Overlapping classes are refused too; a scheduled wave counts as current.
    code, _, err = _run(
        cli, "survey", "open", "assessment-parents", "--class", "7-Б", "--class", "7-а"
    )
    assert code == 1 and "for 7-А:" in err
    assert _waves(db) == [("2026-03", "open")]
    # Other classes, or an explicit --new-wave, may start another wave.
    code, out, _ = _run(
        cli, "survey", "open", "assessment-parents", "--class", "7-Б", "--opens", "2026-04-01"
    )
    assert code == 0 and "opens 2026-04-01 08:00 EEST" in out
    code, _, err = _run(cli, "survey", "open", "assessment-parents", "--class", "7-Б")
    assert code == 1 and "already has scheduled wave 2026-04 for 7-Б" in err
    code, out, _ = _run(cli, "survey", "open", "assessment-parents", "--class", "7-А", "--new-wave")
    assert code == 0 and "wave 2026-03-2 of assessment-parents is open" in out
    assert _waves(db) == [("2026-03", "open"), ("2026-04", "scheduled"), ("2026-03-2", "open")]


def _imported_history(db: Database, now: datetime) -> None:
    with db.write() as session:
        sync_surveys(session)
        survey = surveys.latest_survey(session, "assessment-parents")
        assert survey is not None
        class_id = school.class_by_name(session, "7-А")
        assert class_id is not None
        waves.create_wave(
            session, survey.id, "2024-2025", [class_id.id], status="closed", source="import"
        )


def test_close_takes_the_open_wave_not_the_newest_import(
    cli: tuple[CliRunner, AppContext], db: Database, now: datetime
) -> None:
    _run(cli, "class", "add", "7-А", "7-Б")
    _run(cli, "survey", "open", "assessment-parents", "--class", "7-А", "--closes", "2026-03-20")
    _imported_history(db, now)  # created after the wave: the newest row
    code, out, _ = _run(cli, "survey", "list")
    assert "    wave 2026-03: open, closes 2026-03-20 23:59 EET" in out
    assert "    wave 2024-2025: imported (history)" in out
    code, out, _ = _run(cli, "survey", "close", "assessment-parents")
    assert code == 0 and "wave 2026-03 of assessment-parents closed" in out
    assert _waves(db) == [("2026-03", "closed"), ("2024-2025", "closed")]
    code, out, _ = _run(cli, "survey", "close", "assessment-parents")
    assert code == 0 and out.strip() == "wave 2026-03 of assessment-parents was already closed"
    code, _, err = _run(cli, "survey", "close", "assessment-parents", "--wave", "2024-2025")
    assert code == 1 and "imported history" in err


def test_close_with_several_open_waves_asks_which(
    cli: tuple[CliRunner, AppContext], db: Database
) -> None:
    _run(cli, "class", "add", "7-А", "7-Б")
    _run(cli, "survey", "open", "assessment-parents", "--class", "7-А")
    _run(cli, "survey", "open", "assessment-parents", "--class", "7-Б")
    code, _, err = _run(cli, "survey", "close", "assessment-parents")
    assert code == 1
    assert err.strip() == (
        "error: survey 'assessment-parents' has 2 open waves (2026-03, 2026-03-2): "
        "say which with --wave LABEL"
    )
    assert _waves(db) == [("2026-03", "open"), ("2026-03-2", "open")]
    code, out, _ = _run(cli, "survey", "close", "assessment-parents", "--wave", "2026-03-2")
    assert code == 0 and "wave 2026-03-2 of assessment-parents closed" in out
    assert _waves(db) == [("2026-03", "open"), ("2026-03-2", "closed")]
    code, _, err = _run(cli, "survey", "close", "assessment-parents", "--wave", "2025-01")
    assert code == 1 and "no wave '2025-01' (waves: 2026-03, 2026-03-2)" in err


# ---------------------------------------------------------------- the bot's identity
@pytest.fixture
def nameless(settings: Settings, now: datetime) -> tuple[CliRunner, AppContext]:
    """A school whose .env names neither the bot's Telegram username nor its Viber URI."""
    bare = settings.model_copy(update={"telegram_bot_username": "", "viber_bot_uri": ""})
    return CliRunner(), AppContext(settings=bare, clock=lambda: now)


def test_invite_without_a_known_bot_writes_no_broken_qr_code(
    nameless: tuple[CliRunner, AppContext], settings: Settings
) -> None:
    _run(nameless, "class", "add", "7-А")
    code, out, _ = _run(nameless, "invite", "create", "--class", "7-А", "--role", "parent")
    assert code == 0
    assert "t.me" not in out and "<bot_username>" not in out and "viber://" not in out
    assert "QR code:  not written: no link works yet" in out
    assert "note: no Telegram link: the bot's username is unknown" in out
    assert not (settings.data_dir / "qr").exists() or not list((settings.data_dir / "qr").iterdir())


def test_the_running_bot_stores_its_username_and_every_command_uses_it(
    nameless: tuple[CliRunner, AppContext], db: Database, now: datetime
) -> None:
    import asyncio

    from bot.app import telegram_component
    from bot.runtime import serve
    from storage.models import OutboxMessage
    from storage.repositories import groups
    from tests.fake_telegram import FakeTelegram
    from tests.fake_telegram_server import FakeTelegramServer
    from tests.telegram_harness import telegram_settings

    app = nameless[1]
    _run(nameless, "class", "add", "7-А")
    with db.write() as session:
        klass = school.class_by_name(session, "7-А")
        assert klass is not None
        groups.bind(session, "telegram", "-100777", klass.id, None, now)
    # Opened from the CLI before the bot ever ran: the group cannot be invited yet, and says so.
    code, out, _ = _run(nameless, "survey", "open", "assessment-parents", "--class", "7-А")
    assert code == 0
    assert "note: 1 class group not invited yet: the bot's Telegram username is unknown" in out
    with db.read() as session:
        assert session.scalars(select(OutboxMessage.recipient)).all() == []

    fake = FakeTelegram(username="school_pulse_bot")
    with FakeTelegramServer(fake) as server:
        running = AppContext(settings=telegram_settings(app.settings, fake, server.base_url))

        async def start_and_stop() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(serve(running, [telegram_component], stop))
            await fake.until(lambda: bool(fake.calls_to("setMyCommands")), timeout=10)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(start_and_stop())
        running.db.dispose()
    assert running.settings.telegram_bot_username == ""  # Settings are not rewritten
    # The group of the wave opened while the bot was unknown is invited now.
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert [(r.recipient, r.kind) for r in rows] == [("-100777", "invitation")]
        button = rows[0].payload["reply"]["buttons"][0][0]
        assert button["url"].startswith("https://t.me/school_pulse_bot?start=w")
    # Every command now builds working links from what the bot reported.
    code, out, _ = _run(nameless, "invite", "create", "--class", "7-А", "--role", "parent")
    assert code == 0 and "telegram: https://t.me/school_pulse_bot?start=" in out
    assert "QR code:  " in out and "not written" not in out
