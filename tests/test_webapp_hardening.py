"""The webhook server under abuse: half-open connections (slowloris), trickled bodies, JSON
nested thousands deep. Real uvicorn on 127.0.0.1, real sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
import uvicorn

from bot.channels import webapp
from bot.channels.webapp import build_app, guarded_protocol, telegram_webhook_route

SECRET = "s3cret-s3cret-s3cret"


async def serve(app: Any, max_connections: int = 20, header_seconds: float = 0.5) -> Any:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    config = uvicorn.Config(
        app,
        http=guarded_protocol(max_connections, header_seconds),
        log_config=None,
        lifespan="off",
        timeout_keep_alive=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, sock.getsockname()[1]


def test_half_open_connections_neither_stop_the_server_nor_stay_open() -> None:
    async def scenario() -> tuple[int, float, int]:
        server, task, port = await serve(build_app([]), header_seconds=0.25)
        loop = asyncio.get_running_loop()
        half_open = []
        for _ in range(60):  # three times the cap, headers never finished
            s = socket.socket()
            s.setblocking(False)
            await loop.sock_connect(s, ("127.0.0.1", port))
            await loop.sock_sendall(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            half_open.append(s)
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.get("/healthz", timeout=5)
        took = time.monotonic() - started

        async def closed_by_server(s: socket.socket) -> bool:
            """EOF or reset within a few seconds (the header deadline is half a second);
            a connection still open then is not closed."""
            try:
                return await asyncio.wait_for(loop.sock_recv(s, 100), 5) == b""
            except ConnectionError:
                return True
            except TimeoutError:
                return False
            finally:
                s.close()

        closed = sum(await asyncio.gather(*map(closed_by_server, half_open)))
        server.should_exit = True
        await task
        return answer.status_code, took, closed

    status, took, closed = asyncio.run(scenario())
    assert status == 200 and took < 2.0
    assert closed == 60  # evicted beyond the cap, or closed at the header deadline


def test_nested_json_and_trickled_bodies_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webapp, "BODY_SECONDS", 0.25)
    stored: list[dict[str, Any]] = []

    async def store(payload: dict[str, Any]) -> None:
        stored.append(payload)

    async def scenario() -> tuple[int, int, int]:
        server, task, port = await serve(build_app([telegram_webhook_route(SECRET, store)]))
        headers = {webapp.TELEGRAM_SECRET_HEADER: SECRET}
        deep = ("[" * 100_000 + "]" * 100_000).encode()
        nested = '{"a":' + deep.decode() + "}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deep_answer = await client.post("/telegram/webhook", content=nested, headers=headers)
            # A body that trickles: part of it, then nothing (raw socket: a client library
            # would give up on its own).
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                + f"{webapp.TELEGRAM_SECRET_HEADER}: {SECRET}\r\n\r\n".encode()
                + b'{"update_id":'
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            fine = await client.post(
                "/telegram/webhook", content=json.dumps({"update_id": 7}), headers=headers
            )
        server.should_exit = True
        await task
        return deep_answer.status_code, int(status_line.split()[1]), fine.status_code

    assert asyncio.run(scenario()) == (400, 408, 200)
    assert stored == [{"update_id": 7}]  # 200 only once stored
