"""The fake Bot API (tests/fake_telegram.py) over real HTTP, for the benchmark and the tests of
code that builds its own `HTTPXRequest` (the CLI, `serve`).

    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        bot = build_bot(fake.token, server.base_url)

Standard library only: a ThreadingHTTPServer on 127.0.0.1 with a random port, in a daemon
thread. Long polls last at most `poll_cap` seconds, so a stopping bot is not kept waiting.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fake_telegram import NOT_FOUND, FakeTelegram


class FakeTelegramServer:
    def __init__(self, api: FakeTelegram, poll_cap: float = 1.0) -> None:
        self.api = api
        self.poll_cap = poll_cap
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeTelegramServer:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                front._serve(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid long-poll (the bot stopping) is normal

        self._server = Server(("127.0.0.1", 0), Handler)
        # serve_forever checks for shutdown() every poll_interval (0.5 s by default): stop()
        # would wait that long at the end of every test.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        method = self.api.method_for(urlparse(handler.path).path)
        if method is None:
            status, answer = 404, NOT_FOUND
        else:
            params = _parse_params(handler.headers.get("Content-Type", ""), body)
            status, answer = self.api.request_blocking(method, params, self.poll_cap)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    """PTB posts form-encoded fields (complex ones as JSON text), or multipart with files."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition") or "")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename:
                params[f"{name}_filename"] = filename
                params[name] = filename
            else:
                raw = payload if isinstance(payload, bytes) else b""
                params[name] = raw.decode("utf-8", "replace")
        return params
    return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
