"""The contract between the outbox sender (bot/delivery/outbox.py) and each channel's transport.

A transport knows one platform's send call and what its answers mean; the sender knows
pacing, retries, quiet hours and durability. Neither knows the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # network error, 5xx, 429: try again later (retry_after if known)
    UNREACHABLE = "unreachable"  # blocked / deactivated / unsubscribed: stop writing to them
    FAILED = "failed"  # a permanent error for this message (e.g. 400): record the reason


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row, as the transport needs it."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    kind: str
    urgent: bool
    attempts: int
    person_id: int | None = None
    notice_id: int | None = None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message_id: str = ""
    retry_after: float | None = None  # seconds, from the platform (429 retry_after)
    error: str = ""
    # The platform said we are too fast overall (not just for this chat): slow the channel.
    slow_down: bool = False
    # Messages the platform counted (a file and its text are two; a skipped echo edit none):
    # what a billed channel charges for.
    parts: int = 1


@dataclass(frozen=True)
class ChannelLimits:
    """Published platform limits the sender paces to."""

    per_second: float  # overall messages per second
    per_chat_interval: float  # minimum seconds between two messages to one private chat
    group_per_minute: int = 20  # per group chat (Telegram)
    batch_size: int = 1  # receivers per request (Viber broadcast_message: 300)
    # Messages one private chat may get back to back before per_chat_interval applies: an
    # answer's echo edit and the next question go out together instead of a second apart.
    per_chat_burst: int = 3


class Transport(Protocol):
    channel: str
    limits: ChannelLimits

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        """Send deliveries that share one payload (len <= limits.batch_size), one Result each."""
        ...

    def is_group(self, recipient: str) -> bool:
        """Whether the recipient is a group chat (paced per group, not per private chat)."""
        ...
