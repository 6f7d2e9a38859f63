"""One compiled-SQL cache for every engine the tests open in a process.

SQLAlchemy caches compiled statements per engine, keyed by the engine's dialect object. Every
test opens its own database file, so a new engine: each test compiled the same few hundred
statements again (about a sixth of a dialog test's CPU). `share_compiled_sql` makes engines of
the same dialect class use the first initialised dialect of that class and its cache.

That dialect is the same class built from the same arguments (storage/db.py passes no dialect
options) and initialised against the same SQLite library or PostgreSQL server; a compiled
statement holds SQL text and parameter processing, no connection and no data. Connections,
pools and their event hooks stay each engine's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import Dialect

import storage.db


def share_compiled_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Engines made by storage.db from now on share a dialect and compiled cache per class."""
    real: Callable[..., Engine] = storage.db.create_engine
    # Per dialect class: the (dialect, cache) pairs of engines made before one was ready.
    waiting: dict[type, list[tuple[Dialect, Any]]] = {}

    def create_engine(url: Any, **kwargs: Any) -> Engine:
        engine = real(url, **kwargs)
        pairs = waiting.setdefault(type(engine.dialect), [])
        # Only a dialect that has met its database (the first connect ran initialize()) is
        # shared: what it learnt there (RETURNING, the server's version) shapes the SQL.
        ready = next((p for p in pairs if p[0].server_version_info is not None), None)
        if ready is None:
            pairs.append((engine.dialect, engine._compiled_cache))
        else:
            pairs[:] = [ready]
            engine.dialect, engine._compiled_cache = ready
        return engine

    monkeypatch.setattr(storage.db, "create_engine", create_engine)
