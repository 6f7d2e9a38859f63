"""Viber callbacks -> ChatService, receipts and counters.

The webhook stores each callback in the inbox (bot/conversation/inbox.py) and only then
answers 200; the work happens in the inbox's worker, one user at a time (in arrival order) so
that two quick presses cannot overtake each other, and a callback acknowledged is processed even
after a crash. The exception is `conversation_started`: its one welcome message must be the body
of the answer, because a user who has only opened the chat cannot be sent anything yet (status
6); it is processed before the answer, and Viber sends it again if that answer never came.

Duplicates: Viber re-sends a callback it did not get 200 for. Messages and
conversation_started go through ChatService, which keeps processed message tokens; receipts are
idempotent; `failed` is counted once per token and user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from bot.channels.keyed_locks import KeyedLocks
from bot.channels.viber.client import (
    Callback,
    CallbackError,
    ViberClient,
    fetch_media,
    parse_callback,
)
from bot.channels.viber.keyboard import merge, parse_tracking, render
from bot.channels.viber.webhook import WebhookAnswer
from bot.context import utc_now
from bot.conversation.inbox import Inbox, NewUpdate
from bot.conversation.service import ChatService
from bot.engine.buttons import is_payload
from bot.engine.events import EventKind, FileRef, IncomingEvent
from bot.settings import Settings
from storage.db import Database

logger = logging.getLogger(__name__)

CHANNEL = "viber"
MAX_PENDING = 1000  # beyond this, answer 503 and let Viber retry later
DB_WORKERS = 8

R = TypeVar("R")


def to_event(cb: Callback) -> IncomingEvent:
    """A `message` callback as the engine's event."""
    tracking = parse_tracking(cb.tracking_data)
    event_id = f"v{cb.message_token}" if cb.message_token else ""
    # The position of the message that carried the keyboard: the engine's "message_ref".
    ref = tracking.position
    if cb.file is not None:
        return IncomingEvent(
            CHANNEL,
            cb.user_id,
            EventKind.FILE,
            file=FileRef(name=cb.file.name, mime="", size=cb.file.size, ref=cb.file.url),
            display_name=cb.name,
            language_code=cb.language,
            event_id=event_id,
            message_ref=ref,
        )
    text = cb.text.strip()
    payload = text if is_payload(text) else tracking.payload_for(text) or ""
    if payload:
        return IncomingEvent(
            CHANNEL,
            cb.user_id,
            EventKind.BUTTON,
            payload=payload,
            display_name=cb.name,
            language_code=cb.language,
            event_id=event_id,
            message_ref=ref,
        )
    return IncomingEvent.from_text(
        CHANNEL,
        cb.user_id,
        cb.text,
        display_name=cb.name,
        language_code=cb.language,
        event_id=event_id,
        message_ref=ref,
    )


class ViberAdapter:
    """What the webhook route hands signed bodies to."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: ViberClient,
        clock: Callable[[], datetime] = utc_now,
        max_pending: int = MAX_PENDING,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.clock = clock
        self.signing_key = client.signing_key
        self.service = ChatService(db, settings, clock)
        # The same engine and storage, but replies come back instead of going to the outbox.
        # Opening the chat is not writing: the welcome is free and opens no session.
        self.welcome_service = ChatService(
            db, settings, clock, outbox_channels=frozenset(), opens_sessions=False
        )
        self.max_pending = max_pending
        self.wake = wake  # the outbox sender: replies were queued, send them now
        self._users = KeyedLocks()
        self._db_slots = asyncio.Semaphore(DB_WORKERS)
        self.inbox = Inbox(db, CHANNEL, self.process_stored, clock)
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    def start_worker(self) -> None:
        """Process stored callbacks (started by `run`, or by the first callback)."""
        if self._worker is None or self._worker.done():
            self._stop.clear()
            self._worker = asyncio.create_task(self.inbox.run(self._stop), name="viber-inbox")
            # Files subscribers send (a Forms export) are fetched by jobs from their media URLs;
            # what a stop left stored to do with such files is taken up now.
            self.service.add_file_source(CHANNEL, fetch_media)

    async def stop_worker(self) -> None:
        self._stop.set()
        if self._worker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    # ------------------------------------------------------------ the route's side
    async def accept(self, raw: bytes) -> WebhookAnswer:
        try:
            cb = parse_callback(raw)
        except CallbackError as exc:
            logger.warning("viber: rejected a callback: %s", exc)
            return WebhookAnswer(400)
        if cb.event == "webhook":
            return WebhookAnswer(200)
        if cb.event == "conversation_started":
            return await self._welcome(cb)
        if cb.event not in {"message", "subscribed", "unsubscribed", "delivered", "seen", "failed"}:
            logger.warning("viber: ignored an unknown event %r", cb.event)
            return WebhookAnswer(200)
        if self.inbox.in_flight >= self.max_pending:
            logger.warning(
                "viber: %d callbacks in progress, asking Viber to retry", self.max_pending
            )
            return WebhookAnswer(503)
        key = f"{cb.event}:{cb.message_token or uuid.uuid4().hex}:{cb.user_id}"
        try:
            await self.inbox.store([NewUpdate(key, cb.user_id, {"body": raw.decode("utf-8")})])
        except Exception:  # not stored: Viber must send it again
            logger.exception("viber: a %s callback could not be stored", cb.event)
            return WebhookAnswer(500)
        self.start_worker()
        return WebhookAnswer(200)

    async def drain(self) -> None:
        """Wait until every stored callback is processed (tests; graceful shutdown)."""
        if self._worker is not None and not self._worker.done():
            await self.inbox.drained()

    async def process_stored(self, payload: dict[str, object]) -> None:
        """One stored callback (the inbox calls this)."""
        body = payload.get("body")
        if not isinstance(body, str):
            return
        try:
            cb = parse_callback(body.encode("utf-8"))
        except CallbackError:
            return
        await self._process(cb)

    # ------------------------------------------------------------ processing
    async def _welcome(self, cb: Callback) -> WebhookAnswer:
        event = IncomingEvent(
            CHANNEL,
            cb.user_id,
            EventKind.COMMAND,
            command="start",
            argument=cb.context.strip(),
            display_name=cb.name,
            language_code=cb.language,
            event_id=f"v{cb.message_token}" if cb.message_token else "",
        )
        async with self._users.hold([cb.user_id]):
            handled = await self._in_db(self.welcome_service.handle_full, event)
            if handled.duplicate:
                # Viber retries only when our first answer did not reach it, so the user saw
                # no welcome. `/start CODE` is idempotent (same consent question, or "already
                # a member"): answer again rather than leave the chat empty.
                retry = replace(event, event_id="")
                handled = await self._in_db(self.welcome_service.handle_full, retry)
        reply = merge(handled.replies)
        rendered = render(reply) if reply is not None else None
        if rendered is None:
            return WebhookAnswer(200)
        return WebhookAnswer(200, self.client.welcome_body(rendered))

    async def _process(self, cb: Callback) -> None:
        async with self._users.hold([cb.user_id]):
            await self._in_db(self._handle, cb)
        if cb.event == "message" and self.wake is not None:
            self.wake()

    def _handle(self, cb: Callback) -> None:
        if cb.event == "message":
            self.service.handle_full(to_event(cb))
        elif cb.event == "unsubscribed":
            self.service.handle_full(
                IncomingEvent(
                    CHANNEL,
                    cb.user_id,
                    EventKind.UNREACHABLE,
                    text="unsubscribed",
                    event_id=f"vu{cb.message_token}" if cb.message_token else "",
                )
            )
        elif cb.event == "subscribed":
            self.service.handle_full(IncomingEvent(CHANNEL, cb.user_id, EventKind.SUBSCRIBED))
        elif cb.event in ("delivered", "seen"):
            receipt = IncomingEvent(
                CHANNEL, cb.user_id, EventKind.RECEIPT, text=cb.event, message_ref=cb.message_token
            )
            self.service.handle_full(receipt)
        elif cb.event == "failed":
            failed = IncomingEvent(
                CHANNEL,
                cb.user_id,
                EventKind.DELIVERY_FAILED,
                event_id=f"failed:{cb.message_token}:{cb.user_id}",
            )
            if not self.service.handle_full(failed).duplicate:
                logger.warning(
                    "viber: message %s failed on the client: %s",
                    cb.message_token,
                    cb.description,
                )

    async def _in_db(self, fn: Callable[..., R], *args: object) -> R:
        # Database work is blocking; a bounded number of threads keeps SQLite calm.
        async with self._db_slots:
            return await asyncio.to_thread(fn, *args)
