"""The `classpulse` command group and the context every subcommand gets."""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

import click

from bot.context import AppContext
from bot.logging_setup import configure_logging
from bot.settings import SettingsError, load_settings

pass_app = click.make_pass_decorator(AppContext)


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


class ClasspulseGroup(click.Group):
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
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)
    configure_logging(settings.log_level)
    ctx.obj = AppContext(settings=settings)


def echo_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


logger = logging.getLogger("classpulse")

__all__ = ["AppContext", "echo_json", "fail", "logger", "main", "pass_app"]
