"""Files people send to the bot, fetched through the messenger that keeps them.

An incoming file is only a reference (`FileRef.ref`: a Telegram file id, a Viber media URL).
Work that needs its bytes (a Forms export to import) asks the event channel's `FetchFile`,
which the composition root gives the chat service (`ChatService.file_sources`) from the running
adapters. It runs off the event loop (in a job), writes at most `max_bytes` to `dest` and
raises FileTooLarge beyond that, so a huge file is never held whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

# (the channel's file reference, where to write it, at most this many bytes) -> written path
FetchFile = Callable[[str, Path, int], Path]
FETCH_TIMEOUT = 120.0  # seconds for one download: 20 MB on a slow school line


class FileTooLarge(Exception):
    """The file is larger than the caller accepts; nothing of it is kept."""


def within(path: Path, max_bytes: int) -> Path:
    """`path` if it holds at most `max_bytes`; else it is deleted and FileTooLarge raised."""
    if path.stat().st_size > max_bytes:
        path.unlink(missing_ok=True)
        raise FileTooLarge(path.name)
    return path


def from_loop(
    download: Callable[[str, Path], Coroutine[Any, Any, Path]],
    loop: asyncio.AbstractEventLoop,
    timeout: float = FETCH_TIMEOUT,
) -> FetchFile:
    """An adapter's async download (it lives on `loop`) as a FetchFile for a job's thread."""

    def fetch(ref: str, dest: Path, max_bytes: int) -> Path:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # waiting for the loop on the loop would stop it for good
            raise RuntimeError("a file is fetched off the event loop, in a job")
        written = asyncio.run_coroutine_threadsafe(download(ref, dest), loop).result(timeout)
        return within(Path(written), max_bytes)

    return fetch
