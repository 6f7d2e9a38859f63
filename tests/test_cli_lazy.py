"""The CLI loads what a command needs when it runs: `classpulse --help` stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "pandas", "matplotlib", "telegram", "viberbot", "pydantic", "docx")


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
