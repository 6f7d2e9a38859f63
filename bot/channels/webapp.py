"""The one web app for webhooks (Telegram now, Viber too), served by uvicorn in bot/runtime.py.

`build_app(routes)` returns a Starlette app with `/healthz` plus the given routes. A channel
adds its webhook as a route; `json_webhook_route` does the common part for any of them:

    route = json_webhook_route("/viber/webhook", check=my_signature_check, handle=my_handler)
    app = build_app([telegram_route, route])

A route answers 200 only once its handler has stored the payload (the inbox,
bot/conversation/inbox.py): an update acknowledged is never lost; processing happens later. If
storing fails the answer is 500 and the platform delivers the update again.

Hostile input is bounded before any work: a body larger than MAX_BODY (413) or slower than
BODY_SECONDS (408), JSON nested deeper than Python can parse (400). The server's own limits
(connections, header timeouts) are in bot/runtime.py.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a Telegram update is a few KB; anything near a megabyte is hostile
BODY_SECONDS = 10.0  # a genuine platform sends its few KB at once; a trickle is hostile
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Handler = Callable[[dict[str, Any]], Awaitable[None]]
# Decides on the headers and raw body whether a request is genuine (before parsing it).
Check = Callable[[Request, bytes], bool]


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    pass


async def read_limited(
    request: Request, limit: int = MAX_BODY, seconds: float | None = None
) -> bytes:
    """The body, refusing as soon as it grows past `limit` (BodyTooLarge) or takes longer
    than `seconds` to arrive (BodyTooSlow)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0

    async def read() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read(), timeout=seconds or BODY_SECONDS)
    except TimeoutError:
        raise BodyTooSlow from None
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """json.loads that raises ValueError for anything it cannot parse, deep nesting included
    (Python's parser raises RecursionError a few thousand levels down)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def json_webhook_route(
    path: str,
    handle: Handler,
    check: Check | None = None,
    pre_check: Callable[[Request], bool] | None = None,
) -> Route:
    """POST `path`: 403 unless genuine, 413 if over 1 MB, 408 if slower than BODY_SECONDS, 400
    unless a JSON object; else `handle(payload)` (it stores the update) and 200, or 500 if it
    raised (the platform delivers the update again).

    `pre_check` looks at the headers only (a shared secret: refused before reading the body);
    `check` also sees the raw body (a signature).
    """

    async def endpoint(request: Request) -> Response:
        if pre_check is not None and not pre_check(request):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_limited(request)
        except BodyTooLarge:
            return PlainTextResponse("payload too large", status_code=413)
        except BodyTooSlow:
            return PlainTextResponse("request timeout", status_code=408)
        except ClientDisconnect:
            return PlainTextResponse("client disconnected", status_code=400)
        if check is not None and not check(request, body):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            payload = parse_json(body)
        except ValueError:  # UnicodeDecodeError is a ValueError
            return PlainTextResponse("malformed JSON", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("expected a JSON object", status_code=400)
        try:
            await handle(payload)
        except Exception:  # not stored: the platform must deliver it again; no payload logged
            logger.exception("webhook: the update could not be stored")
            return PlainTextResponse("try again", status_code=500)
        return PlainTextResponse("ok")

    return Route(path, endpoint, methods=["POST"])


def secret_header_check(header: str, secret: str) -> Callable[[Request], bool]:
    """Constant-time comparison of a shared-secret header; an empty secret admits nobody."""
    expected = secret.encode()

    def check(request: Request) -> bool:
        given = request.headers.get(header, "").encode()
        return bool(expected) and hmac.compare_digest(given, expected)

    return check


def telegram_webhook_route(secret: str, handle: Handler) -> Route:
    """`POST /telegram/webhook`, admitted only with the secret_token given to setWebhook."""
    return json_webhook_route(
        TELEGRAM_WEBHOOK_PATH, handle, pre_check=secret_header_check(TELEGRAM_SECRET_HEADER, secret)
    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_app(routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The web app: `/healthz` plus the channels' webhook routes."""
    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])


# ---------------------------------------------------------------- the server's own limits
def guarded_protocol(
    max_connections: int = 500, header_seconds: float = 10.0
) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with what it lacks against slowloris: a deadline for a request's
    headers (uvicorn has none before the first request), and a cap on open connections that
    closes the oldest one still waiting for its headers (a genuine client sends them at once)
    rather than refusing the newcomer."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _born = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._born = self.loop.time()
            self._arm()
            if len(self.connections) <= max_connections:
                return
            # A connection closed a moment ago stays in `connections` until the loop runs
            # its connection_lost: count and choose among the others, or a burst of new
            # connections (accepted in one go) would all pick the same, already closed, victim
            # and none would be closed.
            live = [
                c
                for c in self.connections
                if isinstance(c, GuardedH11Protocol) and not c.transport.is_closing()
            ]
            if len(live) <= max_connections:
                return
            waiting = [c for c in live if c._waiting_for_headers()]
            victim = min(waiting, key=lambda c: c._born) if waiting else self
            victim.transport.close()

        def _waiting_for_headers(self) -> bool:
            return self.conn.their_state is h11.IDLE and (
                self.cycle is None or self.cycle.response_complete
            )

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_seconds, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if not self._waiting_for_headers():
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._waiting_for_headers() and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol
