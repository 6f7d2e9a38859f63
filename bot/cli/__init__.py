"""`classpulse`: a thin CLI. Each command parses options and calls one library function.

The command modules (commands_*.py) register their commands on `main` when they are imported;
`main` imports one when its command is looked up (bot/cli/app.py: COMMANDS).
"""

from __future__ import annotations

from bot.cli.app import main

__all__ = ["main"]
