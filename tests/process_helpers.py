"""Helpers of the tests that run real `classpulse run` processes: wait for a condition, a port."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    """Poll `check` until it holds or `timeout` seconds pass; its last answer."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(step)
    return check()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
