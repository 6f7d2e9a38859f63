"""The webhook route: hostile or broken callbacks are refused before anything is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.viber.webhook import MAX_BODY, SIGNATURE_HEADER, sign, signature_ok
from storage.models import Conversation, Identity, OutboxMessage, ProcessedEvent
from tests.viber_support import TOKEN, ViberWorld

pytestmark = pytest.mark.anyio
pytest_plugins = ("tests.viber_fixtures",)


def stored(world: ViberWorld) -> int:
    with world.db.read() as session:
        return sum(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Conversation, ProcessedEvent, OutboxMessage)
        )


def message(user: str = "u1", text: str = "/start") -> bytes:
    body = {
        "event": "message",
        "timestamp": 1,
        "message_token": 42,
        "sender": {"id": user, "name": "X"},
        "message": {"type": "text", "text": text},
    }
    return json.dumps(body).encode()


async def test_a_correctly_signed_message_is_processed(viber: ViberWorld) -> None:
    raw = message()
    response = await viber.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})
    await viber.parts.adapter.drain()
    assert response.status_code == 200
    assert stored(viber) > 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: ""},
        {SIGNATURE_HEADER: "0" * 64},
        {SIGNATURE_HEADER: sign(b"another-token", message())},
        {SIGNATURE_HEADER: ("é" * 64).encode("latin-1")},
    ],
    ids=["missing", "empty", "zeros", "other-key", "non-ascii"],
)
async def test_bad_or_missing_signature_is_403(
    viber: ViberWorld, headers: dict[str, str | bytes]
) -> None:
    response = await viber.post_raw(message(), headers)
    await viber.parts.adapter.drain()
    assert response.status_code == 403
    assert stored(viber) == 0


async def test_a_signature_of_another_body_is_403(viber: ViberWorld) -> None:
    signature = sign(TOKEN.encode(), message(text="hello"))
    response = await viber.post_raw(message(text="/start"), {SIGNATURE_HEADER: signature})
    assert response.status_code == 403 and stored(viber) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        b'{"event": 5}',
        b'{"event": "message", "timestamp": 1}',
        b'{"event": "message", "timestamp": 1, "message_token": 1, "sender": {"id": 7},'
        b' "message": {"type": "text", "text": "x"}}',
        "\xff\xfe".encode("latin-1"),
    ],
    ids=["broken", "list", "event-type", "no-sender", "numeric-user", "not-utf8"],
)
async def test_malformed_json_is_400_and_nothing_stored(viber: ViberWorld, raw: bytes) -> None:
    response = await viber.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})
    await viber.parts.adapter.drain()
    assert response.status_code == 400
    assert stored(viber) == 0


async def test_oversized_body_is_413_before_the_signature(viber: ViberWorld) -> None:
    raw = message(text="x" * (MAX_BODY + 1))
    response = await viber.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})
    assert response.status_code == 413
    assert stored(viber) == 0


async def test_unknown_events_are_ignored_with_a_warning(
    viber: ViberWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for event in ("client_status", "bot_poll_vote", "webhook"):
        response = await viber.post({"event": event, "timestamp": 1, "message_token": 1})
        assert response.status_code == 200
    assert "unknown event 'bot_poll_vote'" in caplog.text
    assert stored(viber) == 0


def test_signature_check_is_constant_time_and_strict() -> None:
    raw = b'{"event":"webhook"}'
    good = sign(b"key", raw)
    assert signature_ok(b"key", raw, good)
    assert signature_ok(b"key", raw, good.upper())  # hex digits in either case
    assert not signature_ok(b"key", raw, good[:-1])
    assert not signature_ok(b"", raw, good)
    assert not signature_ok(b"key", raw, None)


async def test_too_many_pending_callbacks_ask_viber_to_retry(viber: ViberWorld) -> None:
    viber.parts.adapter.max_pending = 0
    raw = message()
    response = await viber.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})
    assert response.status_code == 503 and stored(viber) == 0


async def test_subscribed_after_unsubscribed_makes_the_person_reachable(
    viber: ViberWorld,
) -> None:
    user = viber.user("u-back")
    await user.open(viber.invite())
    await user.press("Погоджуюсь")
    for event in ("unsubscribed", "subscribed"):
        body: dict[str, Any] = {
            "event": event,
            "timestamp": 1,
            "user_id": "u-back",
            "message_token": 3,
        }
        if event == "subscribed":
            body = {"event": event, "timestamp": 1, "user": user.sender(), "message_token": 4}
        assert (await viber.post(body)).status_code == 200
        await viber.parts.adapter.drain()
        with viber.db.read() as session:
            gone = session.scalar(select(Identity.unreachable_at))
        assert (gone is None) is (event == "subscribed")


async def test_a_processed_message_wakes_the_outbox_sender(viber: ViberWorld) -> None:
    woken: list[int] = []
    viber.parts.adapter.wake = lambda: woken.append(1)
    raw = message()
    await viber.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})
    await viber.parts.adapter.drain()
    assert woken == [1]


async def test_a_hostile_invite_context_gets_a_polite_welcome(viber: ViberWorld) -> None:
    body = {
        "event": "conversation_started",
        "timestamp": 1,
        "message_token": 8,
        "type": "open",
        "context": "<b>" + "x" * 5000,
        "user": {"id": "u-h", "name": "<script>"},
    }
    response = await viber.post(body)
    assert response.status_code == 200
    assert "keyboard" not in response.json()  # no consent question for an unknown code
