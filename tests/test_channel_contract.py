"""Every channel keeps one contract: declared capabilities, a transport the outbox sender can
drive (channel, limits, send_batch, is_group), and, for the in-memory channel, a message that
goes from the outbox to the user's inbox."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.channels.capabilities import CAPABILITIES, capabilities, invite_links
from bot.channels.memory import MemoryChannel
from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Transport
from bot.delivery.outbox import OutboxSender
from bot.engine.events import Reply
from bot.settings import Settings
from storage.db import Database
from storage.repositories.outbox import NewMessage, enqueue_many


def memory_transport(db: Database, settings: Settings) -> Transport:
    return MemoryChannel(ChatService(db, settings))


def telegram_transport(db: Database, settings: Settings) -> Transport:
    from bot.channels.telegram.transport import TelegramTransport, build_bot

    return TelegramTransport(build_bot("123:abc", "http://127.0.0.1:9"))


def viber_transport(db: Database, settings: Settings) -> Transport:
    from bot.channels.viber.client import ViberClient
    from bot.channels.viber.transport import ViberTransport

    return ViberTransport(ViberClient("token", "bot", base_url="http://127.0.0.1:9/pa/"))


TRANSPORTS: dict[str, Callable[[Database, Settings], Transport]] = {
    "memory": memory_transport,
    "telegram": telegram_transport,
    "viber": viber_transport,
}


@pytest.mark.parametrize("name", sorted(TRANSPORTS))
def test_every_transport_keeps_the_sender_contract(
    name: str, db: Database, settings: Settings
) -> None:
    transport = TRANSPORTS[name](db, settings)
    assert transport.channel == name == capabilities(name).name
    assert isinstance(transport.limits, ChannelLimits) and transport.limits.per_second > 0
    assert transport.limits.batch_size >= 1
    assert inspect.iscoroutinefunction(transport.send_batch)
    assert transport.is_group("12345") is False


def test_every_outbox_channel_has_a_transport_here() -> None:
    outbox_channels = {name for name, c in CAPABILITIES.items() if c.through_outbox}
    assert outbox_channels <= set(TRANSPORTS)


def test_an_unknown_channel_gets_the_most_modest_capabilities() -> None:
    modest = capabilities("carrier-pigeon")
    assert not (modest.through_outbox or modest.sends_files or modest.edits_messages)


def test_invite_links_say_what_is_missing_instead_of_inventing_it() -> None:
    links = invite_links("abc", "", "")
    assert len(links.notes) == 2 and links.telegram == links.viber == links.for_qr == ""
    links = invite_links("abc", "@school_bot", "schoolbot")
    assert links.telegram == "https://t.me/school_bot?start=abc" and not links.notes
    assert links.for_qr == "viber://pa?chatURI=schoolbot&context=abc"


def test_the_memory_channel_receives_what_the_outbox_sends(
    db: Database, settings: Settings
) -> None:
    channel = MemoryChannel(ChatService(db, settings))
    now = datetime.now(UTC)
    with db.write() as session:
        enqueue_many(
            session,
            [
                NewMessage(
                    channel="memory",
                    recipient="anna",
                    payload={"reply": Reply("Привіт").to_json()},
                    idempotency_key="contract:1",
                )
            ],
            now,
        )
    sender = OutboxSender(db, {"memory": channel}, settings)
    asyncio.run(sender.run_once())
    assert [r.text for r in channel.user("anna").inbox] == ["Привіт"]
    result = asyncio.run(
        channel.send_batch(
            [Delivery(1, "memory", "bob", {"reply": Reply("Так").to_json()}, "reply", True, 0)]
        )
    )
    assert result[0].outcome is Outcome.SENT and channel.user("bob").last_text() == "Так"
