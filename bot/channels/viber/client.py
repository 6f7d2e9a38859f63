"""The Viber boundary: the only module that imports viberbot.

viberbot 1.0.12 supplies the message and callback types, payload preparation and the status
check of `send_message`. What it lacks is added here without patching it:
- its request sender posts with no timeout and logs whole payloads (auth token included):
  `_SafeRequestSender` subclasses it with a timeout, a per-thread session and no payload logs,
  and is built with `VIBER_API_BASE_URL` so a local fake API works;
- its calls block: `ViberClient` runs them on its own small thread pool with a deadline, so a
  slow Viber never stalls the event loop (Telegram, the webhook);
- it has no `broadcast_message`: built here from viberbot's message `to_dict()`;
- its `viber.bot.api` logger still logs payloads at DEBUG (and names, texts): `ViberLogFilter`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from viberbot.api.api_request_sender import ApiRequestSender
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.consts import VIBER_BOT_USER_AGENT
from viberbot.api.message_sender import MessageSender
from viberbot.api.messages import FileMessage, PictureMessage, TextMessage
from viberbot.api.messages.typed_message import TypedMessage
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
    create_request,
)

from bot.channels.viber.keyboard import MIN_API_VERSION, Media, Rendered
from bot.channels.viber.webhook import viber_routes
from bot.files.inbound import FileTooLarge
from bot.logging_setup import redact, register_secret

VIBER_LOGGER = "viber.bot.api"
DEFAULT_TIMEOUT = (3.05, 10.0)  # connect, read (seconds)
BROADCAST_MAX = 300
MAX_SENDER_NAME = 28  # Viber's limit for sender.name
WEBHOOK_EVENTS = [
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
]
KNOWN_EVENTS = {"message", "webhook", "client_status", *WEBHOOK_EVENTS}

T = TypeVar("T")


# ---------------------------------------------------------------- logging
class ViberLogFilter(logging.Filter):
    """viberbot logs payloads (auth token, user texts) at DEBUG and ERROR: keep neither."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False  # its DEBUG lines are whole payloads and parsed user messages
        message = redact(record.getMessage())
        # "failed to post request ... with payload={...}": keep the first words only.
        for marker in ("payload", "{"):
            if marker in message:
                message = message.split(marker, 1)[0] + "(details hidden)"
        record.msg, record.args = message, None
        record.exc_info, record.exc_text = None, None
        return True


def install_log_filter() -> None:
    logger = logging.getLogger(VIBER_LOGGER)
    if not any(isinstance(f, ViberLogFilter) for f in logger.filters):
        logger.addFilter(ViberLogFilter())


# ---------------------------------------------------------------- errors
class ViberError(Exception):
    """A call to the Viber REST API did not succeed. Messages never carry payloads."""


class ViberApiError(ViberError):
    def __init__(self, endpoint: str, status: int, status_message: str) -> None:
        super().__init__(f"{endpoint}: status {status} ({status_message})")
        self.status = status
        self.status_message = status_message


class ViberHttpError(ViberError):
    def __init__(self, endpoint: str, http_status: int) -> None:
        super().__init__(f"{endpoint}: HTTP {http_status}")
        self.http_status = http_status


class ViberTimeout(ViberError):
    pass


class ViberNetworkError(ViberError):
    pass


# ---------------------------------------------------------------- HTTP
class _SafeRequestSender(ApiRequestSender):
    """viberbot's request sender with a timeout, a session per thread and quiet errors."""

    def __init__(
        self, base_url: str, config: BotConfiguration, timeout: tuple[float, float]
    ) -> None:
        super().__init__(
            logging.getLogger(VIBER_LOGGER), base_url.rstrip("/"), config, VIBER_BOT_USER_AGENT
        )
        self._timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(
                {"User-Agent": self._user_agent, "Content-Type": "application/json"}
            )
            self._local.session = session
        return session

    def post_request(self, endpoint: str, payload: str) -> dict[str, Any]:
        """POST a JSON payload; return the answer when its status is 0, raise otherwise."""
        url = f"{self._viber_bot_api_url}/{endpoint}"
        try:
            response = self._session().post(url, data=payload.encode(), timeout=self._timeout)
        except requests.Timeout:
            raise ViberTimeout(f"{endpoint}: timed out") from None
        except requests.RequestException as exc:
            # `from None`: the chained exception would hold the request, token and all.
            raise ViberNetworkError(f"{endpoint}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ViberHttpError(endpoint, response.status_code)
        try:
            data = response.json()
        except ValueError:
            raise ViberHttpError(endpoint, 502) from None
        if not isinstance(data, dict):
            raise ViberHttpError(endpoint, 502)
        status = data.get("status")
        if status != 0:
            code = status if isinstance(status, int) else -1
            raise ViberApiError(endpoint, code, str(data.get("status_message", ""))[:200])
        return data


@dataclass(frozen=True)
class BroadcastAnswer:
    message_id: str
    failed: dict[str, tuple[int, str]] = field(default_factory=dict)  # receiver -> status


class ViberClient:
    """Viber REST calls through viberbot, off the event loop and with a deadline."""

    def __init__(
        self,
        auth_token: str,
        name: str,
        avatar: str = "",
        base_url: str = "https://chatapi.viber.com/pa/",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        workers: int = 8,
    ) -> None:
        register_secret(auth_token)
        install_log_filter()
        self.signing_key = auth_token.encode()
        self._config = BotConfiguration(auth_token, name[:MAX_SENDER_NAME], avatar or None)
        self._sender = _SafeRequestSender(base_url, self._config, timeout)
        self._messages = MessageSender(logging.getLogger(VIBER_LOGGER), self._sender, self._config)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="viber")
        # requests' read timeout is per socket read; the deadline bounds the whole call.
        self._deadline = timeout[0] + timeout[1] + 2.0

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._pool, partial(fn, *args)), self._deadline
            )
        except TimeoutError:
            raise ViberTimeout("deadline passed") from None

    @staticmethod
    def message(rendered: Rendered, min_api_version: int = MIN_API_VERSION) -> TextMessage:
        return TextMessage(
            text=rendered.text,
            keyboard=rendered.keyboard,
            tracking_data=rendered.tracking_data or None,
            min_api_version=min_api_version if rendered.keyboard else None,
        )

    @staticmethod
    def media_message(media: Media) -> TypedMessage:
        if media.kind == "picture":
            return PictureMessage(media=media.url, text="")
        return FileMessage(media=media.url, size=media.size, file_name=media.name[:256])

    async def send_media(self, receiver: str, media: Media) -> str:
        """A picture or file message (by URL) to one subscriber; returns the message token."""
        token = await self._call(
            self._messages.send_message,
            receiver,
            self._config.name,
            self._config.avatar,
            self.media_message(media),
        )
        return str(token)

    async def broadcast_media(self, receivers: list[str], media: Media) -> BroadcastAnswer:
        if not 0 < len(receivers) <= BROADCAST_MAX:
            raise ValueError(f"broadcast takes 1..{BROADCAST_MAX} receivers")
        return await self._call(self._broadcast, receivers, self.media_message(media))

    def _sender_info(self) -> dict[str, str]:
        info = {"name": self._config.name}
        if self._config.avatar:
            info["avatar"] = self._config.avatar
        return info

    async def send(self, receiver: str, rendered: Rendered, min_api_version: int = 0) -> str:
        """send_message to one subscriber; returns the message token."""
        message = self.message(rendered, min_api_version or MIN_API_VERSION)
        token = await self._call(
            self._messages.send_message,
            receiver,
            self._config.name,
            self._config.avatar,
            message,
        )
        return str(token)

    def _broadcast(self, receivers: list[str], message: TypedMessage) -> BroadcastAnswer:
        payload = message.to_dict()
        payload.update(
            {
                "auth_token": self._config.auth_token,
                "sender": self._sender_info(),
                "broadcast_list": receivers,
            }
        )
        data = self._sender.post_request("broadcast_message", json.dumps(payload))
        failed: dict[str, tuple[int, str]] = {}
        for entry in data.get("failed_list") or []:
            if isinstance(entry, dict) and isinstance(entry.get("receiver"), str):
                status = entry.get("status")
                failed[entry["receiver"]] = (
                    status if isinstance(status, int) else -1,
                    str(entry.get("status_message", ""))[:200],
                )
        return BroadcastAnswer(str(data.get("message_token", "")), failed)

    async def broadcast(self, receivers: list[str], rendered: Rendered) -> BroadcastAnswer:
        """broadcast_message to at most 300 subscribers in one request."""
        if not 0 < len(receivers) <= BROADCAST_MAX:
            raise ValueError(f"broadcast takes 1..{BROADCAST_MAX} receivers")
        return await self._call(self._broadcast, receivers, self.message(rendered))

    def _set_webhook(self, url: str) -> list[str]:
        payload = {
            "auth_token": self._config.auth_token,
            "url": url,
            "event_types": WEBHOOK_EVENTS,
            "send_name": True,  # the name a parent is registered under
            "send_photo": False,
        }
        data = self._sender.post_request("set_webhook", json.dumps(payload))
        return [str(e) for e in data.get("event_types") or []]

    async def set_webhook(self, url: str) -> list[str]:
        """Register the webhook; Viber first POSTs a signed `webhook` event to it."""
        return await self._call(self._set_webhook, url)

    async def account_info(self) -> dict[str, Any]:
        data = await self._call(self._sender.get_account_info)
        return {k: data.get(k) for k in ("name", "uri", "subscribers_count", "webhook", "id")}

    def welcome_body(self, rendered: Rendered) -> dict[str, Any]:
        """The welcome message as the body of the conversation_started answer."""
        body: dict[str, Any] = self.message(rendered).to_dict()
        body["sender"] = self._sender_info()
        return body

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


MEDIA_CHUNK = 1 << 16


def fetch_media(
    url: str, dest: Path, max_bytes: int, timeout: tuple[float, float] = (3.05, 30.0)
) -> Path:
    """A file a subscriber sent (its media URL on Viber's servers) into `dest`, streamed and
    stopped past `max_bytes` (bot/files/inbound.py: FetchFile). Blocking: for a job's thread."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise ValueError("not a media URL")
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise ViberHttpError("media", response.status_code)
            written = 0
            with dest.open("wb") as out:
                for chunk in response.iter_content(MEDIA_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise FileTooLarge(dest.name)
                    out.write(chunk)
    except requests.RequestException as exc:  # `from None`: keep the URL out of tracebacks
        raise ViberNetworkError(f"media: {type(exc).__name__}") from None
    except FileTooLarge:
        dest.unlink(missing_ok=True)
        raise
    return dest


# ---------------------------------------------------------------- callbacks
class CallbackError(ValueError):
    """The body is not a callback we can read (malformed JSON, missing fields)."""


@dataclass(frozen=True)
class ViberFile:
    name: str
    size: int
    url: str


@dataclass(frozen=True)
class Callback:
    """One Viber callback, as plain values (bounded, typed), whatever viberbot made of it."""

    event: str
    message_token: str = ""
    user_id: str = ""
    name: str = ""
    language: str = ""
    text: str = ""
    tracking_data: object = None
    context: str = ""
    file: ViberFile | None = None
    description: str = ""


def _s(value: object, limit: int) -> str:
    return str(value)[:limit] if isinstance(value, str | int) and value != "" else ""


def _user_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 128:
        raise CallbackError("bad user id")
    return value


def _from_message(request: ViberMessageRequest, token: str) -> Callback:
    sender, message = request.sender, request.message
    common: dict[str, Any] = {
        "event": "message",
        "message_token": token,
        "user_id": _user_id(sender.id),
        "name": _s(sender.name, 200),
        "language": _s(sender.language, 16),
        "tracking_data": message.tracking_data,
    }
    if isinstance(message, TextMessage):
        text = message.text if isinstance(message.text, str) else ""
        return Callback(text=text[:8000], **common)
    if isinstance(message, FileMessage) and isinstance(message.media, str):
        size = message.size if isinstance(message.size, int) else 0
        return Callback(file=ViberFile(_s(message.file_name, 256), size, message.media), **common)
    return Callback(**common)  # stickers, pictures, locations: nothing the engine reads


def parse_callback(raw: bytes) -> Callback:
    """Parse a (signature-checked) body with viberbot's request types."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
        raise CallbackError("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise CallbackError("no event")
    event = data["event"][:40]
    if event not in KNOWN_EVENTS or event == "client_status":
        return Callback(event=event)
    try:
        request = create_request(data)
        token = _s(data.get("message_token"), 40)
        if isinstance(request, ViberMessageRequest):
            return _from_message(request, token)
        if isinstance(request, ViberConversationStartedRequest):
            user = request.user
            return Callback(
                event=event,
                message_token=token,
                user_id=_user_id(user.id),
                name=_s(user.name, 200),
                language=_s(user.language, 16),
                context=_s(request.context, 64),
            )
        if isinstance(request, ViberSubscribedRequest):
            user = request.user
            return Callback(event=event, message_token=token, user_id=_user_id(user.id))
        if isinstance(request, ViberUnsubscribedRequest):
            return Callback(event=event, message_token=token, user_id=_user_id(request.user_id))
        if isinstance(request, ViberDeliveredRequest | ViberSeenRequest):
            return Callback(event=event, message_token=token, user_id=_user_id(request.user_id))
        if isinstance(request, ViberFailedRequest):
            return Callback(
                event=event,
                message_token=token,
                user_id=_user_id(request.user_id),
                description=_s(request.desc, 100),
            )
        return Callback(event=event, message_token=token)
    except CallbackError:
        raise
    except Exception:  # viberbot raises KeyError, TypeError or plain Exception on bad input
        raise CallbackError(f"malformed {event} callback") from None


__all__ = [
    "BroadcastAnswer",
    "Callback",
    "CallbackError",
    "ViberApiError",
    "ViberClient",
    "ViberError",
    "ViberHttpError",
    "ViberNetworkError",
    "ViberTimeout",
    "parse_callback",
    "viber_routes",
]
