"""One asyncio lock per key (a user, a chat), created on demand and dropped when unused.

Waiters are served in arrival order (asyncio.Lock is fair), which is what keeps two messages
to one chat, or two callbacks from one user, in the order they were started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyedLocks:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold the locks of all `keys`, taken in sorted order so two holders never deadlock."""
        ordered = sorted(set(keys))
        entries = []
        for key in ordered:
            entry = self._entries.setdefault(key, _Entry())
            entry.users += 1
            entries.append((key, entry))
        taken: list[asyncio.Lock] = []
        try:
            for _, entry in entries:
                await entry.lock.acquire()
                taken.append(entry.lock)
            yield
        finally:
            for lock in taken:
                lock.release()
            for key, entry in entries:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[key]
