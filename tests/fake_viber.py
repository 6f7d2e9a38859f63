"""A fake Viber REST API on 127.0.0.1: real HTTP, so the real viberbot code and timeouts run.

It keeps what Viber would: subscribers, every request (for counting), every message a user
would see, and a sliding-window rate limit (500 requests per 10 s answers status 12). Faults are
injected per endpoint: a status, an HTTP error, a delay, or per-receiver statuses in a
broadcast's failed_list.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_REQUEST = 30 * 1024  # Viber refuses requests over 30 KB
BROADCAST_MAX = 300


@dataclass
class Fault:
    endpoint: str
    status: int | None = None  # a Viber status for the whole request
    http: int | None = None  # an HTTP error instead of an answer
    delay: float = 0.0  # seconds before answering
    receivers: dict[str, int] = field(default_factory=dict)  # broadcast failed_list statuses
    times: int = 1


@dataclass(frozen=True)
class Recorded:
    endpoint: str
    body: dict[str, Any]
    at: float
    answer: dict[str, Any] | None
    http_status: int


@dataclass(frozen=True)
class Shown:
    """A message as the receiver's phone would show it."""

    receiver: str
    token: int
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        keyboard = self.body.get("keyboard") or {}
        return list(keyboard.get("Buttons", []))

    @property
    def labels(self) -> list[str]:
        return [b["Text"] for b in self.buttons]


class FakeViber:
    def __init__(
        self, auth_token: str, *, rate_limit: int = 500, window: float = 10.0, name: str = "Bot"
    ) -> None:
        self.auth_token = auth_token
        self.rate_limit = rate_limit
        self.window = window
        self.name = name
        self.subscribed: set[str] = set()
        self.requests: list[Recorded] = []
        self.shown: list[Shown] = []
        self.faults: list[Fault] = []
        self.webhook: dict[str, Any] = {}
        self.status12 = 0
        self._recent: deque[float] = deque()
        self._tokens = itertools.count(5_000_000_000_000_000_000)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeViber:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/pa/"

    # ------------------------------------------------------------ test API
    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def calls(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.endpoint == endpoint]

    def inbox(self, receiver: str) -> list[Shown]:
        return [s for s in self.shown if s.receiver == receiver]

    def duplicates(self) -> int:
        """Messages a receiver got more than once (same body)."""
        seen: set[tuple[str, str]] = set()
        dup = 0
        for s in self.shown:
            key = (s.receiver, json.dumps(s.body, sort_keys=True))
            dup += key in seen
            seen.add(key)
        return dup

    # ------------------------------------------------------------ the API
    def _fault_for(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.endpoint == endpoint and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _rate_limited(self, now: float) -> bool:
        with self._lock:
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            self._recent.append(now)
            if len(self._recent) > self.rate_limit:
                self.status12 += 1
                return True
        return False

    def _shown(self, receiver: str, token: int, body: dict[str, Any]) -> None:
        message = {
            k: v
            for k, v in body.items()
            if k not in ("auth_token", "receiver", "broadcast_list", "sender")
        }
        with self._lock:
            self.shown.append(Shown(receiver, token, message))

    def answer(
        self, endpoint: str, body: dict[str, Any], size: int, fault: Fault | None
    ) -> dict[str, Any]:
        if body.get("auth_token") != self.auth_token:
            return {"status": 2, "status_message": "invalidAuthToken"}
        if size > MAX_REQUEST:
            return {"status": 3, "status_message": "badData: request over 30 KB"}
        if self._rate_limited(time.monotonic()):
            return {"status": 12, "status_message": "tooManyRequests"}
        if fault is not None and fault.status is not None:
            if fault.status == 12:
                self.status12 += 1
            return {"status": fault.status, "status_message": "injected"}
        if endpoint == "send_message":
            receiver = body.get("receiver")
            if receiver not in self.subscribed:
                return {"status": 6, "status_message": "notSubscribed"}
            token = next(self._tokens)
            self._shown(str(receiver), token, body)
            return {"status": 0, "status_message": "ok", "message_token": token}
        if endpoint == "broadcast_message":
            receivers = body.get("broadcast_list") or []
            if not 0 < len(receivers) <= BROADCAST_MAX:
                return {"status": 3, "status_message": "badData: broadcast_list"}
            token = next(self._tokens)
            failed = []
            injected = fault.receivers if fault else {}
            for receiver in receivers:
                status = injected.get(receiver) or (0 if receiver in self.subscribed else 6)
                if status:
                    if status == 12:
                        self.status12 += 1
                    failed.append({"receiver": receiver, "status": status, "status_message": "x"})
                else:
                    self._shown(receiver, token, body)
            return {
                "status": 0,
                "status_message": "ok",
                "message_token": token,
                "failed_list": failed,
            }
        if endpoint == "set_webhook":
            self.webhook = {"url": body.get("url"), "event_types": body.get("event_types")}
            return {"status": 0, "status_message": "ok", "event_types": body.get("event_types")}
        if endpoint == "get_account_info":
            return {
                "status": 0,
                "status_message": "ok",
                "id": "pa:1",
                "name": self.name,
                "uri": "classpulse-test",
                "subscribers_count": len(self.subscribed),
                "webhook": self.webhook.get("url", ""),
            }
        return {"status": 3, "status_message": "unknown endpoint"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                endpoint = self.path.rsplit("/", 1)[-1]
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                fault = fake._fault_for(endpoint)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.http:
                    fake.requests.append(Recorded(endpoint, body, time.time(), None, fault.http))
                    self.send_response(fault.http)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = fake.answer(endpoint, body, size, fault)
                fake.requests.append(Recorded(endpoint, body, time.time(), answer, 200))
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
