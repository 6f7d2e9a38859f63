"""Sending through the outbox to the fake Viber API: batching, statuses, retries, receipts."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.channels.viber.client import ViberClient
from bot.channels.viber.transport import ViberTransport
from bot.delivery.contract import Delivery, Outcome
from bot.engine.events import Button, Reply
from storage.models import Identity, Membership, Notice, NoticeDelivery, OutboxMessage, Person
from storage.repositories import receipts
from tests.fake_viber import FakeViber, Fault
from tests.viber_support import TOKEN, ViberWorld, enqueue_parent_notice

pytestmark = pytest.mark.anyio
pytest_plugins = ("tests.viber_fixtures",)

NOTICE = Reply(
    "📚 Критерії оцінювання: Математика, 7-А",
    buttons=((Button("✅ Ознайомлений(а)", "~s:1"),),),
)


def subscribers(world: ViberWorld, n: int, prefix: str = "s") -> list[str]:
    """n registered parents of 7-А with Viber identities, all subscribed in the fake."""
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    # The rows people.register and add_membership write, inserted in bulk: one by one, with
    # their lookups and flushes, 350 of them took most of a second.
    with world.db.write() as session:
        persons = [Person(display_name=i, language="uk", consent_at=world.clock()) for i in ids]
        session.add_all(persons)
        session.flush()
        for person, user_id in zip(persons, ids, strict=True):
            session.add(Identity(person_id=person.id, channel="viber", external_id=user_id))
            session.add(Membership(person_id=person.id, class_id=world.class_id, role="parent"))
    world.fake.subscribed.update(ids)
    return ids


def enqueue_notice(world: ViberWorld, key: str = "n1", notice_id: int | None = None) -> int:
    """The class-wide notice for every reachable parent of 7-А."""
    return enqueue_parent_notice(world.db, [world.class_id], NOTICE, key, world.clock(), notice_id)


def statuses(world: ViberWorld) -> dict[str, str]:
    with world.db.read() as session:
        rows = session.execute(select(OutboxMessage.recipient, OutboxMessage.status)).all()
    return {r[0]: r[1] for r in rows}


async def test_350_receivers_take_two_broadcast_requests(viber: ViberWorld) -> None:
    ids = subscribers(viber, 350)
    assert enqueue_notice(viber) == 350
    await viber.deliver()
    calls = viber.fake.calls("broadcast_message")
    assert sorted(len(c.body["broadcast_list"]) for c in calls) == [50, 300]
    assert viber.fake.calls("send_message") == []
    assert {s.receiver for s in viber.fake.shown} == set(ids)
    assert viber.fake.duplicates() == 0 and len(viber.fake.shown) == 350
    shown = viber.fake.shown[0]
    assert shown.text.startswith("📚 Критерії") and shown.labels == ["✅ Ознайомлений(а)"]
    assert set(statuses(viber).values()) == {"sent"}


async def test_unsubscribed_then_a_broadcast_skips_that_person(viber: ViberWorld) -> None:
    ids = subscribers(viber, 3)
    enqueue_notice(viber, key="early")  # queued before the user leaves
    response = await viber.post(
        {"event": "unsubscribed", "timestamp": 1, "user_id": ids[1], "message_token": 9}
    )
    assert response.status_code == 200
    await viber.parts.adapter.drain()
    viber.fake.subscribed.discard(ids[1])
    with viber.db.read() as session:
        gone = session.scalars(
            select(Identity.unreachable_at).where(Identity.external_id == ids[1])
        ).one()
    assert gone is not None
    assert statuses(viber)[ids[1]] == "dropped"  # queued messages dropped
    enqueue_notice(viber, key="later")  # a new broadcast does not include them
    await viber.deliver()
    assert {s.receiver for s in viber.fake.shown} == {ids[0], ids[2]}
    assert viber.fake.duplicates() == 0
    assert all(
        ids[1] not in c.body["broadcast_list"] for c in viber.fake.calls("broadcast_message")
    )


async def test_failed_list_entries_are_answered_one_by_one(viber: ViberWorld) -> None:
    ids = subscribers(viber, 5)
    viber.fake.inject(Fault("broadcast_message", receivers={ids[0]: 6, ids[1]: 12, ids[2]: 3}))
    enqueue_notice(viber)
    await viber.deliver()
    with viber.db.read() as session:
        rows = dict(session.execute(select(OutboxMessage.recipient, OutboxMessage.status)).all())
        unreachable = session.scalars(
            select(Identity.external_id).where(Identity.unreachable_at.is_not(None))
        ).all()
    assert unreachable == [ids[0]] and rows[ids[0]] == "failed"  # 6: not subscribed
    assert rows[ids[2]] == "failed"  # 3: a permanent error
    assert rows[ids[1]] == "sent"  # 12 for one user: tried again later, alone
    assert [s.receiver for s in viber.fake.shown].count(ids[1]) == 1
    assert viber.fake.duplicates() == 0
    # The retry went only to the one who was throttled: the others were never sent twice.
    retry = viber.fake.calls("send_message")
    assert [c.body["receiver"] for c in retry] == [ids[1]]


async def test_status_12_for_the_whole_request_backs_off_then_sends(viber: ViberWorld) -> None:
    ids = subscribers(viber, 4)
    viber.fake.inject(Fault("broadcast_message", status=12))
    enqueue_notice(viber)
    start = viber.clock()
    await viber.deliver()
    calls = viber.fake.calls("broadcast_message")
    assert [c.answer["status"] if c.answer else None for c in calls] == [12, 0]
    assert (viber.clock() - start).total_seconds() >= 10  # waited Viber's window
    assert sorted(s.receiver for s in viber.fake.shown) == ids
    assert viber.fake.duplicates() == 0


async def test_a_5xx_is_retried_with_backoff(viber: ViberWorld) -> None:
    ids = subscribers(viber, 2)
    viber.fake.inject(Fault("broadcast_message", http=503))
    start = viber.clock()
    enqueue_notice(viber)
    await viber.deliver()
    assert viber.fake.requests[0].http_status == 503
    assert (viber.clock() - start).total_seconds() >= 1  # backed off before trying again
    assert sorted(s.receiver for s in viber.fake.shown) == ids
    assert viber.fake.duplicates() == 0
    with viber.db.read() as session:
        rows = session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
    assert [tuple(r) for r in rows] == [("sent", 2), ("sent", 2)]


async def test_status_6_on_a_single_send_marks_the_person_unreachable(viber: ViberWorld) -> None:
    subscribers(viber, 1)
    viber.fake.subscribed.clear()  # left without Viber telling us
    enqueue_notice(viber)
    await viber.deliver()
    with viber.db.read() as session:
        assert session.scalars(select(Identity.unreachable_reason)).one() == (
            "viber status 6: notSubscribed"
        )
    assert viber.fake.shown == []


async def test_old_client_gets_the_numbered_text_without_keyboard(viber: ViberWorld) -> None:
    (user,) = subscribers(viber, 1)
    viber.fake.inject(Fault("send_message", status=13))
    enqueue_notice(viber)
    await viber.deliver()
    (shown,) = viber.fake.inbox(user)
    assert "keyboard" not in shown.body and "1) ✅ Ознайомлений(а)" in shown.text


async def test_a_slow_viber_is_a_timeout_and_a_retry(fake_viber: FakeViber) -> None:
    client = ViberClient(TOKEN, "Ліцей", base_url=fake_viber.url, timeout=(0.5, 0.3))
    transport = ViberTransport(client)
    fake_viber.subscribed.add("u1")
    fake_viber.inject(Fault("send_message", delay=1.0))
    delivery = Delivery(1, "viber", "u1", {"reply": Reply("Привіт").to_json()}, "reply", True, 1)
    try:
        (result,) = await transport.send_batch([delivery])
        assert result.outcome is Outcome.RETRY and "timed out" in result.error
        (result,) = await transport.send_batch([delivery])
        assert result.outcome is Outcome.SENT and result.message_id
    finally:
        client.close()


async def test_an_echo_edit_is_not_sent(fake_viber: FakeViber) -> None:
    client = ViberClient(TOKEN, "Ліцей", base_url=fake_viber.url)
    echo = Reply("1. Питання\n\nВаша відповідь: Так", edit_ref="m5")
    delivery = Delivery(1, "viber", "u1", {"reply": echo.to_json()}, "reply", True, 1)
    try:
        (result,) = await ViberTransport(client).send_batch([delivery])
    finally:
        client.close()
    assert result.outcome is Outcome.SENT and fake_viber.requests == []


async def test_delivered_and_seen_are_stored_for_notices(viber: ViberWorld) -> None:
    ids = subscribers(viber, 2)
    with viber.db.write() as session:
        notice = Notice(
            class_id=viber.class_id,
            subject="Математика",
            audience="parent",
            text="…",
            content_hash="h",
        )
        session.add(notice)
        session.flush()
        for person_id in (1, 2):
            session.add(NoticeDelivery(notice_id=notice.id, person_id=person_id, role="parent"))
        notice_id = notice.id
    enqueue_notice(viber, notice_id=notice_id)
    await viber.deliver()
    token = viber.fake.shown[0].token
    for event, user in (("delivered", ids[0]), ("seen", ids[0]), ("delivered", ids[1])):
        body = {"event": event, "timestamp": 1, "message_token": token, "user_id": user}
        assert (await viber.post(body)).status_code == 200
    await viber.parts.adapter.drain()
    with viber.db.read() as session:
        rows = session.execute(
            select(
                NoticeDelivery.person_id, NoticeDelivery.delivered_at, NoticeDelivery.seen_at
            ).order_by(NoticeDelivery.person_id)
        ).all()
    assert rows[0][1] is not None and rows[0][2] is not None
    assert rows[1][1] is not None and rows[1][2] is None


async def test_failed_callbacks_are_counted_once_and_logged_without_content(
    viber: ViberWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    body = {
        "event": "failed",
        "timestamp": 1,
        "message_token": 55,
        "user_id": "u1",
        "desc": "failure description",
    }
    for _ in range(2):  # Viber's retry of the same callback
        assert (await viber.post(body)).status_code == 200
        await viber.parts.adapter.drain()
    with viber.db.read() as session:
        assert receipts.counter(session, "viber", "failed") == 1
    assert "message 55 failed" in caplog.text
