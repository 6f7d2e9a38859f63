"""Staff commands end to end in Viber: /report gives the text, the chart as a picture and the
XLSX and DOCX as files (by links on the bot's own server: issue 17), /rates and the nudge; the
weekly digest reaches a Viber director the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.schedule.jobs import send_weekly_digest
from storage.repositories import invites, people, responses, waves
from tests.viber_support import ViberUser, ViberWorld

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio


async def join(user: ViberUser, code: str) -> None:
    await user.open(code)
    await user.press("Погоджуюсь")


def submit(world: ViberWorld, user_id: str) -> None:
    with world.db.write() as session:
        person = people.person_for_identity(session, "viber", user_id)
        wave = waves.get_wave(session, world.wave_id)
        assert person is not None and wave is not None
        assert responses.submit(
            session,
            survey_id=wave.survey_id,
            wave_id=wave.id,
            person_id=person.id,
            class_id=world.class_id,
            role="parent",
            answers={"q1": 0, "q2": 1},
        )


async def receives_the_report_files(world: ViberWorld, user: ViberUser, pattern: str) -> None:
    """The chart as a `picture`, XLSX and DOCX as `file` messages, each link downloading the
    exact bytes of the rendered file."""
    shown = [s.body for s in user.seen() if s.body.get("type") in ("picture", "file")]
    by_ext = {
        Path(body.get("file_name") or body["media"].split("/")[-1]).suffix: body for body in shown
    }
    assert sorted(by_ext) == [".docx", ".png", ".xlsx"]
    assert by_ext[".png"]["type"] == "picture"
    assert by_ext[".xlsx"]["type"] == by_ext[".docx"]["type"] == "file"
    rendered = {p.suffix: p for p in (world.settings.data_dir / "reports").rglob(pattern)}
    for ext, body in by_ext.items():
        answer = await world.download(body["media"])
        assert answer.status_code == 200
        assert answer.content == rendered[ext].read_bytes()
    assert "Діаграма" in "\n".join(user.texts())


async def test_the_weekly_digest_reaches_a_viber_director_with_its_files(
    viber: ViberWorld,
) -> None:
    viber.settings = viber.settings.model_copy(update={"min_group_size": 1})
    with viber.db.write() as session:
        director_code = invites.create_invite(session, None, "director", viber.clock()).code
    director = viber.user("u-director", "Директорка")
    await join(director, director_code)
    await join(viber.user("u-p0", "Батько"), viber.invite("parent"))
    submit(viber, "u-p0")
    assert send_weekly_digest(viber.db, viber.settings, viber.clock()) > 0
    await viber.deliver()
    await receives_the_report_files(viber, director, "digest.*")


async def test_report_rates_and_nudge_in_viber(viber: ViberWorld) -> None:
    viber.settings = viber.settings.model_copy(update={"min_group_size": 1})
    service = viber.parts.adapter.service
    service.settings = viber.settings
    service.background = lambda task: task()
    with viber.db.write() as session:
        director_code = invites.create_invite(session, None, "director", viber.clock()).code
    director = viber.user("u-director", "Директорка")
    teacher = viber.user("u-teacher", "Ірина")
    parents = [viber.user(f"u-p{i}", f"Батько {i}") for i in range(3)]
    await join(director, director_code)
    await join(teacher, viber.invite("class_teacher"))
    for parent in parents:
        await join(parent, viber.invite("parent"))
    submit(viber, "u-p0")

    await teacher.send_text("/rates")
    assert "7-А · батьки: 1 з 3" in teacher.last().text
    seen = [len(p.seen()) for p in parents]
    await teacher.press("Нагадати")
    await viber.deliver()
    assert any("поставлено в чергу" in text for text in teacher.texts())
    assert [len(p.seen()) - n for p, n in zip(parents, seen, strict=True)] == [0, 1, 1]

    await director.send_text("/report")
    await director.press("остання")
    await viber.deliver()
    said = "\n".join(director.texts())
    assert "Готую звіт" in said
    assert "📊 Звіт: «Анкета для батьків», хвиля 2026-весна (уся школа)" in said
    assert "Файли звіту (діаграма, XLSX, DOCX)" not in said
    await receives_the_report_files(viber, director, "report-*")

    await teacher.send_text("/invite")
    await teacher.press("7-А · батьки")
    await viber.deliver()
    said = "\n".join(teacher.texts()[-3:])
    assert "Telegram: https://t.me/" in said and "Viber: viber://pa?chatURI=" in said
    assert "QR-код цього запрошення надсилаємо в Telegram" in said
    assert "Шановні батьки й учні!" in said
