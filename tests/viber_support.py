"""The Viber test world: fake REST API, real viberbot, real webhook route, real outbox sender.

Callbacks are signed and POSTed to the route in-process (httpx's ASGI transport: the real
starlette request handling, no sockets); outgoing calls go over real HTTP to the fake API. A
fake clock drives the sender's pacing, so nothing sleeps.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.channels.viber.setup import ViberParts, build_viber
from bot.channels.viber.webhook import SIGNATURE_HEADER, WEBHOOK_PATH, sign
from bot.delivery.outbox import OutboxSender
from bot.engine.events import Reply
from bot.files.web import files_route
from bot.settings import Settings
from bot.usage.cost import usage_hook
from storage.db import Database
from storage.repositories import invites, people
from storage.repositories import outbox as outbox_repo
from storage.repositories.outbox import NewMessage, enqueue_many
from tests.fake_viber import FakeViber, Shown
from tests.school import SchoolBuilder

TOKEN = "4fdbb2493ae7ddc2-cd8869c327e2c592-60fd2dddaa295531"
FILES_BASE = "https://bot.school.example"
_tokens = itertools.count(1_000_000)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)


@dataclass
class ViberWorld:
    fake: FakeViber
    db: Database
    settings: Settings
    clock: FakeClock
    parts: ViberParts
    sender: OutboxSender
    class_id: int = 0
    wave_id: int = 0
    app: Starlette = field(init=False)

    def __post_init__(self) -> None:
        files = files_route(self.db, self.settings, self.clock)
        self.app = Starlette(routes=[*self.parts.routes, files])

    # ------------------------------------------------------------ callbacks
    async def post_raw(
        self, raw: bytes, headers: Mapping[str, str | bytes] | None = None
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            # Bytes on both sides: a test may send a header that is not ASCII.
            sent = {
                k.encode(): v if isinstance(v, bytes) else v.encode()
                for k, v in (headers or {}).items()
            }
            return await client.post(WEBHOOK_PATH, content=raw, headers=sent)

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False).encode()
        return await self.post_raw(raw, {SIGNATURE_HEADER: sign(TOKEN.encode(), raw)})

    async def download(self, url: str) -> httpx.Response:
        """GET a file link the way Viber's servers fetch it (through the real route)."""
        assert url.startswith(FILES_BASE + "/files/"), url
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=FILES_BASE) as client:
            return await client.get(url.removeprefix(FILES_BASE))

    # ------------------------------------------------------------ sending
    def next_due(self) -> datetime | None:
        with self.db.read() as session:
            return outbox_repo.next_due_at(session, ["viber"], include_non_urgent=True)

    async def deliver(self, max_rounds: int = 200) -> None:
        """Process callbacks, then run the outbox sender until nothing is left to send,
        jumping the fake clock to the next due row (backoff, retry_after)."""
        await self.parts.adapter.drain()
        for _ in range(max_rounds):
            if await self.sender.run_once() == 0:
                due = self.next_due()
                if due is None:
                    return
                self.clock.now = max(self.clock.now, due) + timedelta(milliseconds=1)
        raise AssertionError("the outbox did not drain")

    # ------------------------------------------------------------ data
    def invite(self, role: str = "parent") -> str:
        with self.db.write() as session:
            return invites.create_invite(session, self.class_id, role, self.clock()).code

    def user(self, user_id: str, name: str = "Олена") -> ViberUser:
        return ViberUser(self, user_id, name)


@dataclass
class ViberUser:
    """A phone with Viber: opens the chat, types, presses keyboard buttons."""

    world: ViberWorld
    user_id: str
    name: str
    welcome: dict[str, Any] | None = None

    def sender(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name, "language": "uk", "api_version": 10}

    def seen(self) -> list[Shown]:
        """What the chat shows: the welcome, then every message sent to this user."""
        shown = [Shown(self.user_id, 0, self.welcome)] if self.welcome else []
        return shown + self.world.fake.inbox(self.user_id)

    def last(self) -> Shown:
        return self.seen()[-1]

    def texts(self) -> list[str]:
        return [s.text for s in self.seen()]

    async def open(self, context: str = "") -> httpx.Response:
        body: dict[str, Any] = {
            "event": "conversation_started",
            "timestamp": 1,
            "message_token": next(_tokens),
            "type": "open",
            "user": self.sender(),
            "subscribed": False,
        }
        if context:
            body["context"] = context
        response = await self.world.post(body)
        if response.status_code == 200 and response.content:
            self.welcome = response.json()
        return response

    async def send_text(
        self, text: str, token: int | None = None, tracking: str | None = None
    ) -> httpx.Response:
        """A message from the user: it also subscribes them (Viber does that)."""
        message: dict[str, Any] = {"type": "text", "text": text}
        last = self.seen()[-1].body if self.seen() else {}
        tracking_data = tracking if tracking is not None else last.get("tracking_data")
        if tracking_data:
            message["tracking_data"] = tracking_data
        body = {
            "event": "message",
            "timestamp": 2,
            "message_token": token if token is not None else next(_tokens),
            "sender": self.sender(),
            "message": message,
        }
        self.world.fake.subscribed.add(self.user_id)
        response = await self.world.post(body)
        await self.world.deliver()
        return response

    async def press(self, label: str) -> httpx.Response:
        """Press the button of the latest keyboard whose label contains `label`."""
        with_keyboard = [s for s in self.seen() if s.buttons]
        if not with_keyboard:
            raise LookupError("no keyboard shown")
        for button in with_keyboard[-1].buttons:
            if label in button["Text"]:
                return await self.send_text(button["ActionBody"])
        raise LookupError(f"no button {label!r} among {with_keyboard[-1].labels}")


def build_world(fake: FakeViber, db: Database, settings: Settings, start: datetime) -> ViberWorld:
    """A school with class 7-А, the parents' survey and an open wave, wired to the fake."""
    class_id, wave_id = seed_school(db, settings, start)
    return world_on(fake, db, settings, start, class_id, wave_id)


def seed_school(db: Database, settings: Settings, start: datetime) -> tuple[int, int]:
    """Class 7-А and the parents' survey open since `start`: (class id, wave id)."""
    builder = SchoolBuilder.create(db, settings, ("7-А",))
    wave_id = builder.wave("assessment-parents", start, label="2026-весна")
    return builder.class_ids["7-А"], wave_id


def world_on(
    fake: FakeViber,
    db: Database,
    settings: Settings,
    start: datetime,
    class_id: int,
    wave_id: int,
) -> ViberWorld:
    """The Viber side wired to the fake, on a database that `seed_school` filled."""
    clock = FakeClock(start)
    viber_settings = _viber_settings(settings, fake.url)
    parts = build_viber(viber_settings, db, clock)
    sender = OutboxSender(
        db,
        {"viber": parts.transport},
        viber_settings,
        clock,
        sleep=clock.sleep,
        after_sent=[usage_hook(viber_settings)],
    )
    return ViberWorld(fake, db, viber_settings, clock, parts, sender, class_id, wave_id)


def _viber_settings(settings: Settings, api_url: str) -> Settings:
    return settings.model_copy(
        update={
            "viber_auth_token": TOKEN,
            "viber_api_base_url": api_url,
            "viber_bot_name": "Ліцей",
            "files_base_url": FILES_BASE,
        }
    )


def enqueue_parent_notice(
    db: Database,
    class_ids: list[int],
    reply: Reply,
    key: str,
    now: datetime,
    notice_id: int | None = None,
) -> int:
    """One class-wide notice for every reachable parent of the classes, queued as the criteria
    flow queues it (non-urgent, one keyed row per account)."""
    with db.write() as session:
        found = people.recipients(session, class_ids, ("parent",))
        return enqueue_many(
            session,
            [
                NewMessage(
                    channel=r.channel,
                    recipient=r.external_id,
                    payload={"reply": reply.to_json()},
                    idempotency_key=f"{key}:{r.external_id}",
                    person_id=r.person_id,
                    kind="notice",
                    urgent=False,
                    notice_id=notice_id,
                )
                for r in found
            ],
            now,
        )
