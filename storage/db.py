"""Engine and sessions: SQLite tuned for a bot (WAL, busy timeout, FKs), PostgreSQL unchanged."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 10_000
BULK_CACHE_KIB = 32_768  # SQLite page cache while a bulk write runs (the default is 2 MiB)


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; a bare postgresql:// would ask for psycopg2.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content (a submitted draft, a scrubbed outbox payload, an
        # erased person) is zeroed in the file, not left in free space (docs/privacy.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _private_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and -shm
    files the database file's permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@contextmanager
def _committed(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll it back if it raised."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


class _WriterTurn:
    """The turn of one write transaction among this process's threads (SQLite).

    Re-entrant, so a nested write in one thread behaves as it did without it (SQLite's busy
    timeout), and bounded by the same timeout, so a turn never held ends in the same
    "database is locked" error SQLite would raise, never in a hang."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> object:
        if not self._lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            locked = sqlite3.OperationalError("database is locked")
            raise exc.OperationalError("BEGIN IMMEDIATE", None, locked)
        return self

    def __exit__(self, *_: object) -> None:
        self._lock.release()


class Database:
    """Owns the engine; hands out read sessions and write (immediate) transactions."""

    def __init__(self, url: str) -> None:
        self.url = _normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # Answers and names are statement parameters: keep them out of error messages and logs.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                _private_sqlite_file(Path(parsed.database))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Threads of this process take turns on a lock, and
        # the next one starts the moment the last commits; left to SQLite's busy handler they
        # would poll the file lock, sleeping up to 100 ms between tries (a press waited behind
        # others for that long). Other processes still meet at the busy timeout.
        self._writer: contextlib.AbstractContextManager[object] = (
            _WriterTurn() if self.is_sqlite else contextlib.nullcontext()
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; anything written is rolled back."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that commits on success; on SQLite it starts as BEGIN IMMEDIATE."""
        with self._writer, self._sessions() as session:
            session.connection(execution_options={"immediate": True})
            with _committed(session):
                yield session

    @contextmanager
    def bulk_write(self) -> Iterator[Session]:
        """`write()` for one large insert whose rows refer only to rows the same transaction
        wrote or read (an import). On SQLite, foreign keys are not checked row by row (two
        index lookups per inserted row) and the page cache is larger while it runs; both are
        set back before the connection returns to the pool. Elsewhere the same as `write()`."""
        if not self.is_sqlite:
            with self.write() as session:
                yield session
            return
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            (cache_size,) = raw.execute("PRAGMA cache_size").fetchone()
            # Only outside a transaction: before the session begins one.
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with Session(
                    bind=connection.execution_options(immediate=True), expire_on_commit=False
                ) as session:
                    session.connection().exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
                    with _committed(session):
                        yield session
            finally:
                if connection.in_transaction():
                    connection.rollback()
                raw.execute(f"PRAGMA cache_size={int(cache_size)}")
                raw.execute("PRAGMA foreign_keys=ON")

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_into(session: Session, model: Any) -> Any:
    """An INSERT that takes ON CONFLICT clauses, for the session's database. Only the dialect
    in use is imported: PostgreSQL's would cost a bot on SQLite ~2 MiB for nothing."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)
