"""MemoryChannel: a real channel whose wire is a list. Tests, the demo and the console use it.

Like errbot's TestBackend: the service, engine and storage are production code; only the
transport is a list of replies, and button presses are made by label or number.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from bot.conversation.service import ChatService
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result
from bot.engine.events import Button, EventKind, FileRef, IncomingEvent, Reply
from bot.files.inbound import FileTooLarge


@dataclass
class MemoryUser:
    """One simulated messenger account and what it has been shown."""

    channel: MemoryChannel
    user_id: str
    display_name: str = ""
    inbox: list[Reply] = field(default_factory=list)
    # message ref -> reply, so presses on old messages can be simulated
    messages: dict[str, Reply] = field(default_factory=dict)
    last_ref: str = ""

    def _receive(self, replies: list[Reply]) -> list[Reply]:
        for reply in replies:
            if reply.edit_ref and reply.edit_ref in self.messages:
                self.messages[reply.edit_ref] = reply
                continue
            ref = f"m{next(self.channel.counter)}"
            self.messages[ref] = reply
            if reply.buttons:
                self.last_ref = ref
            self.inbox.append(reply)
        return replies

    def send(self, text: str) -> list[Reply]:
        event = IncomingEvent.from_text(
            self.channel.name, self.user_id, text, display_name=self.display_name
        )
        return self._receive(self.channel.service.handle(event))

    def send_file(self, name: str, data: bytes, mime: str = "text/csv") -> list[Reply]:
        """Send a document: the channel keeps its bytes, the event carries a reference."""
        ref = f"memfile{next(self.channel.counter)}"
        self.channel.files[ref] = data
        event = IncomingEvent(
            self.channel.name,
            self.user_id,
            EventKind.FILE,
            file=FileRef(name, mime, len(data), ref),
            display_name=self.display_name,
        )
        return self._receive(self.channel.service.handle(event))

    def press_payload(
        self, payload: str, ref: str | None = None, event_id: str = ""
    ) -> list[Reply]:
        event = IncomingEvent(
            self.channel.name,
            self.user_id,
            EventKind.BUTTON,
            payload=payload,
            display_name=self.display_name,
            message_ref=ref if ref is not None else self.last_ref,
            event_id=event_id,
        )
        return self._receive(self.channel.service.handle(event))

    def buttons(self, ref: str | None = None) -> list[Button]:
        reply = self.messages.get(ref or self.last_ref)
        return reply.flat_buttons() if reply else []

    def press(self, label: str, ref: str | None = None) -> list[Reply]:
        """Press the button whose label contains `label` on the last message with buttons."""
        for button in self.buttons(ref):
            if label in button.label and button.payload:
                return self.press_payload(button.payload, ref)
        shown = [b.label for b in self.buttons(ref)]
        raise LookupError(f"no button {label!r} among {shown}")

    def last_text(self) -> str:
        return self.inbox[-1].text if self.inbox else ""


class MemoryChannel:
    """A channel whose users are simulated, and an outbox `Transport` into their inboxes."""

    name: str
    limits = ChannelLimits(per_second=10_000, per_chat_interval=0.0, per_chat_burst=100)

    def __init__(self, service: ChatService, name: str = "memory") -> None:
        self.service = service
        self.name = name
        self.counter = itertools.count(1)
        self.users: dict[str, MemoryUser] = {}
        # Documents the simulated users sent, by reference, fetched as a messenger's would be.
        self.files: dict[str, bytes] = {}
        service.file_sources.setdefault(name, self.fetch_file)

    @property
    def channel(self) -> str:
        return self.name

    def is_group(self, recipient: str) -> bool:
        return recipient.startswith("group")  # simulated group chats are named so

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        """The outbox sender's call: each row lands in its user's inbox."""
        results = []
        for delivery in deliveries:
            reply = Reply.from_json(delivery.payload["reply"])
            results.append(
                Result(Outcome.SENT, message_id=await self.send(delivery.recipient, reply))
            )
        return results

    def fetch_file(self, ref: str, dest: Path, max_bytes: int) -> Path:
        """A sent document's bytes into `dest` (bot/files/inbound.py: FetchFile)."""
        data = self.files[ref]
        if len(data) > max_bytes:
            raise FileTooLarge(ref)
        dest.write_bytes(data)
        return dest

    def user(self, user_id: str, display_name: str = "") -> MemoryUser:
        if user_id not in self.users:
            self.users[user_id] = MemoryUser(self, user_id, display_name or user_id)
        return self.users[user_id]

    async def send(self, recipient: str, reply: Reply) -> str:
        """Outbox delivery into a simulated user's inbox."""
        self.user(recipient)._receive([reply])
        return self.user(recipient).last_ref
