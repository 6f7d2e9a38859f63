"""The `classpulse` command group and the context every subcommand gets."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn

import click

from bot.context import AppContext
from bot.logging_setup import configure_logging, redact
from bot.settings import SettingsError, load_settings

pass_app = click.make_pass_decorator(AppContext)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


logger = logging.getLogger("classpulse")

__all__ = ["AppContext", "echo_json", "entry", "fail", "logger", "main", "pass_app"]
