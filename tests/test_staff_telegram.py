"""Staff commands end to end in Telegram (real PTB, fake Bot API): the director's /report
arrives as text, chart, XLSX and DOCX; the class teacher's nudge reaches exactly the parents
of the class who have not answered."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import invites, people, responses, waves
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import RunningBot, running_bot, seed_school

DIRECTOR, TEACHER, PARENT, PARENT2 = 3003, 2002, 1001, 1004


async def register(bot: RunningBot, chat: int, code: str) -> None:
    bot.fake.push_text(chat, f"/start {code}")
    await bot.settle()
    bot.fake.press(chat, "Погоджуюсь")
    await bot.settle()
    assert "ℹ️ Допомога" in bot.fake.last(chat).labels()


def submit(db: Database, wave_id: int, chat: int) -> None:
    with db.write() as session:
        person = people.person_for_identity(session, "telegram", str(chat))
        wave = waves.get_wave(session, wave_id)
        assert person is not None and wave is not None
        assert responses.submit(
            session,
            survey_id=wave.survey_id,
            wave_id=wave_id,
            person_id=person.id,
            class_id=wave.class_ids[0],
            role="parent",
            answers={"q1": 0, "q2": 0},
        )


def test_report_and_nudge_in_telegram(db: Database, settings: Settings) -> None:
    settings = settings.model_copy(update={"min_group_size": 1})
    data = seed_school(db, settings)
    now = datetime.now(UTC)
    with db.write() as session:
        director_code = invites.create_invite(session, None, "director", now).code
        parent2_code = invites.create_invite(session, data.class_id, "parent", now).code

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            bot.service.background = lambda task: task()  # settle() then covers the report
            await register(bot, DIRECTOR, director_code)
            await register(bot, TEACHER, data.teacher_code)
            await register(bot, PARENT, data.parent_code)
            await register(bot, PARENT2, parent2_code)
            submit(db, data.wave_id, PARENT)

            # The class teacher: rates for the class, then a nudge.
            fake.push_text(TEACHER, "/rates")
            await bot.settle()
            assert "7-А · батьки: 1 з 2" in fake.last(TEACHER).text
            before = {chat: len(fake.view(chat)) for chat in (PARENT, PARENT2)}
            fake.press(TEACHER, "Нагадати")
            await bot.settle()
            assert "поставлено в чергу" in fake.last(TEACHER).text
            assert len(fake.view(PARENT)) == before[PARENT]  # answered: not reminded
            assert len(fake.view(PARENT2)) == before[PARENT2] + 1
            assert "Анкета для батьків" in fake.last(PARENT2).text
            fake.press(TEACHER, "Нагадати")
            await bot.settle()
            assert "Наступне можна надіслати після" in fake.last(TEACHER).text
            assert len(fake.view(PARENT2)) == before[PARENT2] + 1

            # The class teacher's invite: links, the QR code as a PNG, a text to forward.
            fake.push_text(TEACHER, "/invite")
            await bot.settle()
            fake.press(TEACHER, "7-А · батьки")
            await bot.settle()
            links, qr, forward = fake.view(TEACHER)[-3:]
            assert "https://t.me/classpulse_test_bot?start=" in links.text
            assert qr.photo.startswith("invite-") and qr.photo.endswith(".png")
            assert "Шановні батьки й учні!" in forward.text

            # The director: /report, the latest wave, then text, chart, XLSX, DOCX.
            fake.push_text(DIRECTOR, "/report")
            await bot.settle()
            fake.press(DIRECTOR, "остання")
            await bot.settle()
            shown = fake.view(DIRECTOR)
            texts = "\n".join(s.text for s in shown)
            assert "Готую звіт «Анкета для батьків»" in texts
            assert "📊 Звіт: «Анкета для батьків», хвиля 2026-03 (уся школа)" in texts
            # The chart is a picture in the chat; the tables are files to open.
            files = [s.photo or s.document for s in shown if s.photo or s.document]
            assert [Path(d).suffix for d in files] == [".png", ".xlsx", ".docx"]
            assert [s.photo for s in shown if s.photo] == [files[0]]

        with db.read() as session:
            payloads = [
                p["reply"]["file"]
                for p in session.scalars(
                    select(OutboxMessage.payload)
                    .where(OutboxMessage.kind == "report")
                    .order_by(OutboxMessage.id)
                )
                if p["reply"].get("file")
            ]
        assert [f["mime"] for f in payloads] == [
            "image/png",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ]
        assert Path(payloads[0]["path"]).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    asyncio.run(scenario())


def test_a_report_in_the_making_blocks_nobody(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a report renders (held here on an event), the director already has "готую звіт…"
    and another user is answered; the report arrives when the work is done."""
    import bot.staff.effects as staff_effects

    settings = settings.model_copy(update={"min_group_size": 1})
    data = seed_school(db, settings)
    with db.write() as session:
        director_code = invites.create_invite(session, None, "director", datetime.now(UTC)).code
    release = threading.Event()
    real = staff_effects.run_report_request

    def held(*args: Any) -> Any:
        assert release.wait(30)
        return real(*args)

    monkeypatch.setattr(staff_effects, "run_report_request", held)

    async def scenario() -> None:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:  # the real background worker
            await register(bot, DIRECTOR, director_code)
            await register(bot, PARENT, data.parent_code)
            submit(db, data.wave_id, PARENT)
            fake.push_text(DIRECTOR, "/report")
            await bot.settle()
            fake.press(DIRECTOR, "остання")
            await bot.settle()
            assert "Готую звіт" in fake.last(DIRECTOR).text
            fake.push_text(PARENT, "/help")
            await bot.settle()
            assert fake.last(PARENT).text  # answered while the report is still held
            assert not any("📊 Звіт:" in text for text in fake.texts(DIRECTOR))
            release.set()
            arrived = await fake.wait_for(
                lambda: any(s.document.endswith(".docx") for s in fake.view(DIRECTOR)), 20
            )
            assert arrived

    asyncio.run(scenario())
