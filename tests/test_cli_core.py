"""The CLI as a user runs it: a real process for a settings error, CliRunner for the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from bot.cli import main
from bot.context import AppContext
from bot.settings import Settings
from storage.db import Database
from storage.models import Invite, OutboxMessage, Wave

CLASSPULSE = [sys.executable, "-m", "bot.cli"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TIMEZONE", "Mars/Base", "TIMEZONE: expected an IANA time zone such as Europe/Kyiv"),
        ("MIN_GROUP_SIZE", "many", "MIN_GROUP_SIZE: expected a valid integer"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected a sqlite:/// or postgresql:// URL"),
        ("QUIET_HOURS", "late", "QUIET_HOURS: expected HH:MM-HH:MM"),
        ("BOT_LANGUAGE", "fr", "BOT_LANGUAGE: expected"),
    ],
)
def test_a_wrong_setting_fails_with_one_clear_line(
    variable: str, value: str, expected: str, tmp_path: Path
) -> None:
    # In process: the settings are read from the environment by the same code as in a real
    # process (test_dotenv_is_read and test_a_wrong_setting_in_a_real_process run one).
    result = CliRunner().invoke(main, ["class", "list"], env={variable: value})
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: Invalid setting {expected}")
    assert "Traceback" not in result.stderr


def test_a_wrong_setting_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "MIN_GROUP_SIZE": "many"}
    result = subprocess.run(
        [*CLASSPULSE, "class", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: Invalid setting MIN_GROUP_SIZE: expected a valid")


def test_dotenv_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In process, from the working directory as `classpulse` is started in (the settings are
    # read by the same code as in test_a_wrong_setting_in_a_real_process).
    (tmp_path / ".env").write_text("TIMEZONE=Nowhere/Land\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIMEZONE", raising=False)
    result = CliRunner().invoke(main, ["class", "list"])
    assert result.exit_code == 2 and "TIMEZONE: expected an IANA time zone" in result.stderr


@pytest.fixture
def cli(settings: Settings, now: datetime) -> tuple[CliRunner, AppContext]:
    return CliRunner(), AppContext(settings=settings, clock=lambda: now)


def test_class_add_and_invite_create_json(cli: tuple[CliRunner, AppContext], db: Database) -> None:
    runner, app = cli
    result = runner.invoke(main, ["class", "add", "7-а", "8-Б"], obj=app)
    assert result.exit_code == 0 and "classes: 7-А, 8-Б" in result.output
    result = runner.invoke(
        main,
        ["invite", "create", "--class", "7-А", "--role", "parent", "--uses", "30", "--json"],
        obj=app,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"code", "telegram_link", "viber_link", "qr_path", "notes"}
    assert data["telegram_link"] == f"https://t.me/classpulse_test_bot?start={data['code']}"
    assert data["viber_link"] == f"viber://pa?chatURI=classpulse-test&context={data['code']}"
    assert data["code"].isalnum() and len(data["code"]) == 12
    with Image.open(data["qr_path"]) as image:
        assert image.size[0] > 100
    with db.read() as session:
        invite = session.scalars(select(Invite)).one()
        assert (invite.code, invite.role, invite.max_uses) == (data["code"], "parent", 30)


def test_invite_for_unknown_class_is_refused(cli: tuple[CliRunner, AppContext]) -> None:
    runner, app = cli
    result = runner.invoke(
        main, ["invite", "create", "--class", "9-Я", "--role", "parent"], obj=app
    )
    assert result.exit_code == 1
    assert "no class '9-Я'" in result.output


def test_codes_are_unguessable(cli: tuple[CliRunner, AppContext]) -> None:
    runner, app = cli
    runner.invoke(main, ["class", "add", "7-А"], obj=app)
    codes = {
        json.loads(
            runner.invoke(
                main, ["invite", "create", "--class", "7-А", "--role", "student", "--json"], obj=app
            ).output
        )["code"]
        for _ in range(20)
    }
    assert len(codes) == 20


def test_survey_open_list_close(cli: tuple[CliRunner, AppContext], db: Database) -> None:
    runner, app = cli
    runner.invoke(main, ["class", "add", "7-А"], obj=app)
    result = runner.invoke(
        main,
        ["survey", "open", "assessment-parents", "--class", "7-А", "--closes", "2026-03-20"],
        obj=app,
    )
    assert result.exit_code == 0, result.output
    assert "wave 2026-03 of assessment-parents is open; 0 invitations queued" in result.output
    result = runner.invoke(main, ["survey", "list"], obj=app)
    assert "assessment-parents  v1  7 questions  «Анкета для батьків»" in result.output
    assert "wave 2026-03: open, closes 2026-03-20" in result.output
    result = runner.invoke(main, ["survey", "close", "assessment-parents"], obj=app)
    assert "wave 2026-03 of assessment-parents closed; final report queued (0 messages" in (
        result.output
    )
    result = runner.invoke(main, ["survey", "close", "assessment-parents"], obj=app)
    assert "was already closed" in result.output
    result = runner.invoke(main, ["survey", "open", "nope", "--class", "7-А"], obj=app)
    assert result.exit_code == 1 and "no survey with id 'nope'" in result.output
    with db.read() as session:
        assert session.scalars(select(Wave.status)).all() == ["closed"]


def test_opening_a_wave_queues_one_invitation_per_messenger_account(
    cli: tuple[CliRunner, AppContext], db: Database, now: datetime
) -> None:
    from storage.repositories import invites, people, school

    runner, app = cli
    with db.write() as session:
        klass = school.add_classes(session, "School", ["7-А"])[0]
        for i in range(3):
            person = people.register(session, "telegram", f"{i}", f"P{i}", "uk", now)
            people.add_membership(session, person, klass.id, "parent")
        invites.create_invite(session, klass.id, "parent", now)
    args = ["survey", "open", "assessment-parents", "--class", "7-А"]
    result = runner.invoke(main, args, obj=app)
    assert "3 invitations queued" in result.output
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert sorted(r.recipient for r in rows) == ["0", "1", "2"]
        assert all(r.kind == "invitation" and not r.urgent for r in rows)
        assert "Анкета для батьків" in rows[0].payload["reply"]["text"]


def test_scheduled_wave_is_not_opened_yet(cli: tuple[CliRunner, AppContext]) -> None:
    runner, app = cli
    runner.invoke(main, ["class", "add", "7-А"], obj=app)
    result = runner.invoke(
        main,
        ["survey", "open", "assessment-parents", "--class", "7-А", "--opens", "2026-04-01"],
        obj=app,
    )
    assert "opens 2026-04-01 08:00" in result.output
    result = runner.invoke(
        main,
        ["survey", "open", "assessment-parents", "--class", "7-А", "--closes", "soon"],
        obj=app,
    )
    assert result.exit_code == 1 and "'soon' is not a date" in result.output


def test_every_command_has_help_and_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    runner = CliRunner()

    def walk(group: object, prefix: list[str]) -> list[list[str]]:
        import click

        assert isinstance(group, click.Group)
        found = []
        for name, command in group.commands.items():
            path = [*prefix, name]
            found.append(path)
            if isinstance(command, click.Group):
                found += walk(command, path)
        return found

    for path in walk(main, []):
        result = runner.invoke(main, [*path, "--help"], obj=object())
        assert result.exit_code == 0, path
        assert f"classpulse {' '.join(path)}" in readme, f"README does not mention {path}"


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and line[0] != "#"
    }
    assert names == {name.upper() for name in Settings.model_fields}
