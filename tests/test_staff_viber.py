"""Staff commands end to end in Viber: /report gives the text and a note where the files are
(Viber sends files by public link only: issue 17), /rates and the nudge."""

from __future__ import annotations

import pytest

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
    assert "Файли звіту (діаграма, XLSX, DOCX)" in said

    await teacher.send_text("/invite")
    await teacher.press("7-А · батьки")
    await viber.deliver()
    said = "\n".join(teacher.texts()[-3:])
    assert "Telegram: https://t.me/" in said and "Viber: viber://pa?chatURI=" in said
    assert "QR-код цього запрошення надсилаємо в Telegram" in said
    assert "Шановні батьки й учні!" in said
