"""Criteria end to end in Viber: a teacher publishes in the chat, a parent acknowledges and
asks, the teacher answers; receipts count in the coverage."""

from __future__ import annotations

import pytest

from bot.criteria.service import coverage
from tests.viber_support import ViberUser, ViberWorld

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio


async def join(world: ViberWorld, user: ViberUser, role: str) -> None:
    await user.open(world.invite(role))
    await user.press("Погоджуюсь")


async def test_publish_acknowledge_ask_and_answer_in_viber(viber: ViberWorld) -> None:
    teacher, parent = viber.user("u-teacher", "Олена Петрівна"), viber.user("u-parent", "Марія")
    await join(viber, teacher, "teacher")
    await join(viber, parent, "parent")

    await teacher.press("Критерії оцінювання")
    await teacher.press("Далі")
    await teacher.press("Математика")
    await teacher.press("Батькам")
    await teacher.send_text("Тематична: 12 балів — усе правильно й пояснено.")
    await teacher.press("Без файлу")
    assert "Отримувачів: 1" in teacher.last().text
    await teacher.press("Надіслати")

    notice = next(s for s in parent.seen() if "Предмет: Математика" in s.text)
    assert "Від: Олена Петрівна" in notice.text
    assert [b["Text"] for b in notice.buttons][:2] == ["✅ Зрозуміло", "❓ Маю питання"]
    await parent.press("Зрозуміло")
    assert "Дякуємо" in parent.last().text

    await parent.send_text(notice.buttons[1]["ActionBody"])  # ❓ on the notice message
    await parent.send_text("А самостійні теж так оцінюються?")
    assert "передано вчителю" in parent.last().text
    relay = teacher.last()
    assert "Від: Марія (батьки)" in relay.text and "самостійні" in relay.text
    await teacher.press("Відповісти")
    await teacher.send_text("Так, за тими самими критеріями.")
    assert "Відповідь: Так, за тими самими критеріями." in parent.last().text

    token = notice.token
    for event in ("delivered", "seen"):
        body = {"event": event, "timestamp": 1, "message_token": token, "user_id": "u-parent"}
        assert (await viber.post(body)).status_code == 200
    await viber.parts.adapter.drain()
    with viber.db.read() as session:
        (row,) = coverage(session)
    assert (row.recipients, row.delivered, row.seen, row.acknowledged) == (1, 1, 1, 1)
    assert (row.questions, row.answered) == (1, 1)
