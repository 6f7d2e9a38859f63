"""Viber's commercial model: sessions a subscriber opens by writing, every sent message counted
as free (inside a session) or paid (chatbot-initiated), the estimate before a broadcast, and the
monthly limit that stops one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.criteria.service import publish_notice
from bot.engine.events import Reply
from bot.settings import Settings
from bot.surveys.admin import WaveError, open_wave
from bot.usage.cost import estimate, usage_report
from storage.db import Database
from storage.repositories import usage as usage_repo
from tests.fake_viber import FakeViber
from tests.viber_support import ViberUser, ViberWorld, build_world, enqueue_parent_notice

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio


def month(world: ViberWorld) -> tuple[int, int]:
    with world.db.read() as session:
        report = usage_report(session, world.settings, world.clock())
    return report.month_session, report.month_initiated


async def join(world: ViberWorld, user: ViberUser, role: str = "parent") -> None:
    await user.open(world.invite(role))
    await user.press("Погоджуюсь")


async def notice(world: ViberWorld, key: str) -> None:
    reply = Reply(text=f"Оголошення {key}")
    enqueue_parent_notice(world.db, [world.class_id], reply, key, world.clock())
    await world.deliver()


async def test_a_session_opened_by_writing_makes_messages_free_for_24_hours(
    viber: ViberWorld,
) -> None:
    parent = viber.user("u-parent", "Марія")
    await parent.open(viber.invite("parent"))
    # The welcome is the answer to opening the chat: free, and it opens no session.
    assert month(viber) == (0, 0)
    await parent.press("Погоджуюсь")  # writing: a session for 24 hours
    free_replies, paid = month(viber)
    assert free_replies >= 1 and paid == 0

    viber.clock.advance(23 * 3600)
    await notice(viber, "a")  # inside the session
    assert month(viber) == (free_replies + 1, 0)

    viber.clock.advance(2 * 3600)  # 25 hours after the press: the session has ended
    await notice(viber, "b")
    assert month(viber) == (free_replies + 1, 1)
    assert "Оголошення b" in parent.last().text

    await parent.send_text("Дякую")  # the reply opens a new session
    sent = len(parent.seen())
    await notice(viber, "c")
    assert len(parent.seen()) == sent + 1
    session_count, paid = month(viber)
    assert paid == 1 and session_count > free_replies + 1


async def test_the_estimate_counts_who_is_outside_a_session(viber: ViberWorld) -> None:
    writers = [viber.user(f"u-{i}", f"Батько {i}") for i in range(3)]
    for user in writers:
        await join(viber, user)
    viber.clock.advance(30 * 3600)
    await writers[0].send_text("Добрий день")
    accounts = [("viber", u.user_id) for u in writers] + [("telegram", "42")]
    with viber.db.read() as session:
        cost = estimate(session, accounts, viber.clock(), viber.settings)
    assert (cost.paid, cost.free) == (2, 1)  # telegram is free and not counted
    assert cost.money() == "0.04 EUR"
    assert "2 paid (chatbot-initiated) messages" in cost.summary()


def limited(world: ViberWorld, limit: int) -> Settings:
    return world.settings.model_copy(update={"viber_monthly_limit": limit})


async def test_the_monthly_limit_stops_a_broadcast_and_says_why(viber: ViberWorld) -> None:
    parents = [viber.user(f"u-{i}", f"Мама {i}") for i in range(3)]
    for user in parents:
        await join(viber, user)
    viber.clock.advance(30 * 3600)  # every session has ended
    with viber.db.write() as session:
        day = viber.clock().astimezone(viber.settings.tz).date()
        usage_repo.add_usage(session, "viber", day, usage_repo.INITIATED, 8)

    # survey open: three invitations would pass 10 with 8 used
    with pytest.raises(WaveError) as refused, viber.db.write() as session:
        open_wave(session, viber.wave_id, viber.clock(), settings=limited(viber, 10))
    assert "needs 3 paid Viber messages" in str(refused.value)
    assert "8 of the monthly limit of 10 are used (2 left)" in str(refused.value)
    assert "VIBER_MONTHLY_LIMIT" in str(refused.value)

    # criteria publish from the CLI: one clear line, nothing queued
    app = AppContext(settings=limited(viber, 10), clock=viber.clock)
    args = ["criteria", "publish", "--class", "7-А", "--subject", "Математика", "--audience"]
    args += ["parents", "--text", "12 балів"]
    result = CliRunner().invoke(main, args, obj=app)
    assert result.exit_code == 1
    assert "nothing sent" in result.output and "needs 3 paid Viber messages" in result.output
    await viber.deliver()
    assert not any("12 балів" in s.text for p in parents for s in p.seen())

    # with room under the limit the same publish goes, and the CLI says what it costs
    app = AppContext(settings=limited(viber, 11), clock=viber.clock)
    result = CliRunner().invoke(main, args, obj=app)
    assert result.exit_code == 0, result.output
    assert "Viber: 3 paid (chatbot-initiated) messages, about 0.06 EUR" in result.output
    await viber.deliver()
    assert all("12 балів" in p.last().text for p in parents)

    # replies inside a session are never stopped, even over the limit
    await parents[0].send_text("/menu")
    assert "12 балів" not in parents[0].last().text


async def test_the_criteria_preview_shows_the_cost_and_refuses_over_the_limit(
    fake_viber: FakeViber, db: Database, settings: Settings, now: datetime
) -> None:
    world = build_world(fake_viber, db, settings.model_copy(update={"viber_monthly_limit": 1}), now)
    try:
        teacher = world.user("u-teacher", "Олена Петрівна")
        await join(world, teacher, "teacher")
        for i in range(2):
            await join(world, world.user(f"u-p{i}", f"Мама {i}"))
        world.clock.advance(30 * 3600)
        await teacher.press("Критерії оцінювання")
        await teacher.press("Далі")
        await teacher.press("Математика")
        await teacher.press("Батькам")
        await teacher.send_text("Тематична: 12 балів.")
        await teacher.press("Без файлу")
        preview = teacher.last()
        assert "Viber: платних повідомлень — 2 (≈ 0.04 EUR)" in preview.text
        assert "⛔ Не надіслано" in preview.text and "ліміту 1" in preview.text
        assert not any("Надіслати" in label for label in preview.labels)
        # a typed or stale "send" does not get past the limit either
        with world.db.write() as session, pytest.raises(Exception) as refused:
            publish_notice(
                session,
                class_ids=[world.class_id],
                subject="Математика",
                audience="parents",
                text="x",
                file=None,
                author_id=None,
                now=world.clock(),
                settings=world.settings.model_copy(update={"viber_monthly_limit": 1}),
            )
        assert getattr(refused.value, "key", "") == "cr_over_limit"
    finally:
        world.parts.client.close()


async def test_viber_usage_command(viber: ViberWorld) -> None:
    parent = viber.user("u-parent", "Марія")
    await join(viber, parent)
    viber.clock.advance(30 * 3600)
    await notice(viber, "x")
    app = AppContext(settings=viber.settings, clock=viber.clock)
    result = CliRunner().invoke(main, ["viber", "usage"], obj=app)
    assert result.exit_code == 0, result.output
    day = viber.clock().astimezone(viber.settings.tz).date().isoformat()
    (row,) = [line for line in result.output.splitlines() if line.startswith(day)]
    assert row.split()[2] == "1"  # one paid: the notice
    assert "1 paid, about 0.02 EUR" in result.output
    start = (viber.clock() - timedelta(hours=30)).astimezone(viber.settings.tz).date().isoformat()
    assert start in result.output  # the replies of joining, free, on their own day
