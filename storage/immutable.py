"""Per-database memory of rows that never change once committed, so the per-event path reads
them once per process instead of once per event.

What may live here: a survey version's definition (an edited file becomes a new version, a new
row; survey rows are never updated or deleted) and a wave's classes and survey (written in the
transaction that creates the wave, never changed). Keys carry what identifies the row beyond
its id (a content hash, a creation time), so a rolled-back row whose id is later reused by
SQLite is never mistaken for the new one. Anything that can change (a wave's status, dates,
label) is read from the database on every event, not kept here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

T = TypeVar("T")

# One dict per engine: two databases in one process (tests, the CLI) never share entries.
_stores: WeakKeyDictionary[Engine, dict[Hashable, Any]] = WeakKeyDictionary()
_lock = threading.Lock()
MAX_ENTRIES = 10_000  # a safety valve: far more than a school's surveys and waves


def _store(session: Session) -> dict[Hashable, Any]:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    assert isinstance(engine, Engine)
    with _lock:
        store = _stores.get(engine)
        if store is None:
            store = _stores[engine] = {}
        return store


def remembered(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """The value stored under `key` for this session's database, loaded once by `load()`."""
    store = _store(session)
    try:
        return store[key]
    except KeyError:
        pass
    value = load()
    if len(store) >= MAX_ENTRIES:
        store.clear()
    store[key] = value
    return value
