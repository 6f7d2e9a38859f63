"""`GET /files/<token>/<name>`: a stored file by its link, for the shared web app.

404 for an unknown, expired or revoked token (the same answer for all three, so nobody learns
which tokens once existed); no listing anywhere under /files/. The name in the path is only
for the phone's download; the token alone decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.files.store import lookup, path_of
from bot.settings import Settings
from storage.db import Database

FILES_PATH = "/files/{token}/{name}"


def files_route(db: Database, settings: Settings, clock: Callable[[], datetime]) -> Route:
    def find(token: str) -> tuple[str, str, str] | None:
        with db.read() as session:
            target = lookup(session, token, clock())
        if target is None:
            return None
        path = path_of(settings, target.sha256)
        return (str(path), target.mime, target.name) if path.is_file() else None

    async def serve(request: Request) -> Response:
        found = await asyncio.to_thread(find, str(request.path_params["token"]))
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        path, mime, name = found
        disposition = "inline" if mime.startswith("image/") else "attachment"
        headers = {
            # Pictures show in place; documents download under their name.
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            "Referrer-Policy": "no-referrer",
        }
        return FileResponse(path, media_type=mime, headers=headers)

    return Route(FILES_PATH, serve, methods=["GET", "HEAD"], name="files")
