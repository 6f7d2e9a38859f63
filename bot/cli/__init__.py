"""`classpulse`: a thin CLI. Each command parses options and calls one library function."""

from __future__ import annotations

from bot.cli import commands_core  # noqa: F401  (registers commands on `main`)
from bot.cli.app import main

__all__ = ["main"]
