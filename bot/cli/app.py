"""The `classpulse` command group and the context every subcommand gets.

Commands are loaded when they run: `COMMANDS` names the module that registers each one and
its one-line help, so `classpulse --help` imports no database, pandas or messenger library.
A new command goes into its module and into `COMMANDS` (tests/test_cli_lazy.py checks both).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bot.logging_setup import redact

if TYPE_CHECKING:
    from bot.context import AppContext

# command -> (the module that registers it on `main`, its one-line help for `--help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": (
        "bot.cli.commands_core",
        "Talk to the bot in the terminal (buttons are numbered; type the number).",
    ),
    "class": ("bot.cli.commands_core", "The school's classes."),
    "criteria": (
        "bot.cli.commands_criteria",
        "Assessment-criteria notices for students and parents.",
    ),
    "db": ("bot.cli.commands_core", "Database schema (Alembic migrations)."),
    "demo": (
        "bot.cli.commands_core",
        "A whole survey wave on your machine: simulated families answer through the engine.",
    ),
    "import-forms": (
        "bot.cli.commands_report",
        "Import a Google Forms responses export (CSV or XLSX) as a closed wave of SURVEY.",
    ),
    "invite": ("bot.cli.commands_core", "Invite codes, deep links and QR codes."),
    "report": (
        "bot.cli.commands_report",
        'Build the survey report (text for the director, JSON, XLSX, DOCX "Довідка", PNG charts).',
    ),
    "run": (
        "bot.cli.commands_core",
        "Migrate and start the bot; with no messenger tokens, run the demo instead.",
    ),
    "schedule": (
        "bot.cli.commands_schedule",
        "Scheduled jobs: weekly digest, survey open/close, reminders.",
    ),
    "staff": (
        "bot.cli.commands_staff",
        "The school's staff, their roles, and the audit log of changes.",
    ),
    "survey": ("bot.cli.commands_core", "Questionnaires and their waves."),
    "telegram": ("bot.cli.commands_telegram", "The Telegram bot account and the outbox."),
    "viber": ("bot.cli.commands_viber", "The Viber bot account: webhook and account info."),
}


# Modules that add subcommands to a group another module defines (`survey rates|nudge`).
EXTENSIONS: dict[str, tuple[str, ...]] = {"survey": ("bot.cli.commands_staff",)}


class LazyGroup(click.Group):
    """A group whose subcommands are imported the first time they are looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            if cmd_name not in self.commands:
                importlib.import_module(COMMANDS[cmd_name][0])
            # Even when the group is there already: another command of its module may have
            # loaded it (`class`, then `survey rates` in one process: the tests).
            for module in EXTENSIONS.get(cmd_name, ()):
                importlib.import_module(module)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:  # not loaded: the table's help, shortened as click does
                command = click.Command(name, help=COMMANDS[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


pass_app = click.pass_obj


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# What a database error means for the user: the schema is missing, or the server is not there.
_NO_SCHEMA = ("no such table", "undefinedtable", "does not exist", "no such column")


def database_problem(exc: BaseException) -> str | None:
    """One line for a database error any command can meet, or None if it is not one."""
    from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

    if not isinstance(exc, (DBAPIError, OperationalError, ProgrammingError)):
        return None
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    if any(word in (type(orig).__name__ + reason).lower() for word in _NO_SCHEMA):
        return "the database has no tables yet (or an old schema): run `classpulse db upgrade`"
    if isinstance(exc, OperationalError):
        return f"cannot use the database in DATABASE_URL: {reason}"
    return f"database error: {reason}"


class ClasspulseGroup(LazyGroup):
    """The `classpulse` group: a database that is unreachable or not migrated yet ends any
    command with one line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            problem = database_problem(exc)
            if problem is None:
                raise
            logging.getLogger("classpulse").debug("database error", exc_info=True)
            fail(problem)


@click.group(cls=ClasspulseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="classpulse")
@click.pass_context
def main(ctx: click.Context) -> None:
    """classpulse: school surveys and assessment-criteria notices in Telegram and Viber."""
    if ctx.obj is not None:  # tests pass a ready AppContext
        return
    from bot.context import AppContext
    from bot.logging_setup import configure_logging
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)
    configure_logging(settings.log_level)
    ctx.obj = AppContext(settings=settings)


def crash_line(exc: BaseException) -> str:
    """Any exception as one line, secrets masked (a traceback would print a rejected token)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")[:300]


def entry() -> None:
    """The `classpulse` program: files private to their owner (the database, data/, QR codes
    with invite codes, notices), and any crash as one line with secrets masked."""
    os.umask(0o077)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        logging.getLogger("classpulse").debug("crash", exc_info=True)  # redacted by the handler
        click.echo(f"error: {crash_line(exc)}", err=True)
        sys.exit(1)


def echo_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def __getattr__(name: str) -> Any:
    """`AppContext` is re-exported lazily: importing it loads the database layer."""
    if name == "AppContext":
        from bot.context import AppContext

        return AppContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


logger = logging.getLogger("classpulse")

__all__ = [
    "COMMANDS",
    "AppContext",
    "LazyGroup",
    "echo_json",
    "entry",
    "fail",
    "logger",
    "main",
    "pass_app",
]
