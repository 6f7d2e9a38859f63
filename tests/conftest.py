"""Shared fixtures: real SQLite files migrated with Alembic, Settings without any .env."""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import Engine, create_engine, text

import storage.db
from bot.settings import Settings
from bot.texts import set_strict
from storage.db import Database
from storage.migrate import upgrade

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's .env or real tokens."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "VIBER_AUTH_TOKEN", "DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating once per session and copying the file keeps each test on a fresh real database.
    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


# The PostgreSQL leg (`make test` starts a throwaway server and sets this): the same tests run
# against PostgreSQL, each on a fresh database cloned from a migrated template.
PG_URL = os.environ.get("CLASSPULSE_TEST_PG_URL", "")
PG_MODULES = (
    "test_engine_dialogs",
    "test_storage",
    "test_analytics",
    "test_criteria",
    "test_outbox",
    "test_jobs",
    "test_staff",
)
_pg_counter = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that mostly wait out a real deadline go first: their waiting overlaps the other
    # workers' work instead of keeping one worker busy after the rest have finished.
    items.sort(key=lambda item: item.get_closest_marker("waits") is None)
    if not PG_URL:
        # Several processes on one database is a PostgreSQL set-up (SQLite: one process).
        pg_only = [i for i in items if i.get_closest_marker("pg_only") is not None]
        if pg_only:
            config.hook.pytest_deselected(items=pg_only)
            items[:] = [i for i in items if i not in pg_only]
        return
    keep = [
        item
        for item in items
        if item.module is not None
        and item.module.__name__.split(".")[-1].startswith(PG_MODULES)
        and item.get_closest_marker("sqlite_only") is None
    ]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


def _temp_files_in_ram() -> None:
    """Put pytest's temporary directories (the tests' SQLite files above all) on a RAM disk
    when the machine has one and nobody chose another place. SQLite syncs its file to disk at
    each checkpoint (every database closed), which made up a third of the wall time of the
    database-heavy tests; on tmpfs it costs nothing. The files and their permissions are the
    same; pytest still numbers the directories per run and keeps the last three."""
    if os.environ.get("PYTEST_DEBUG_TEMPROOT") or os.environ.get("TMPDIR"):
        return
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)


def _share_sqlite_compilation() -> None:
    """Let every SQLite engine of the test process compile each statement once.

    SQLAlchemy caches compiled SQL per engine, keyed by the engine's dialect object. A
    production process has one engine and compiles a statement once; a test run makes an
    engine per test, and compiling the same statements again was about a tenth of a
    database test's time. Each new SQLite engine (made by storage.db.Database, with the same
    arguments every time) is given one dialect object, initialised once on a throwaway
    in-memory database, and one compiled cache. Connections, pools, files and event hooks stay
    the engine's own. PostgreSQL engines are left as they are."""
    seed = sqlalchemy.create_engine("sqlite://", query_cache_size=5000)
    with seed.connect():
        pass  # the first connection initialises the dialect
    dialect, cache = seed.dialect, seed._compiled_cache

    def create(url: str, **kwargs: object) -> Engine:
        engine = sqlalchemy.create_engine(url, **kwargs)  # type: ignore[arg-type]
        if engine.dialect.name == "sqlite" and type(engine.dialect) is type(dialect):
            engine.dialect = dialect
            engine.pool._dialect = dialect
            engine._compiled_cache = cache
        return engine

    storage.db.create_engine = create  # type: ignore[assignment]


def _share_tls_context() -> None:
    """Give every httpx client of the test process one default TLS context.

    httpx builds a context for each client, loading the CA bundle (30 ms of CPU), and the
    suite makes a client for every bot it starts and every request helper. The tests speak
    plain HTTP to 127.0.0.1, so the context is never used; an identical shared one is the same
    to every client. Other `verify` values are passed through untouched."""
    import httpx._transports.default as transports  # PTB loads it anyway

    make = transports.create_ssl_context
    made: dict[bool, Any] = {}

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return make(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in made:
            made[trust_env] = make(verify=True, cert=None, trust_env=trust_env)
        return made[trust_env]

    transports.create_ssl_context = shared


def _rewrite_test_modules_once(config: pytest.Config) -> None:
    """In xdist's controller: rewrite the test modules' asserts once, into pytest's own cache
    (tests/__pycache__), while the workers start; each worker then loads them from there.

    Every worker imports every test module, and rewriting them was half of a worker's start
    (1.6 s of CPU each). pytest reads its cache even where PYTHONDONTWRITEBYTECODE is set, but
    only writes it where it is not, so a fresh checkout under that variable paid it in every
    worker on every run. The files are pytest's checked-hash pycs, written as pytest writes
    them (atomically), ignored by git; a worker that comes first rewrites for itself as before.
    This uses pytest's private helpers: if they move, nothing is cached and nothing breaks."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    try:
        from _pytest.assertion import rewrite
    except ImportError:
        return
    helpers = (
        "PYC_TAIL",
        "assertstate_key",
        "get_cache_dir",
        "_read_pyc",
        "_rewrite_test",
        "_write_pyc",
    )
    if not all(hasattr(rewrite, name) for name in helpers):
        return
    if config.getoption("assertmode") != "rewrite":
        return
    state = config.stash[rewrite.assertstate_key]

    def rewrite_all() -> None:
        for source in sorted(Path(__file__).parent.glob("test_*.py")):
            cache = rewrite.get_cache_dir(source)
            pyc = cache / (source.name[:-3] + rewrite.PYC_TAIL)
            try:
                if rewrite._read_pyc(source, pyc) is not None:
                    continue
                source_hash, code = rewrite._rewrite_test(source, config)
                cache.mkdir(exist_ok=True)
                rewrite._write_pyc(state, code, source_hash, pyc)
            except (OSError, SyntaxError):
                continue  # the worker meets the same file and reports it

    threading.Thread(target=rewrite_all, name="rewrite-tests", daemon=True).start()


def pytest_configure(config: pytest.Config) -> None:
    _rewrite_test_modules_once(config)
    _temp_files_in_ram()
    _share_sqlite_compilation()
    _share_tls_context()
    config.addinivalue_line("markers", "sqlite_only: checks SQLite-specific behaviour")
    config.addinivalue_line("markers", "pg_only: runs in the PostgreSQL leg only")
    config.addinivalue_line("markers", "waits: mostly waits out a real deadline (run first)")
    # A missing translation fails the test instead of quietly falling back to Ukrainian.
    set_strict(True)


def _freeze_what_lives() -> None:
    """Collect the garbage, then move every object still alive out of the collector's sight.

    A full collection walks every tracked object: with the libraries, the caches and the
    session's fixtures that is most of a million by the end of a worker's run, and the
    automatic full collections made up a sixth of the suite's CPU time. What is alive at the
    end of a test module (imports, session fixtures, caches) mostly stays alive, so each module
    starts with it frozen and a full collection walks only what that module made. Objects
    still free themselves by reference counting; only a cycle that a frozen object joins
    later is never collected, which a test run can afford."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze_what_lives()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield  # the module's fixtures are finalized by now when the next test is elsewhere
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        _freeze_what_lives()
    return result


def _pg_admin(sql: str) -> None:
    engine = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@contextmanager
def _fresh_db_url(directory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh migrated database: a copy of the migrated template (SQLite, in `directory`) or a
    PostgreSQL database cloned from the migrated template database."""
    if PG_URL:
        if "pg" not in _TEMPLATE:
            _pg_admin("DROP DATABASE IF EXISTS cp_template")
            _pg_admin("CREATE DATABASE cp_template")
            upgrade(_pg_url("cp_template"))
            _TEMPLATE["pg"] = Path("cp_template")
        name = f"cp_test_{os.getpid()}_{next(_pg_counter)}"
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE cp_template")
        yield _pg_url(name)
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    path = directory / "classpulse.db"
    shutil.copy(_migrated_template(tmp_path_factory), path)
    yield f"sqlite:///{path}"


@contextmanager
def clone_db_url(source_url: str, directory: Path) -> Iterator[str]:
    """A fresh copy of a database that a module-scoped fixture filled once (nothing may be
    connected to it): its file copied into `directory` (SQLite), or a PostgreSQL database
    created with it as the template. For tests that write to what they share."""
    if PG_URL:
        name = f"cp_test_{os.getpid()}_{next(_pg_counter)}"
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE {source_url.rsplit('/', 1)[1]}")
        yield _pg_url(name)
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    source = Path(source_url.removeprefix("sqlite:///"))
    path = directory / "classpulse.db"
    shutil.copy(source, path)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():  # committed pages not yet written back into the file
        shutil.copy(wal, path.with_name(path.name + "-wal"))
    yield f"sqlite:///{path}"


@pytest.fixture
def db_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _fresh_db_url(tmp_path, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def module_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fresh database for a whole test module: filled once by a module-scoped fixture, then
    read by every test, or copied for each test with `clone_db_url` (filling it per test was
    most of their time)."""
    with _fresh_db_url(tmp_path_factory.mktemp("module"), tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def module_db(module_db_url: str) -> Iterator[Database]:
    """The module's database (`module_db_url`), for modules whose tests only read it."""
    database = Database(module_db_url)
    yield database
    database.dispose()


def clean_settings(database_url: str, data_dir: Path) -> Settings:
    """The tests' settings: no .env, no environment variables that a test did not set."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("TELEGRAM_BOT_TOKEN", "VIBER_AUTH_TOKEN", "DATABASE_URL", "TIMEZONE"):
            mp.delenv(name, raising=False)
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            data_dir=data_dir,
            quiet_hours="",
            telegram_bot_username="classpulse_test_bot",
            viber_bot_uri="classpulse-test",
            # Reports render inline: a child process per report would slow the suite down;
            # tests/test_report_child.py runs the child for real.
            reports_in_child_process=False,
        )


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return clean_settings(db_url, tmp_path / "data")


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
