"""The CLI loads what a command needs when it runs: `classpulse --help` stays light, and
`classpulse report --format json` loads no dataframe, chart, document or messenger library."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import COMMANDS, EXTENSIONS
from storage.db import Database
from tests.analytics_fixtures import STUDENTS, seed_school

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "pandas", "matplotlib", "telegram", "viberbot", "pydantic", "docx")
# What a JSON report does not need: each of these cost a CLI report process its start-up time.
NOT_FOR_JSON = (
    "pandas",
    "numpy",
    "matplotlib",
    "docx",
    "openpyxl",
    "alembic",
    "telegram",
    "viberbot",
    "apscheduler",
    "starlette",
    "uvicorn",
)


def test_help_lists_every_command_without_loading_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "print(result.output)\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert "LOADED []" in out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_the_table_names_the_module_and_help_of_every_command() -> None:
    for module in {m for m, _ in COMMANDS.values()}:
        importlib.import_module(module)
    assert set(main.commands) == set(COMMANDS)
    for name, (module, text) in COMMANDS.items():
        command = main.commands[name]
        assert command.callback is not None
        assert command.callback.__module__ == module, name
        table = click.Command(name, help=text).get_short_help_str(200)
        assert command.get_short_help_str(200) == table, name


def test_a_command_runs_after_a_lazy_load() -> None:
    result = CliRunner().invoke(
        main, ["survey", "check", str(ROOT / "surveys" / "assessment-parents.yaml")]
    )
    assert result.exit_code == 0, result.output
    unknown = CliRunner().invoke(main, ["no-such-command"])
    assert unknown.exit_code == 2
    assert "No such command" in unknown.output


def test_a_group_gets_its_extensions_whichever_command_loaded_its_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`class` loads the module that also defines `survey`; `survey rates` (an extension, in
    another module) must still be found. As in a fresh process: nothing loaded yet."""
    monkeypatch.setattr(main, "commands", {})
    for module in ("bot.cli.commands_core", *EXTENSIONS["survey"]):
        monkeypatch.delitem(sys.modules, module, raising=False)
    ctx = click.Context(main)
    assert main.get_command(ctx, "class") is not None
    survey = main.get_command(ctx, "survey")
    assert isinstance(survey, click.Group)
    assert {"rates", "nudge"} <= set(survey.commands)


def test_a_json_report_loads_no_dataframe_chart_document_or_messenger_library(
    db: Database, tmp_path: Path
) -> None:
    """The whole `classpulse report --format json` process, on the seed school's database."""
    seed_school(db)
    code = (
        "import sys\n"
        "from bot.cli.app import main\n"
        "try:\n"
        "    main(sys.argv[1:], prog_name='classpulse')\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        f"loaded = sorted(m for m in {NOT_FOR_JSON!r} if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "",
        "VIBER_AUTH_TOKEN": "",
    }
    args = ["report", "--survey", STUDENTS, "--format", "json"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env of the developer's
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr
    report = json.loads(proc.stdout)
    assert [(s["id"], s["respondents"]) for s in report["surveys"]] == [(STUDENTS, 71)]
