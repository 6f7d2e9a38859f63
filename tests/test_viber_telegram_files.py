"""A file a teacher sends in Telegram reaches Viber families too: fetched from Telegram once
(off the chat), stored once, and sent to Viber as a `file` message whose link downloads the
exact bytes. If the fetch fails, the families still get the notice, told to ask for the file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.criteria.remote_files import RemoteFileFetcher
from bot.criteria.service import WITH_FILE
from storage.models import FileLink, OutboxMessage, StoredFile
from storage.repositories import invites
from tests.fake_telegram import FakeTelegram
from tests.fake_viber import Shown
from tests.telegram_harness import RunningBot, running_bot
from tests.viber_support import ViberUser, ViberWorld

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio

TEACHER = 2002
PDF = b"%PDF-1.4\n% criteria from Telegram\n" + bytes(range(256)) * 30 + b"\n%%EOF\n"


async def say(bot: RunningBot, text: str, expect: str) -> None:
    bot.fake.push_text(TEACHER, text)
    await bot.settle()
    assert expect in bot.fake.last(TEACHER).text


async def press(bot: RunningBot, label: str, expect: str) -> None:
    bot.fake.press(TEACHER, label)
    await bot.settle()
    assert expect in bot.fake.last(TEACHER).text


async def viber_parent(world: ViberWorld) -> ViberUser:
    parent = world.user("u-mama", "Мама")
    await parent.open(world.invite("parent"))
    await parent.press("Погоджуюсь")
    return parent


async def publish_with_pdf(bot: RunningBot, world: ViberWorld) -> None:
    """The class teacher, in Telegram, publishes criteria with a PDF to the parents."""
    with world.db.write() as session:  # the Telegram side runs on the real clock
        code = invites.create_invite(
            session, world.class_id, "class_teacher", datetime.now(UTC)
        ).code
    await say(bot, f"/start {code}", "Погоджуєтесь")
    await press(bot, "Погоджуюсь", "")
    await press(bot, "Критерії оцінювання", "Крок 1 з 4")
    await press(bot, "Далі", "Крок 2 з 4")
    await press(bot, "Українська мова", "Крок 3 з 4")
    await press(bot, "Батькам", "Крок 4 з 4")
    await say(bot, "Диктант: 12 балів — без помилок.", "Текст отримано")
    bot.fake.push_document(TEACHER, "Критерії диктант.pdf", PDF)
    await bot.settle()
    assert "Отримувачів: 1" in bot.fake.last(TEACHER).text
    await press(bot, "Надіслати", "")


def viber_files(user: ViberUser) -> list[Shown]:
    return [s for s in user.seen() if s.body.get("type") == "file"]


async def test_a_pdf_sent_in_telegram_reaches_a_viber_family_as_a_file(
    viber: ViberWorld, tmp_path: Path
) -> None:
    parent = await viber_parent(viber)
    before = len(parent.seen())
    async with running_bot(FakeTelegram(), viber.settings, viber.db) as bot:
        await publish_with_pdf(bot, viber)
        # The Viber message waits for the file: nothing goes out before it is fetched.
        await viber.sender.run_once()
        assert len(parent.seen()) == before
        fetcher = RemoteFileFetcher(
            viber.db, viber.settings, viber.clock, {"telegram": bot.adapter.download_file}
        )
        assert await fetcher.run_once() == 1
        assert await fetcher.run_once() == 0  # fetched once
    await viber.deliver()

    (file,) = viber_files(parent)
    assert file.body["file_name"] == "Критерії диктант.pdf"
    assert file.body["size"] == len(PDF)
    text = parent.last()
    assert "Диктант: 12 балів" in text.text and "Критерії диктант.pdf" in text.text
    assert "попросіть" not in text.text.lower()
    answer = await viber.download(file.body["media"])
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    with viber.db.read() as session:
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 1
        assert session.scalar(select(func.count()).select_from(FileLink)) == 1


async def test_when_the_fetch_fails_the_family_still_gets_the_notice(
    viber: ViberWorld, tmp_path: Path
) -> None:
    parent = await viber_parent(viber)

    async def broken(ref: str, dest: Path) -> Path:
        raise OSError("telegram is away")

    downloads: dict[str, Callable[[str, Path], Awaitable[Path]]] = {"telegram": broken}
    async with running_bot(FakeTelegram(), viber.settings, viber.db) as bot:
        await publish_with_pdf(bot, viber)
        fetcher = RemoteFileFetcher(viber.db, viber.settings, viber.clock, downloads)
        assert await fetcher.run_once() == 0
    await viber.deliver()  # after the wait, without the file
    assert viber_files(parent) == []
    text = parent.last()
    assert "Диктант: 12 балів" in text.text
    assert "Критерії диктант.pdf" in text.text and "вчител" in text.text.lower()


async def test_without_a_public_address_nothing_waits_for_the_file(viber: ViberWorld) -> None:
    parent = await viber_parent(viber)
    no_links = viber.settings.model_copy(update={"files_base_url": ""})
    async with running_bot(FakeTelegram(), no_links, viber.db) as bot:
        await publish_with_pdf(bot, viber)
    with viber.db.read() as session:
        row = session.execute(
            select(
                OutboxMessage.created_at, OutboxMessage.next_attempt_at, OutboxMessage.payload
            ).where(OutboxMessage.channel == "viber", OutboxMessage.kind == "notice")
        ).one()
    assert row.next_attempt_at == row.created_at  # due at once
    assert WITH_FILE not in row.payload
    await viber.deliver()
    assert viber_files(parent) == []
    assert "вчител" in parent.last().text.lower()
