"""One machine-readable line per measure, for scripts/bench/run_all.py (`make bench`).

Each benchmark prints, besides its own report, lines like

    BENCH {"bench": "interactive", "measure": "next question p95, 20 users", "ours": 0.52,
           "peer": 0.41, "peer_name": "bare PTB", "unit": "s", "ratio": 1.27,
           "goal": "<= peer + 0.3 s", "met": true}

`ratio` is ours / peer (None without a peer); `met` says whether the issue's goal holds.
"""

from __future__ import annotations

import json
import math
from typing import Any

PREFIX = "BENCH "


def emit(
    bench: str,
    measure: str,
    ours: float,
    *,
    peer: float | None = None,
    peer_name: str = "",
    unit: str = "",
    goal: str = "",
    met: bool | None = None,
) -> None:
    ratio = ours / peer if peer and not math.isnan(peer) else None
    line: dict[str, Any] = {
        "bench": bench,
        "measure": measure,
        "ours": round(ours, 4),
        "peer": None if peer is None else round(peer, 4),
        "peer_name": peer_name,
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": goal,
        "met": met,
    }
    print(PREFIX + json.dumps(line, ensure_ascii=False), flush=True)


def parse(output: str) -> list[dict[str, Any]]:
    """The summary lines of a benchmark's output."""
    found = []
    for line in output.splitlines():
        if line.startswith(PREFIX):
            try:
                found.append(json.loads(line[len(PREFIX) :]))
            except ValueError:
                continue
    return found
