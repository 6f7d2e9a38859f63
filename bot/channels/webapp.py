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
    request: Request, limit: int = MAX_BODY, seconds: float = BODY_SECONDS
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
        await asyncio.wait_for(read(), timeout=seconds)
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
