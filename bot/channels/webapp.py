"""The one web app for webhooks (Telegram now, Viber too), served by uvicorn in bot/runtime.py.

`build_app(routes)` returns a Starlette app with `/healthz` plus the given routes. A channel
adds its webhook as a route; `json_webhook_route` does the common part for any of them:

    route = json_webhook_route("/viber/webhook", check=my_signature_check, handle=my_handler)
    app = build_app([telegram_route, route])

Every route answers at once and processes the payload in a background task, so the platform
never waits on the database (Telegram and Viber both re-deliver slow webhooks).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a Telegram update is a few KB; anything near a megabyte is hostile
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Handler = Callable[[dict[str, Any]], Awaitable[None]]
# Decides on the headers and raw body whether a request is genuine (before parsing it).
Check = Callable[[Request, bytes], bool]


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refusing (BodyTooLarge) as soon as it grows past `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def json_webhook_route(
    path: str,
    handle: Handler,
    check: Check | None = None,
    pre_check: Callable[[Request], bool] | None = None,
) -> Route:
    """POST `path`: 403 unless genuine, 413 if over 1 MB, 400 unless a JSON object, else 200
    at once and `handle(payload)` in the background.

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
        if check is not None and not check(request, body):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return PlainTextResponse("malformed JSON", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("expected a JSON object", status_code=400)
        return PlainTextResponse("ok", background=BackgroundTask(_run, handle, payload))

    return Route(path, endpoint, methods=["POST"])


async def _run(handle: Handler, payload: dict[str, Any]) -> None:
    try:
        await handle(payload)
    except Exception:  # the response is gone already; log without the payload
        logger.exception("webhook handler failed")


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
