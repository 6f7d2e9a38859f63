"""Alembic environment: uses storage.db.Database so SQLite gets the same pragmas."""

from __future__ import annotations

from typing import Any

from alembic import context

from storage.db import Database
from storage.models import Base

config = context.config
target_metadata = Base.metadata

# Tables other libraries create and own; autogenerate must neither drop nor describe them.
# APScheduler's SQLAlchemyJobStore (bot/schedule/scheduler.py).
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    table = getattr(obj, "table", None)  # the table's indexes and columns
    return not (table is not None and table.name in FOREIGN_TABLES)


def run_migrations_online() -> None:
    database = Database(config.get_main_option("sqlalchemy.url") or "")
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=database.is_sqlite,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


run_migrations_online()
