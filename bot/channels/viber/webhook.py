"""The Viber webhook route: size limit, signature on the raw bytes, then the adapter.

Not `bot.channels.webapp.json_webhook_route`: `conversation_started` must be answered with a
body (the welcome message), so the adapter decides the answer; the body limit is shared.

Order matters: nothing is parsed before the body is bounded (413) and its
`X-Viber-Content-Signature` (HMAC-SHA256 of the raw body, key = auth token) is checked in
constant time (403). Only then does the adapter see it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.webapp import MAX_BODY, BodyTooLarge, BodyTooSlow, read_limited

SIGNATURE_HEADER = "X-Viber-Content-Signature"
WEBHOOK_PATH = "/viber/webhook"


@dataclass(frozen=True)
class WebhookAnswer:
    status: int = 200
    body: dict[str, Any] | None = None


class CallbackSink(Protocol):
    signing_key: bytes

    async def accept(self, raw: bytes) -> WebhookAnswer: ...


def sign(key: bytes, raw: bytes) -> str:
    return hmac.new(key, raw, hashlib.sha256).hexdigest()


def signature_ok(key: bytes, raw: bytes, given: str | None) -> bool:
    if not key or not given:
        return False
    expected = sign(key, raw).encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is hostile input.
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def viber_routes(sink: CallbackSink, path: str = WEBHOOK_PATH) -> list[Route]:
    """Routes to mount in the project's starlette app (shared with Telegram's webhook)."""

    async def webhook(request: Request) -> Response:
        try:
            raw = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return Response(status_code=413)
        except BodyTooSlow:
            return Response(status_code=408)
        except ClientDisconnect:
            return Response(status_code=400)
        if not signature_ok(sink.signing_key, raw, request.headers.get(SIGNATURE_HEADER)):
            return Response(status_code=403)
        answer = await sink.accept(raw)
        if answer.body is not None:
            return JSONResponse(answer.body, status_code=answer.status)
        return Response(status_code=answer.status)

    return [Route(path, webhook, methods=["POST"], name="viber_webhook")]
