"""A file a Viber subscriber sends (a Forms export) is fetched from its media URL, streamed and
stopped at the cap (bot/channels/viber/client.py: fetch_media); a real HTTP server on
127.0.0.1 plays Viber's media host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.channels.viber.client import ViberError, fetch_media
from bot.files.inbound import FileTooLarge

EXPORT = "Позначка часу,Клас\r\n01.02.2025 10:00:00,7-А\r\n".encode() * 200


@pytest.fixture
def media_host() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/export.csv":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(EXPORT)))
            self.end_headers()
            self.wfile.write(EXPORT)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_file_is_written_as_sent(media_host: str, tmp_path: Path) -> None:
    dest = tmp_path / "export.csv"
    assert fetch_media(f"{media_host}/export.csv", dest, len(EXPORT)) == dest
    assert dest.read_bytes() == EXPORT


def test_a_file_over_the_cap_is_stopped_and_nothing_is_kept(
    media_host: str, tmp_path: Path
) -> None:
    dest = tmp_path / "export.csv"
    with pytest.raises(FileTooLarge):
        fetch_media(f"{media_host}/export.csv", dest, len(EXPORT) - 1)
    assert not dest.exists()


def test_a_missing_file_or_another_scheme_is_an_error(media_host: str, tmp_path: Path) -> None:
    with pytest.raises(ViberError):
        fetch_media(f"{media_host}/gone.csv", tmp_path / "x", 10_000)
    with pytest.raises(ValueError):
        fetch_media("file:///etc/passwd", tmp_path / "y", 10_000)
