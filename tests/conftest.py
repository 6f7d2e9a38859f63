"""Shared fixtures: real SQLite files migrated with Alembic, Settings without any .env."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import Settings
from storage.db import Database
from storage.migrate import upgrade

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's .env or real tokens."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "VIBER_AUTH_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating once per session and copying the file keeps each test on a fresh real database.
    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


@pytest.fixture
def db_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path / "classpulse.db"
    shutil.copy(_migrated_template(tmp_path_factory), path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        data_dir=tmp_path / "data",
        quiet_hours="",
        telegram_bot_username="classpulse_test_bot",
        viber_bot_uri="classpulse-test",
    )


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
