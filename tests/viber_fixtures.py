"""Fixtures of the Viber tests (imported by each test_viber_* module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import Settings
from storage.db import Database
from tests.conftest import clean_settings, clone_db_url
from tests.fake_viber import FakeViber
from tests.viber_support import TOKEN, ViberWorld, seed_school, world_on

SEED_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the tests' `now` (tests/conftest.py)


@dataclass(frozen=True)
class SeededSchool:
    """The school every `viber` world starts from, stored once per module (nothing connected)."""

    url: str
    class_id: int
    wave_id: int


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_viber() -> Iterator[FakeViber]:
    fake = FakeViber(TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def viber_school(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> SeededSchool:
    """Class 7-А with the parents' survey open, seeded once per module: each test gets a copy
    of the file (seeding it per test was a good part of a short Viber test's time)."""
    db = Database(module_db_url)
    try:
        settings = clean_settings(module_db_url, tmp_path_factory.mktemp("data"))
        class_id, wave_id = seed_school(db, settings, SEED_NOW)
    finally:
        db.dispose()
    return SeededSchool(module_db_url, class_id, wave_id)


@pytest.fixture
def viber(
    fake_viber: FakeViber,
    viber_school: SeededSchool,
    settings: Settings,
    now: datetime,
    tmp_path: Path,
) -> Iterator[ViberWorld]:
    assert now == SEED_NOW, "the module seeded its school at another time than `now`"
    directory = tmp_path / "viber"
    directory.mkdir()
    with clone_db_url(viber_school.url, directory) as url:
        db = Database(url)
        own = settings.model_copy(update={"database_url": url})
        world = world_on(fake_viber, db, own, now, viber_school.class_id, viber_school.wave_id)
        try:
            yield world
        finally:
            world.parts.client.close()
            db.dispose()
