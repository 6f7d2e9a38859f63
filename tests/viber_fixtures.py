"""Fixtures of the Viber tests (imported by each test_viber_* module)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.settings import Settings
from storage.db import Database
from tests.fake_viber import FakeViber
from tests.viber_support import TOKEN, ViberWorld, build_world


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_viber() -> Iterator[FakeViber]:
    fake = FakeViber(TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def viber(
    fake_viber: FakeViber, db: Database, settings: Settings, now: datetime
) -> Iterator[ViberWorld]:
    world = build_world(fake_viber, db, settings, now)
    yield world
    world.parts.client.close()
