"""Benchmark: one class-wide notice to N Viber subscribers through the fake Viber REST API.

Real outbox sender, real pacing, real viberbot over HTTP to tests/fake_viber.py on 127.0.0.1.
Prints requests made (target ceil(N/300)), seconds, duplicates (target 0) and status-12 answers
(target 0). Then simulates a survey wave in Viber (families join, one invitation each, they
answer through keyboards) and prints the messages Viber charges per completed survey. Last, a
wave as Viber bills it (300 families, 70 % answer, the reminder job run twice, one criteria
notice): paid (chatbot-initiated) and free messages against the naive count where every message
is paid.

    .venv/bin/python scripts/bench/viber_broadcast.py [--subscribers 10000] [--families 10]
        [--wave-families 300] [--answer-rate 0.7]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.channels.viber.setup import build_viber  # noqa: E402
from bot.delivery.outbox import OutboxSender  # noqa: E402
from bot.engine.buttons import ButtonKind, encode  # noqa: E402
from bot.engine.events import Button, Reply  # noqa: E402
from bot.schedule.jobs import queue_survey_reminders  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.usage.cost import estimate, usage_report  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Identity, Membership, Person  # noqa: E402
from storage.repositories import school  # noqa: E402
from storage.repositories.outbox import NewMessage, enqueue_many  # noqa: E402
from tests.fake_viber import FakeViber  # noqa: E402
from tests.viber_support import (  # noqa: E402
    TOKEN,
    ViberWorld,
    build_world,
    enqueue_parent_notice,
)

NOTICE = Reply(
    "📚 Критерії оцінювання: Математика, 7-А. Відкрийте, щоб ознайомитися.",
    buttons=((Button("✅ Ознайомлений(а)", "~s:1"),),),
)


def _settings(db_url: str, fake: FakeViber, data: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=db_url,
        data_dir=data,
        quiet_hours="",
        viber_auth_token=TOKEN,
        viber_api_base_url=fake.url,
    )


def _subscribers(db: Database, n: int, now: datetime) -> list[str]:
    """n parents of one class with Viber identities, inserted in bulk."""
    ids = [f"viber-user-{i:06d}" for i in range(n)]
    with db.write() as session:
        (klass,) = school.add_classes(session, "Гімназія", ["7-А"])
        first = (session.scalar(select(Person.id).order_by(Person.id.desc())) or 0) + 1
        person_ids = list(range(first, first + n))
        session.execute(
            insert(Person),
            [
                {"id": p, "display_name": f"P{p}", "language": "uk", "consent_at": now}
                for p in person_ids
            ],
        )
        session.execute(
            insert(Identity),
            [
                {"person_id": p, "channel": "viber", "external_id": u}
                for p, u in zip(person_ids, ids, strict=True)
            ],
        )
        session.execute(
            insert(Membership),
            [{"person_id": p, "class_id": klass.id, "role": "parent"} for p in person_ids],
        )
    return ids


def _enqueue_notice(db: Database, now: datetime) -> int:
    with db.read() as session:
        class_ids = [c.id for c in school.list_classes(session)]
    return enqueue_parent_notice(db, class_ids, NOTICE, "bench-notice", now)


async def broadcast(subscribers: int, workdir: Path) -> dict[str, float | int]:
    fake = FakeViber(TOKEN).start()
    db_url = f"sqlite:///{workdir / 'broadcast.db'}"
    upgrade(db_url)
    db = Database(db_url)
    settings = _settings(db_url, fake, workdir)
    now = datetime.now(UTC)
    fake.subscribed.update(_subscribers(db, subscribers, now))
    queued = _enqueue_notice(db, now)
    parts = build_viber(settings, db)
    sender = OutboxSender(db, {"viber": parts.transport}, settings)
    started = time.perf_counter()
    while await sender.run_once():
        pass
    seconds = time.perf_counter() - started
    await parts.stop()
    receivers = [s.receiver for s in fake.shown]
    result: dict[str, float | int] = {
        "queued": queued,
        "requests": len(fake.calls("broadcast_message")) + len(fake.calls("send_message")),
        "target": math.ceil(subscribers / 300),
        "seconds": round(seconds, 2),
        "delivered": len(set(receivers)),
        "duplicates": len(receivers) - len(set(receivers)) + fake.duplicates(),
        "status12": fake.status12,
    }
    fake.stop()
    db.dispose()
    return result


async def survey_wave(families: int, workdir: Path) -> dict[str, float | int]:
    """Families join in Viber, get one invitation each, and complete the parents' survey."""
    fake = FakeViber(TOKEN).start()
    db_url = f"sqlite:///{workdir / 'wave.db'}"
    upgrade(db_url)
    db = Database(db_url)
    world: ViberWorld = build_world(fake, db, _settings(db_url, fake, workdir), datetime.now(UTC))
    users = [world.user(f"family-{i:03d}", f"Батьки {i}") for i in range(families)]
    for user in users:
        await user.open(world.invite())
        await user.press("Погоджуюсь")
    joined = len(fake.shown)
    invitation = Reply(
        "Нове опитування: «Анкета для батьків». Відповіді анонімні.",
        buttons=((Button("📝 Пройти анкету", encode(ButtonKind.START_SURVEY, world.wave_id)),),),
    )
    with db.write() as session:
        enqueue_many(
            session,
            [
                NewMessage(
                    "viber",
                    u.user_id,
                    {"reply": invitation.to_json()},
                    f"invite:{world.wave_id}:{u.user_id}",
                    kind="invitation",
                    urgent=False,
                )
                for u in users
            ],
            world.clock(),
        )
    await world.deliver()
    for n, user in enumerate(users):
        await user.press("Пройти анкету")
        await user.press("Так, завжди")
        await user.press("Іноді")
        await user.press("з сайту школи")
        await user.press("Готово")
        await user.press("Частково")
        await user.press("Зовсім ні")
        await user.send_text(str(1 + n % 4))  # q7 typed as a number
        if n % 2:
            await user.send_text("Дякуємо вчителям")
        else:
            await user.press("Пропустити")
        await user.press("Надіслати")
    completed = sum("Дякуємо! Ваші відповіді збережено" in " ".join(u.texts()) for u in users)
    sent = len(fake.shown) - joined
    await world.parts.stop()
    fake.stop()
    db.dispose()
    return {
        "families": families,
        "completed": completed,
        "join_messages_per_family": round(joined / families, 2),  # + 1 free welcome each
        "wave_messages": sent,
        "per_completed_survey": round(sent / max(completed, 1), 2),
        "requests": len(fake.requests),
    }


def _families(db: Database, class_id: int, n: int, now: datetime) -> list[str]:
    """n parents who joined weeks ago: subscribed, but no session open."""
    ids = [f"family-{i:04d}" for i in range(n)]
    with db.write() as session:
        first = (session.scalar(select(Person.id).order_by(Person.id.desc())) or 0) + 1
        person_ids = list(range(first, first + n))
        session.execute(
            insert(Person),
            [
                {"id": p, "display_name": f"P{p}", "language": "uk", "consent_at": now}
                for p in person_ids
            ],
        )
        session.execute(
            insert(Identity),
            [
                {"person_id": p, "channel": "viber", "external_id": u}
                for p, u in zip(person_ids, ids, strict=True)
            ],
        )
        session.execute(
            insert(Membership),
            [{"person_id": p, "class_id": class_id, "role": "parent"} for p in person_ids],
        )
    return ids


def _queue(db: Database, ids: list[str], reply: Reply, key: str, now: datetime) -> None:
    with db.write() as session:
        enqueue_many(
            session,
            [
                NewMessage("viber", u, {"reply": reply.to_json()}, f"{key}:{u}", urgent=False)
                for u in ids
            ],
            now,
        )


async def billing_wave(families: int, answer_rate: float, workdir: Path) -> dict[str, float]:
    """A survey wave as Viber bills it: invitations to every family (who joined weeks ago), 70 %
    answer at once, one reminder two days later to the rest, a criteria notice on day 5. Every
    message is classified when sent (session = free, chatbot-initiated = paid)."""
    fake = FakeViber(TOKEN).start()
    db_url = f"sqlite:///{workdir / 'billing.db'}"
    upgrade(db_url)
    db = Database(db_url)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a fake clock; one month holds the wave
    settings = _settings(db_url, fake, workdir).model_copy(update={"quiet_hours": "21:00-08:00"})
    world: ViberWorld = build_world(fake, db, settings, start)
    ids = _families(db, world.class_id, families, start)
    fake.subscribed.update(ids)
    with db.read() as session:
        before = estimate(session, [("viber", u) for u in ids], world.clock(), world.settings)
    invitation = Reply(
        "Нове опитування: «Анкета для батьків». Відповіді анонімні.",
        buttons=((Button("📝 Пройти анкету", encode(ButtonKind.START_SURVEY, world.wave_id)),),),
    )
    _queue(db, ids, invitation, "inv", world.clock())
    await world.deliver()
    answering = ids[: round(families * answer_rate)]
    for n, user_id in enumerate(answering):
        user = world.user(user_id, "Батьки")
        await user.press("Пройти анкету")
        for label in ("Так, завжди", "Іноді", "з сайту школи", "Готово", "Частково", "Зовсім ні"):
            await user.press(label)
        await user.send_text(str(1 + n % 4))
        await user.press("Пропустити")
        await user.press("Надіслати")
    # The reminder job (SURVEY_REMINDER_MAX=2, every 2 days), as the scheduler runs it: Viber
    # families get one reminder, at their best hour; half of them answer it in its session.
    reminders_before = len(fake.shown)
    world.clock.advance(2 * 86400)
    queued = queue_survey_reminders(db, world.settings, world.clock())
    await world.deliver()
    late = ids[len(answering) :][: (families - len(answering)) // 2]
    for n, user_id in enumerate(late):
        user = world.user(user_id, "Батьки")
        await user.press("Пройти")  # the reminder's button
        for label in ("Так, завжди", "Іноді", "з сайту школи", "Готово", "Частково", "Зовсім ні"):
            await user.press(label)
        await user.send_text(str(1 + n % 4))
        await user.press("Пропустити")
        await user.press("Надіслати")
    world.clock.now = start + timedelta(days=4, hours=1)
    queued += queue_survey_reminders(db, world.settings, world.clock())  # Viber: none
    await world.deliver()
    reminders = sum(
        "Нагадування" in s.text for s in fake.shown[reminders_before:] if s.receiver in ids
    )
    world.clock.now = start + timedelta(days=5)  # the criteria notice of the week
    enqueue_parent_notice(db, [world.class_id], NOTICE, "notice", world.clock())
    await world.deliver()
    with db.read() as session:
        report = usage_report(session, world.settings, world.clock())
    sent = len(fake.shown)
    await world.parts.stop()
    fake.stop()
    db.dispose()
    paid, free = report.month_initiated, report.month_session
    return {
        "families": families,
        "answered": len(answering),
        "answered_after_reminder": len(late),
        "reminders_queued": queued,
        "reminders": reminders,
        "estimate_invitations": before.paid,
        "sent": sent,
        "paid": paid,
        "free": free,
        "naive_paid": paid + free,
        "paid_per_family": round(paid / families, 2),
        "cost": round(paid * world.settings.viber_price_per_message, 2),
        "naive_cost": round((paid + free) * world.settings.viber_price_per_message, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--families", type=int, default=10)
    parser.add_argument("--wave-families", type=int, default=300)
    parser.add_argument("--answer-rate", type=float, default=0.7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        b = asyncio.run(broadcast(args.subscribers, Path(tmp)))
        print(f"subscribers:        {args.subscribers}")
        print(f"requests made:      {b['requests']} (target {b['target']})")
        print(f"seconds:            {b['seconds']}")
        print(f"delivered:          {b['delivered']}")
        print(f"duplicates:         {b['duplicates']} (target 0)")
        print(f"status-12 answers:  {b['status12']} (target 0)")
        w = asyncio.run(survey_wave(args.families, Path(tmp)))
        print(f"wave: {w['completed']}/{w['families']} families completed the parents' survey")
        print(f"  joining: {w['join_messages_per_family']} messages per family + the welcome")
        print(
            f"  messages sent per completed survey: {w['per_completed_survey']} "
            "(invitation + intro + questions + review + thanks + menu)"
        )
        c = asyncio.run(billing_wave(args.wave_families, args.answer_rate, Path(tmp)))
        print(
            f"billing: a wave to {c['families']} families, {c['answered']} answer "
            f"(estimate before sending the invitations: {c['estimate_invitations']} paid)"
        )
        print(
            f"  reminders:           {c['reminders']} to {c['families'] - c['answered']} "
            f"families who had not answered (one each, at their hour); "
            f"{c['answered_after_reminder']} then answered"
        )
        print(f"  messages sent:       {c['sent']}")
        print(f"  paid (initiated):    {c['paid']} = {c['paid_per_family']} per family (goal <= 3)")
        print(f"  free (in a session): {c['free']}")
        ratio = c["paid"] / max(c["naive_paid"], 1)
        print(f"  naive (all paid):    {c['naive_paid']}; ratio paid/naive {ratio:.2f}")
        print(f"  cost at the price:   {c['cost']} vs naive {c['naive_cost']}")


if __name__ == "__main__":
    main()
