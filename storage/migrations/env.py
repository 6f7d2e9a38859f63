"""Alembic environment: uses storage.db.Database so SQLite gets the same pragmas."""

from __future__ import annotations

from alembic import context

from storage.db import Database
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    database = Database(config.get_main_option("sqlalchemy.url") or "")
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=database.is_sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


run_migrations_online()
