"""`AppContext`: the settings, the clock and the database, built once in an entry point (the
CLI, the demo, a test) and passed down. No globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from bot.settings import Settings
from storage.db import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    settings: Settings
    clock: Callable[[], datetime] = field(default=utc_now)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    def migrate(self) -> None:
        """Bring the schema to the head revision; Alembic loads only if it is behind."""
        from storage.migrate import upgrade_if_needed

        upgrade_if_needed(self.db)
