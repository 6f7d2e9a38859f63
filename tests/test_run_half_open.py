"""A thousand half-open connections (slowloris) against the real `classpulse run` web server:
health, Telegram's webhook and Viber's webhook keep answering, the connections are closed by
the server (evicted beyond its cap, or at the header deadline), and the log stays small. Real
processes and sockets on 127.0.0.1 only; every wait is bounded."""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.channels.viber.webhook import SIGNATURE_HEADER, WEBHOOK_PATH, sign
from bot.channels.webapp import TELEGRAM_SECRET_HEADER, TELEGRAM_WEBHOOK_PATH
from bot.runtime import MAX_CONNECTIONS
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.fake_viber import FakeViber
from tests.process_helpers import free_port, wait_until
from tests.viber_support import TOKEN as VIBER_TOKEN

HALF_OPEN = 1000
SECRET = "hook-secret-for-the-slowloris-test"
LOG_LIMIT = 64 * 1024  # bytes of log while under attack (the issue saw 328 MB in 100 s)
# The header deadline of this run (WEBHOOK_HEADER_SECONDS; 10 by default): short, so the test
# does not wait out ten seconds, long enough that the eviction is seen before it (that took up
# to 1.6 s with the suite's two workers busy beside it: 2 s would be too close).
HEADER_SECONDS = 3.0


@pytest.fixture
def enough_files() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = HALF_OPEN + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.fail(f"this machine allows {hard} open files; the test needs {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def half_open(port: int) -> socket.socket:
    """A connection that starts a request and never finishes its headers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
    return s


def closed_by_server(sockets: list[socket.socket], wait: float, enough: int | None = None) -> int:
    """How many of `sockets` the server has closed (EOF or reset), within `wait` seconds (or
    as soon as `enough` of them are)."""
    enough = len(sockets) if enough is None else enough
    closed: set[socket.socket] = set()
    with selectors.DefaultSelector() as selector:
        for s in sockets:
            s.setblocking(False)
            selector.register(s, selectors.EVENT_READ, s)
        end = time.monotonic() + wait
        while len(closed) < enough and time.monotonic() < end:
            for key, _ in selector.select(max(end - time.monotonic(), 0)):
                conn: socket.socket = key.data
                try:
                    data = conn.recv(100)
                except (ConnectionError, OSError):
                    data = b""
                if data == b"" or data.startswith(b"HTTP/1.1 4"):
                    closed.add(conn)
                    selector.unregister(conn)
    return len(closed)


@pytest.mark.waits  # the header deadline: 3 s of the test's 5
def test_a_thousand_half_open_connections_leave_run_answering(
    db_url: str, tmp_path: Path, enough_files: None
) -> None:
    fake = FakeTelegram()
    viber = FakeViber(VIBER_TOKEN).start()
    log = tmp_path / "run.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sockets: list[socket.socket] = []
    try:
        with FakeTelegramServer(fake) as server:
            env = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": server.base_url,
                "TELEGRAM_WEBHOOK_URL": f"https://bot.example.org{TELEGRAM_WEBHOOK_PATH}",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "VIBER_AUTH_TOKEN": VIBER_TOKEN,
                "VIBER_WEBHOOK_URL": f"https://bot.example.org{WEBHOOK_PATH}",
                "VIBER_API_BASE_URL": viber.url,
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(port),
                "WEBHOOK_HEADER_SECONDS": str(HEADER_SECONDS),
                "DATABASE_URL": db_url,
                "QUIET_HOURS": "",
                "DATA_DIR": str(tmp_path / "data"),
                "LOG_LEVEL": "INFO",
            }
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log.open("wb"),
            )
            # One client for every request (httpx.get and httpx.post build a client each, TLS
            # set-up included), keeping no connection: each request is a new connection that
            # the server has to accept while under attack.
            client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
            try:

                def healthy(timeout: float = 1.0) -> bool:
                    try:
                        return client.get(f"{base}/healthz", timeout=timeout).status_code == 200
                    except httpx.HTTPError:
                        return False

                assert wait_until(healthy, 60, 0.05), log.read_text()[-2000:]
                before = log.stat().st_size
                attacked = time.monotonic()
                for _ in range(HALF_OPEN):
                    sockets.append(half_open(port))

                # Health answers at once: beyond the cap the oldest half-open ones were closed.
                started = time.monotonic()
                assert healthy(5.0)
                assert time.monotonic() - started < 3.0
                evicted = HALF_OPEN - MAX_CONNECTIONS
                assert closed_by_server(sockets, 2.0, evicted) >= evicted
                # ... closed by the cap: the header deadline had not come for any of them yet.
                assert time.monotonic() - attacked < HEADER_SECONDS, "too late: it tested nothing"

                # Telegram: a /start through the webhook is answered (a reply reaches the chat).
                update = fake.text_update(4242, "/start")
                answer = client.post(
                    f"{base}{TELEGRAM_WEBHOOK_PATH}",
                    json=update,
                    headers={TELEGRAM_SECRET_HEADER: SECRET},
                    timeout=5,
                )
                assert answer.status_code == 200
                assert wait_until(lambda: bool(fake.texts(4242)), 15), "Telegram not answered"

                # Viber: a signed conversation_started gets the welcome in the answer's body.
                body = {
                    "event": "conversation_started",
                    "timestamp": 1,
                    "message_token": 777,
                    "type": "open",
                    "user": {"id": "u-slow", "name": "Олена", "language": "uk"},
                    "subscribed": False,
                }
                raw = json.dumps(body).encode()
                welcome = client.post(
                    f"{base}{WEBHOOK_PATH}",
                    content=raw,
                    headers={SIGNATURE_HEADER: sign(VIBER_TOKEN.encode(), raw)},
                    timeout=5,
                )
                assert welcome.status_code == 200 and welcome.json().get("text")

                # At the header deadline every half-open connection is closed by the server,
                # and health keeps answering meanwhile (asked every quarter second until then).
                give_up = attacked + HEADER_SECONDS + 5.0
                while closed_by_server(sockets, 0.25) < HALF_OPEN:
                    assert healthy(5.0)
                    assert time.monotonic() < give_up, "half-open connections left open"
                assert healthy(5.0)
                assert proc.poll() is None
                written = log.stat().st_size - before
                text = log.read_text(errors="replace")
                assert "Too many open files" not in text
                assert written < LOG_LIMIT, f"{written} bytes of log under attack"
            finally:
                client.close()
                for s in sockets:
                    s.close()
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    finally:
        viber.stop()
