"""Survey reminders in Viber spend as few paid messages as they can: at most one per family and
wave, at the hour the family last wrote (else 18:00), inside an open session at once (free),
and never to a family that answered while its reminder waited for the hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.schedule.jobs import queue_survey_reminders
from storage.models import MessengerSession, OutboxMessage
from tests.viber_support import ViberUser, ViberWorld

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio

REMINDER = "⏰ Нагадування"


async def join(world: ViberWorld, user_id: str) -> ViberUser:
    user = world.user(user_id, "Батьки")
    await user.open(world.invite("parent"))
    await user.press("Погоджуюсь")
    return user


def reminders_of(user: ViberUser) -> int:
    return sum(REMINDER in text for text in user.texts())


def due_times(world: ViberWorld) -> dict[str, datetime]:
    with world.db.read() as session:
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.next_attempt_at).where(
                OutboxMessage.kind == "reminder", OutboxMessage.status == "pending"
            )
        ).all()
    return {r: at.replace(tzinfo=UTC) if at.tzinfo is None else at for r, at in rows}


async def answer(user: ViberUser) -> None:
    await user.send_text("/menu")
    await user.press("Анкета")
    for label in ("Так, завжди", "Іноді", "з сайту школи", "Готово", "Частково", "Зовсім ні"):
        await user.press(label)
    await user.send_text("2")
    await user.press("Пропустити")
    await user.press("Надіслати")
    assert "Дякуємо! Ваші відповіді збережено" in user.texts()[-2] + user.texts()[-1]


async def answer_now(world: ViberWorld, user: ViberUser) -> None:
    """Answer without the clock jumping to the rows due later (ViberWorld.deliver does)."""

    async def due_now(max_rounds: int = 200) -> None:
        await world.parts.adapter.drain()
        for _ in range(max_rounds):
            if await world.sender.run_once() == 0:
                due = world.next_due()
                if due is None or due > world.clock() + timedelta(minutes=1):
                    return  # what waits for a later hour stays waiting
                world.clock.now = max(world.clock.now, due) + timedelta(milliseconds=1)

    world.deliver = due_now  # type: ignore[method-assign]
    try:
        await answer(user)
    finally:
        del world.deliver


async def test_one_reminder_at_the_familys_hour_and_none_after_they_answered(
    viber: ViberWorld,
) -> None:
    # 2026-03-02 10:00 UTC is 12:00 in Kyiv: two families write then, a third at 17:30.
    noon_a, noon_b = await join(viber, "u-a"), await join(viber, "u-b")
    viber.clock.advance(5.5 * 3600)
    evening = await join(viber, "u-c")
    viber.clock.now = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # 13:00 in Kyiv, sessions over

    assert queue_survey_reminders(viber.db, viber.settings, viber.clock()) == 3
    assert due_times(viber) == {
        "u-a": datetime(2026, 3, 5, 10, 0, tzinfo=UTC),  # 12:00 tomorrow: today's has passed
        "u-b": datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
        "u-c": datetime(2026, 3, 4, 15, 0, tzinfo=UTC),  # 17:00 today
    }
    await viber.sender.run_once()
    assert [reminders_of(u) for u in (noon_a, noon_b, evening)] == [0, 0, 0]

    viber.clock.advance(1800)
    await answer_now(viber, noon_b)  # answers before the hour: the waiting reminder is dropped
    await viber.deliver()
    assert [reminders_of(u) for u in (noon_a, noon_b, evening)] == [1, 0, 1]

    # SURVEY_REMINDER_MAX is 2, but a paid channel gets one reminder per wave.
    viber.clock.now = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)
    assert queue_survey_reminders(viber.db, viber.settings, viber.clock()) == 0
    await viber.deliver()
    assert [reminders_of(u) for u in (noon_a, noon_b, evening)] == [1, 0, 1]


async def test_a_reminder_inside_an_open_session_goes_at_once(viber: ViberWorld) -> None:
    family = await join(viber, "u-a")
    viber.clock.now = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    await family.send_text("/menu")  # they write: a free session is open now
    assert queue_survey_reminders(viber.db, viber.settings, viber.clock()) == 1
    assert due_times(viber)["u-a"] <= viber.clock()
    await viber.sender.run_once()
    assert reminders_of(family) == 1


async def test_a_family_never_seen_is_reminded_at_six_in_the_evening(viber: ViberWorld) -> None:
    family = await join(viber, "u-a")
    with viber.db.write() as session:  # as if their last message were long forgotten
        session.execute(delete(MessengerSession))
    viber.clock.now = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)  # 19:00 in Kyiv: 18:00 passed
    assert queue_survey_reminders(viber.db, viber.settings, viber.clock()) == 1
    assert due_times(viber)["u-a"] == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    assert reminders_of(family) == 0
