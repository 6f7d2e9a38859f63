"""Files only their owner may read: the data directory, QR codes (they carry invite codes for any
role), criteria notices and reports. `classpulse` also sets umask 077 (bot/cli/app.py: entry);
these helpers make it hold for library callers too."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(OSError):  # a directory someone else owns: leave it
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
    return path
