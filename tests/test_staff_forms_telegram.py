"""The Forms import in Telegram (real PTB, fake Bot API): the director sends the export as a
document; the job fetches it through getFile and the file download, off the event loop, and
the result arrives as a message."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

from bot.files.store import files_dir
from bot.settings import Settings
from storage.db import Database
from storage.repositories import invites
from storage.repositories.responses import response_count
from storage.repositories.waves import list_waves
from tests.analytics_fixtures import parents_export
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import running_bot, seed_school

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
