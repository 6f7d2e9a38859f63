"""`classpulse`: a thin CLI. Each command parses options and calls one library function."""

from __future__ import annotations

import bot.cli.commands_criteria  # criteria publish|import|coverage|list
import bot.cli.commands_report  # noqa: F401  (report, import-forms)
from bot.cli import commands_core  # noqa: F401  (registers commands on `main`)
from bot.cli import commands_schedule as commands_schedule
from bot.cli import (
    commands_staff as commands_staff,
)  # staff list|log|assign|remove; rates  # schedule list|run-now; + `run`
from bot.cli import commands_telegram as commands_telegram  # telegram whoami|set-commands|outbox
from bot.cli import commands_viber as commands_viber  # viber set-webhook, viber info
from bot.cli.app import main

__all__ = ["main"]
