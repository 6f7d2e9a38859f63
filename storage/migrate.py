"""Alembic, driven from code: `classpulse db upgrade`, `classpulse run` and tests call these.

Alembic (with Mako and Pygments) costs a long-lived `classpulse run` ~8 MiB of memory and
start-up time, so `upgrade_if_needed` first compares the database's revision (one query)
with the head of the migration files (read as text) and loads Alembic only when they differ.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database, _normalise_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$""", re.M)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", _normalise_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revisions() -> frozenset[str]:
    """The revisions no migration file builds on, read from the files' `revision =` and
    `down_revision =` lines (tests/test_storage.py checks this against Alembic's own answer)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            ids = set(re.findall(r"""["']([^"']+)["']""", value))
            (revisions if name == "revision" else parents).update(ids)
    return frozenset(revisions - parents)


def current_revisions(db: Database) -> frozenset[str] | None:
    """The revisions the database is at; None when it has no `alembic_version` table yet
    (or cannot be read: the upgrade that follows then says why)."""
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(rows)
    except DBAPIError:
        return None


def upgrade_if_needed(db: Database) -> bool:
    """Bring the database to the head revision; True when Alembic had to run."""
    if current_revisions(db) == head_revisions():
        return False
    upgrade(db.url)
    return True
