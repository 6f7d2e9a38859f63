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


# ---------------------------------------------------------------- errors
def _leaf_commands() -> set[str]:
    import click

    found: set[str] = set()

    ctx = click.Context(main)

    def walk(group: click.Group, prefix: list[str]) -> None:
        # list_commands/get_command: the top-level group loads its command modules lazily.
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            else:
                found.add(" ".join([*prefix, name]))

    walk(main, [])
    return found


def _every_command(tmp_path: object) -> dict[str, list[str]]:
    """One ordinary invocation of every command (demo and run without tokens run the demo on
    their own SQLite file: they have no broken environment to meet)."""
    return {
        "criteria publish": ["--class", "7-А", "--subject", "Математика", "--text", "Контрольні"],
        "criteria import": [str(tmp_path)],
        "criteria coverage": [],
        "criteria list": [],
        "report": ["--all"],
        "import-forms": [__file__, "--survey", "assessment-parents"],
        "db upgrade": [],
        "class add": ["7-А"],
        "class list": [],
        "invite create": ["--role", "director"],
        "survey check": ["missing.yaml"],
        "survey list": [],
        "survey open": ["assessment-parents", "--class", "7-А"],
        "survey close": ["assessment-parents"],
        "survey rates": [],
        "survey nudge": ["assessment-parents", "--class", "7-А"],
        "staff list": [],
        "staff log": [],
        "staff assign": ["1", "--class", "7-А"],
        "staff remove": ["1", "--role", "teacher"],
        "chat": ["--as", "director"],
        "schedule list": [],
        "schedule run-now": ["housekeeping"],
        "telegram whoami": [],
        "telegram set-commands": [],
        "telegram outbox": [],
        "viber set-webhook": ["--url", "https://example.org/viber"],
        "viber info": [],
        "viber usage": [],
    }


def test_every_command_meets_an_unreachable_database_with_one_line(
    settings: Settings, now: datetime, tmp_path: object
) -> None:
    commands = _every_command(tmp_path)
    assert set(commands) | {"demo", "run"} == _leaf_commands()  # a new command is tried too
    broken = settings.model_copy(
        update={"database_url": "postgresql://classpulse:pw@127.0.0.1:1/school"}
    )
    app = AppContext(settings=broken, clock=lambda: now)
    for name, args in commands.items():
        result = CliRunner().invoke(main, [*name.split(), *args], obj=app, input="")
        assert result.exit_code != 0, (name, result.output)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), (name, result.exception)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.stderr)
        assert "Traceback" not in result.output and "pw@" not in result.output
    result = CliRunner().invoke(main, ["class", "list"], obj=app)
    assert result.stderr.startswith("error: cannot use the database in DATABASE_URL: ")


def test_commands_before_db_upgrade_migrate_or_say_so(
    settings: Settings, now: datetime, tmp_path: object
) -> None:
    from pathlib import Path

    fresh = settings.model_copy(
        update={"database_url": f"sqlite:///{Path(str(tmp_path)) / 'never-migrated.db'}"}
    )
    for name, args in _every_command(tmp_path).items():
        app = AppContext(settings=fresh, clock=lambda: now)
        result = CliRunner().invoke(main, [*name.split(), *args], obj=app, input="")
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), (name, result.exception)
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        app.db.dispose()
    # A command that does not migrate by itself says what to do.
    (Path(str(tmp_path)) / "never-migrated.db").unlink()
    app = AppContext(settings=fresh, clock=lambda: now)
    result = CliRunner().invoke(main, ["telegram", "outbox"], obj=app)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the database has no tables yet (or an old schema): run `classpulse db upgrade`"
    )


def test_class_list_on_an_empty_database_says_how_to_add_one(
    cli: tuple[CliRunner, AppContext],
) -> None:
    code, out, _ = _run(cli, "class", "list")
    assert code == 0
    assert out.strip() == "no classes yet: add them with `classpulse class add 7-А 7-Б`"


def test_a_broken_questionnaire_file_is_one_line_in_survey_list(
    cli: tuple[CliRunner, AppContext], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "surveys"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    monkeypatch.setattr("bot.surveys.admin.bundled_surveys_dir", lambda: folder)
    for args in (["survey", "list"], ["survey", "open", "x", "--class", "7-А"]):
        code, _, err = _run(cli, *args)
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert err.startswith("error: ") and "broken.yaml" in err
        assert "`classpulse survey check" in err


def test_log_level_lists_the_valid_values(tmp_path: object) -> None:
    # In process: a setting is read by the same code (test_cli_core runs a real process once).
    result = CliRunner().invoke(main, ["class", "list"], env={"LOG_LEVEL": "LOUD"})
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: Invalid setting LOG_LEVEL: expected one of 'DEBUG', 'INFO', 'WARNING' or "
        "'ERROR', got 'LOUD'"
    )


def test_survey_check_accepts_directories_and_globs(tmp_path: object) -> None:
    from pathlib import Path

    from storage.survey_schema import bundled_surveys_dir

    runner = CliRunner()
    shipped = bundled_surveys_dir()
    result = runner.invoke(main, ["survey", "check", str(shipped)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(list(shipped.glob("*.yaml"))) == 3
    result = runner.invoke(main, ["survey", "check", str(shipped / "assessment-p*.yaml")])
    assert result.exit_code == 0 and result.output.count(": ok (") == 1
    empty = Path(str(tmp_path)) / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["survey", "check", str(empty), "nope/*.yaml", "gone.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {empty}: no .yaml files in this directory",
        "error: nope/*.yaml: no file matches",
        "error: gone.yaml: no such file or directory",
    ]


def test_every_command_and_option_has_a_help_text() -> None:
    import click

    missing = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            path = " ".join([*prefix, name])
            summary = command.get_short_help_str(limit=45)
            if not summary or summary.rstrip(".").endswith(("e.g", "i.e")):
                missing.append(f"{path}: summary {summary!r}")
            for param in command.params:
                if isinstance(param, click.Option) and not param.help:
                    missing.append(f"{path} {param.opts[0]}")
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(main, [])
    assert missing == []


def test_run_and_set_webhook_agree_on_webhook_urls(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import SettingsError, load_settings

    for name in ("VIBER_WEBHOOK_URL", "TELEGRAM_WEBHOOK_URL"):
        with pytest.raises(SettingsError, match=f"{name}: expected a public https:// URL"):
            load_settings(_env_file=None, **{name.lower(): "http://bot.school.example/hook"})
    # In process, as `classpulse` reads its settings (tests/test_cli_core.py runs a real one);
    # no .env of the repository, no demo written into it if `run` went on.
    monkeypatch.chdir(str(tmp_path))
    env = {"VIBER_WEBHOOK_URL": "http://bot.school.example/viber/webhook"}
    for args in (["run"], ["viber", "set-webhook"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1 and "VIBER_WEBHOOK_URL" in result.stderr


def test_criteria_publish_sends_to_the_classes_that_have_recipients(
    db: Database, settings: Settings, now: datetime
) -> None:
    from storage.models import Notice, OutboxMessage
    from tests.criteria_fixtures import build, populate

    cs = build(db, settings, now)
    populate(cs)  # 7-А and 7-Б have families; nobody has joined in 8-В
    app = AppContext(settings=settings, clock=cs.clock)
    args = ["criteria", "publish", "--class", "7-А", "--class", "8-В", "--subject", "Фізика"]
    result = CliRunner().invoke(main, [*args, "--text", "Критерії", "--require-all"], obj=app)
    assert result.exit_code == 1 and "8-В" in result.stderr
    with db.read() as session:
        assert session.scalars(select(Notice)).all() == []
    result = CliRunner().invoke(main, [*args, "--text", "Критерії"], obj=app)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("not sent to 8-В: nobody of the audience (")
    assert lines[1].startswith("published #") and "7-А · Фізика" in lines[1]
    with db.read() as session:
        notices = session.scalars(select(Notice)).all()
        assert [n.class_id for n in notices] == [cs.class_ids["7-А"]]
        assert session.scalars(select(OutboxMessage)).all() != []


def test_no_text_file_defines_a_key_twice() -> None:
    """YAML keeps the last of two equal keys without a word: a quiet edit of the wrong text."""
    from pathlib import Path

    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: Strict, node: yaml.MappingNode) -> dict[object, object]:
        keys = [loader.construct_object(k) for k, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        assert twice == [], f"line {node.start_mark.line + 1}: {twice}"
        return dict(loader.construct_pairs(node))

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    root = Path(__file__).resolve().parent.parent
    for path in [*(root / "bot" / "texts").glob("*.yaml"), *(root / "surveys").glob("*.yaml")]:
        yaml.load(path.read_text(encoding="utf-8"), Loader=Strict)


@pytest.mark.parametrize(
    ("expr", "lang", "words"),
    [
        ("0 8 * * mon", "uk", "щопонеділка о 08:00"),
        ("0 8 * * 1", "en", "every Monday at 08:00"),
        ("30 7 * * 1,3", "uk", "щопонеділка, щосереди о 07:30"),
        ("15 3 * * *", "uk", "щодня о 03:15"),
        ("5 * * * *", "en", "every hour at :05"),
        ("* * * * *", "uk", "щохвилини"),
        ("0 9 1 * *", "en", "cron '0 9 1 * *'"),
    ],
)
def test_schedules_are_told_in_words(expr: str, lang: str, words: str) -> None:
    from bot.schedule.cron import describe_cron

    assert describe_cron(expr, lang) == words


def test_schedule_list_prints_the_jobs_only(settings: Settings, now: datetime) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "schedule", "list"],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "apscheduler" not in result.stdout
    assert "cron[" not in result.stdout and "щопонеділка о 08:00" in result.stdout


def test_chat_as_a_role_refuses_unknown_classes_and_asks_for_consent(
    cli: tuple[CliRunner, AppContext], db: Database
) -> None:
    from storage.models import Person, SchoolClass

    code, _, err = _run(cli, "chat", "--as", "parent", "--class", "11-Я")
    assert code == 1 and "no class '11-Я'" in err
    with db.read() as session:
        assert session.scalars(select(SchoolClass.name)).all() == []
    _run(cli, "class", "add", "7-А")
    runner, app = cli
    result = runner.invoke(main, ["chat", "--as", "parent", "--class", "7-А"], obj=app, input="")
    assert result.exit_code == 0, result.output
    assert "Погоджуєтесь" in result.stdout  # the consent question, as in the messengers
    with db.read() as session:  # nothing answered it: nobody has consented
        assert [p.consent_at for p in session.scalars(select(Person))] in ([], [None])
