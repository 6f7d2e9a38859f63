"""ViberTransport: the outbox sender's view of Viber (the contract: bot/delivery/contract.py).

One delivery -> `send_message`; several with one payload -> `broadcast_message` (300 receivers a
request, each `failed_list` entry answered on its own). What Viber's answers mean:
- status 5/6 (not registered / not subscribed): UNREACHABLE, stop writing to them;
- status 12 (too many requests): RETRY; for the whole request also `slow_down`;
- status 13/14 (client too old for the keyboard): sent again at once as plain numbered text;
- account-level trouble (bad token, no webhook, no balance): RETRY later, nothing is lost;
- timeouts, network errors, HTTP 5xx/429: RETRY with the sender's backoff;
- anything else: FAILED with the reason.
Viber charges per message, so a receiver is never in one request twice, and receivers that
were sent to are never part of a retry.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from bot.channels.keyed_locks import KeyedLocks
from bot.channels.viber.client import (
    BROADCAST_MAX,
    ViberApiError,
    ViberClient,
    ViberError,
    ViberHttpError,
)
from bot.channels.viber.keyboard import Media, Rendered, render
from bot.delivery.contract import ChannelLimits, Delivery, Outcome, Result
from bot.engine.events import Reply

logger = logging.getLogger(__name__)

UNSUBSCRIBED = frozenset({5, 6})
TOO_MANY = 12
OLD_CLIENT = frozenset({11, 13, 14})
ACCOUNT_TROUBLE = frozenset({2, 7, 8, 9, 10, 15, 23, 24})
PER_USER_RETRY = 600.0  # ~100 messages an hour to one user: wait a good part of it
WINDOW_RETRY = 10.0  # 500 requests per 10 s overall
ACCOUNT_RETRY = 300.0


def _status_result(status: int, message: str, whole_request: bool) -> Result:
    error = f"viber status {status}: {message}"[:200]
    if status in UNSUBSCRIBED:
        return Result(Outcome.UNREACHABLE, error=error)
    if status == TOO_MANY:
        retry = WINDOW_RETRY if whole_request else PER_USER_RETRY
        return Result(Outcome.RETRY, retry_after=retry, error=error, slow_down=whole_request)
    if status in ACCOUNT_TROUBLE:
        return Result(Outcome.RETRY, retry_after=ACCOUNT_RETRY, error=error)
    return Result(Outcome.FAILED, error=error)


def _error_result(exc: ViberError) -> Result:
    if isinstance(exc, ViberApiError):
        return _status_result(exc.status, exc.status_message, whole_request=True)
    if isinstance(exc, ViberHttpError):
        code = exc.http_status
        if code == 429:
            return Result(Outcome.RETRY, retry_after=WINDOW_RETRY, error=str(exc), slow_down=True)
        if code >= 500 or code in (408, 409):
            return Result(Outcome.RETRY, error=str(exc))
        return Result(Outcome.FAILED, error=str(exc))
    return Result(Outcome.RETRY, error=str(exc))  # timeout, network


def _plain(rendered: Rendered) -> Rendered:
    """The same message without a keyboard: numbered text any client can answer."""
    return Rendered(rendered.text, None, rendered.tracking_data, rendered.media)


def reply_of(payload: dict[str, Any]) -> Reply | None:
    raw = payload.get("reply")
    if not isinstance(raw, dict):
        return None
    try:
        return Reply.from_json(raw)
    except (KeyError, TypeError):
        return None


class ViberTransport:
    channel = "viber"
    # 500 requests / 10 s published; a little below it. No per-chat rate is published:
    # a short gap keeps a burst of replies to one user in order without slowing surveys.
    limits = ChannelLimits(per_second=45.0, per_chat_interval=0.3, batch_size=BROADCAST_MAX)

    def __init__(self, client: ViberClient) -> None:
        self.client = client
        # The sender may start two batches for one user at once; Viber shows the keyboard of
        # the latest message only, so they must arrive in the order they were started.
        self._chats = KeyedLocks()

    def is_group(self, recipient: str) -> bool:
        return False  # Viber bots talk 1:1 only

    async def send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        async with self._chats.hold(d.recipient for d in deliveries):
            return await self._send_batch(deliveries)

    async def _send_batch(self, deliveries: list[Delivery]) -> list[Result]:
        results: dict[int, Result] = {}
        groups: dict[str, list[Delivery]] = {}
        for d in deliveries:  # the sender groups by payload; do not rely on it for billing
            groups.setdefault(json.dumps(d.payload, sort_keys=True), []).append(d)
        for group in groups.values():
            results.update(await self._send_group(group))
        return [results[d.id] for d in deliveries]

    async def _send_group(self, group: list[Delivery]) -> dict[int, Result]:
        reply = reply_of(group[0].payload)
        if reply is None:
            return {d.id: Result(Outcome.FAILED, error="no reply in payload") for d in group}
        rendered = render(reply)
        if rendered is None:  # an echo edit: Viber cannot edit, and it would cost a message
            return {d.id: Result(Outcome.SENT, parts=0) for d in group}
        receivers = list(dict.fromkeys(d.recipient for d in group))  # once each, in order
        by_receiver: dict[str, Result] = {}
        if rendered.media is not None:
            # The picture or file first, then the text with the keyboard (Viber shows the
            # keyboard of the latest message). Whoever did not get the file gets no text yet:
            # the retry sends both.
            got_media = await self._media(receivers, rendered.media)
            failed = {r: res for r, res in got_media.items() if res.outcome is not Outcome.SENT}
            by_receiver.update(failed)
            receivers = [r for r in receivers if r not in by_receiver]
        for start in range(0, len(receivers), BROADCAST_MAX):
            chunk = receivers[start : start + BROADCAST_MAX]
            if len(chunk) == 1:
                by_receiver[chunk[0]] = await self._send_one(chunk[0], rendered)
            else:
                by_receiver.update(await self._broadcast(chunk, rendered))
            if rendered.media is not None:
                for r in chunk:  # two messages each: the file and the text
                    by_receiver[r] = replace(by_receiver[r], parts=2)
        return {d.id: by_receiver[d.recipient] for d in group}

    async def _media(self, receivers: list[str], media: Media) -> dict[str, Result]:
        results: dict[str, Result] = {}
        for start in range(0, len(receivers), BROADCAST_MAX):
            chunk = receivers[start : start + BROADCAST_MAX]
            try:
                if len(chunk) == 1:
                    token = await self.client.send_media(chunk[0], media)
                    results[chunk[0]] = Result(Outcome.SENT, message_id=token)
                    continue
                answer = await self.client.broadcast_media(chunk, media)
            except ViberError as exc:
                results.update(dict.fromkeys(chunk, _error_result(exc)))
                continue
            for receiver in chunk:
                failure = answer.failed.get(receiver)
                results[receiver] = (
                    Result(Outcome.SENT, message_id=answer.message_id)
                    if failure is None
                    else _status_result(*failure, whole_request=False)
                )
        return results

    async def _send_one(self, receiver: str, rendered: Rendered) -> Result:
        try:
            token = await self.client.send(receiver, rendered)
        except ViberApiError as exc:
            if exc.status in OLD_CLIENT and rendered.keyboard is not None:
                return await self._send_plain(receiver, rendered)
            return _error_result(exc)
        except ViberError as exc:
            return _error_result(exc)
        return Result(Outcome.SENT, message_id=token)

    async def _send_plain(self, receiver: str, rendered: Rendered) -> Result:
        try:
            token = await self.client.send(receiver, _plain(rendered), min_api_version=1)
        except ViberError as exc:
            return _error_result(exc)
        return Result(Outcome.SENT, message_id=token)

    async def _broadcast(self, receivers: list[str], rendered: Rendered) -> dict[str, Result]:
        try:
            answer = await self.client.broadcast(receivers, rendered)
        except ViberError as exc:
            result = _error_result(exc)
            return dict.fromkeys(receivers, result)
        results: dict[str, Result] = {}
        for receiver in receivers:
            failure = answer.failed.get(receiver)
            if failure is None:
                results[receiver] = Result(Outcome.SENT, message_id=answer.message_id)
            elif failure[0] in OLD_CLIENT and rendered.keyboard is not None:
                results[receiver] = await self._send_plain(receiver, rendered)
            else:
                results[receiver] = _status_result(*failure, whole_request=False)
        if answer.failed:
            logger.info("viber: broadcast to %d, %d failed", len(receivers), len(answer.failed))
        return results
