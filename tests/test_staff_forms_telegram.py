"""The Forms import in Telegram (real PTB, fake Bot API): the director sends the export as a
document; the job fetches it through getFile and the file download, off the event loop, and
the result arrives as a message; one left by a crash is imported when the bot starts again."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

from bot.files.store import files_dir
from bot.settings import Settings
from storage.db import Database
from storage.models import FormsImportRequest
from storage.repositories import invites
from storage.repositories.responses import response_count
from storage.repositories.waves import list_waves
from tests.analytics_fixtures import parents_export
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import RunningBot, running_bot, seed_school

DIRECTOR = 3003


def test_the_director_sends_the_export_as_a_document(db: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"min_group_size": 1})
    seed_school(db, settings)
    with db.write() as session:
        code = invites.create_invite(session, None, "director", datetime.now(UTC)).code
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(parents_export())
    data = out.getvalue().encode()

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            bot.service.background = lambda task: task()  # settle() then covers the import

            async def step(action: str, label: str, expect: str) -> None:
                if action == "press":
                    fake.press(DIRECTOR, label)
                else:
                    fake.push_text(DIRECTOR, label)
                await bot.settle()
                assert expect in fake.last(DIRECTOR).text

            await step("text", f"/start {code}", "Погоджуєтесь")
            await step("press", "Погоджуюсь", "")
            await step("text", "/staff", "Працівники школи")
            await step("press", "Імпорт з Google Forms", "До якої анкети")
            await step("press", "Анкета для батьків", "як назвати хвилю?")
            await step("press", "За замовчуванням", "Надішліть файл CSV")
            fake.push_document(DIRECTOR, "Анкета для батьків.csv", data, "text/csv")
            await bot.settle()
            texts = fake.texts(DIRECTOR)
            assert any("⏳ Імпортую «Анкета для батьків.csv»" in t for t in texts)
            assert "✅ Імпортовано 19 відповідей" in fake.last(DIRECTOR).text
            assert "хвиля 2024-2025" in fake.last(DIRECTOR).text

    asyncio.run(scenario())
    with db.read() as session:
        imported = [w for w in list_waves(session) if w.source == "import"]
        assert [(w.label, response_count(session, w.id)) for w in imported] == [("2024-2025", 19)]
    folder = files_dir(settings) / "imports"
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def director_and_export(db: Database, settings: Settings) -> tuple[str, bytes]:
    seed_school(db, settings)
    with db.write() as session:
        code = invites.create_invite(session, None, "director", datetime.now(UTC)).code
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(parents_export())
    return code, out.getvalue().encode()


async def send_export(bot: RunningBot, fake: FakeTelegram, code: str, data: bytes) -> None:
    for action, label in (
        ("text", f"/start {code}"),
        ("press", "Погоджуюсь"),
        ("text", "/staff"),
        ("press", "Імпорт з Google Forms"),
        ("press", "Анкета для батьків"),
        ("press", "За замовчуванням"),
    ):
        if action == "press":
            fake.press(DIRECTOR, label)
        else:
            fake.push_text(DIRECTOR, label)
        await bot.settle()
    fake.push_document(DIRECTOR, "Анкета для батьків.csv", data, "text/csv")
    await bot.settle()


def test_an_import_cut_short_by_a_crash_is_made_when_the_bot_starts_again(
    db: Database, settings: Settings
) -> None:
    """The director was told "імпортую…", then the process died before the import ran: the
    request is stored, and the restarted bot imports the file and tells the director."""
    settings = settings.model_copy(update={"min_group_size": 1})
    code, data = director_and_export(db, settings)
    fake = FakeTelegram()

    async def crashed() -> None:
        async with running_bot(fake, settings, db) as bot:
            bot.service.background = lambda task: None  # the job dies with the process
            await send_export(bot, fake, code, data)
            assert "⏳ Імпортую «Анкета для батьків.csv»" in fake.last(DIRECTOR).text

    async def restarted() -> None:
        async with running_bot(fake, settings, db):
            done = await fake.wait_for(lambda: "✅ Імпортовано" in fake.last(DIRECTOR).text, 30)
            assert done, fake.texts(DIRECTOR)[-3:]

    asyncio.run(crashed())
    with db.read() as session:
        assert session.query(FormsImportRequest).count() == 1
        assert not [w for w in list_waves(session) if w.source == "import"]
    asyncio.run(restarted())
    assert "хвиля 2024-2025" in fake.last(DIRECTOR).text
    assert sum("✅ Імпортовано" in text for text in fake.texts(DIRECTOR)) == 1
    with db.read() as session:
        imported = [w for w in list_waves(session) if w.source == "import"]
        assert [(w.label, response_count(session, w.id)) for w in imported] == [("2024-2025", 19)]
        # Answered: the messenger's reference to the file is no longer stored.
        assert session.query(FormsImportRequest).count() == 0
