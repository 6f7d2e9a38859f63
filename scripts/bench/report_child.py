"""A running bot after one report: RSS and the report's latency, rendered inline vs in a child.

    .venv/bin/python scripts/bench/report_child.py [--answers 20000] [--runs 3]

A `classpulse run`-like process (bot/app.py's components, polling the fake Bot API over HTTP)
makes one stored /report of a wave of ~`answers` answers in a worker thread, as the chat does,
then reads its own VmRSS. Both modes run alternately `runs` times (a load spike hits both);
best of each. Goal (REPORTS_IN_CHILD_PROCESS): the bot after a report <= 1.2x its size before.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bench.analytics import fill, fresh_db  # noqa: E402
from scripts.bench.summary import emit  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.repositories import people, staff, waves  # noqa: E402

PROBE = """
import asyncio, gc, json, sys, time
from datetime import datetime
from pathlib import Path

from bot.staff.reports import run_report_request
from tests.running_probe import serve_with

url, data_dir, request_id, mode = sys.argv[1:5]
result = {}


def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


async def look(rt, app):
    await asyncio.sleep(1.0)
    result["before"] = rss()
    started = time.perf_counter()
    now = datetime.now().astimezone()
    await asyncio.to_thread(run_report_request, app.db, app.settings, int(request_id), now)
    result["seconds"] = time.perf_counter() - started
    gc.collect()
    await asyncio.sleep(1.0)
    result["after"] = rss()


serve_with(
    url, data_dir, look, min_group_size=1, log_level="WARNING",
    reports_in_child_process=mode == "child",
)
print(json.dumps(result))
"""


def new_request(db: Database, person_id: int, wave_id: int) -> int:
    with db.write() as session:
        return staff.add_report_request(
            session,
            person_id=person_id,
            channel="telegram",
            external_id="3003",
            language="uk",
            wave_id=wave_id,
            class_id=None,
            now=datetime.now(UTC),
        )


def one_run(db: Database, root: Path, person_id: int, wave_id: int, mode: str) -> dict[str, float]:
    request_id = new_request(db, person_id, wave_id)
    args = [db.url, str(root / "data"), str(request_id), mode]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed: {out.stderr[-2000:]}")
    with db.read() as session:
        if staff.pending_report_requests(session, before=datetime.now(UTC)):
            raise SystemExit(f"{mode} run made no report")
    figures: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = fresh_db(root, "report-child")
        fill(db, args.answers, random.Random(7))
        print()
        with db.write() as session:
            wave_id = waves.list_waves(session)[0].id
            director = people.register(
                session, "telegram", "3003", "Директорка", "uk", datetime.now(UTC)
            )
            people.add_membership(session, director, None, "director")
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.runs):
            for mode in ("inline", "child"):
                figures = one_run(db, root, director, wave_id, mode)
                print(f"  {mode}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))
                mine = best.setdefault(mode, figures)
                for key, value in figures.items():
                    mine[key] = min(mine[key], value)
        db.dispose()
    inline, child = best["inline"], best["child"]
    print(
        f"RSS after one report: child {child['after']:.0f} MiB (before {child['before']:.0f}); "
        f"inline {inline['after']:.0f} MiB (before {inline['before']:.0f}); "
        f"inline / child = {inline['after'] / child['after']:.2f}x"
    )
    extra, ratio = child["seconds"] - inline["seconds"], child["seconds"] / inline["seconds"]
    print(
        f"report latency: child {child['seconds']:.2f} s, inline {inline['seconds']:.2f} s "
        f"(+{extra:.2f} s, {ratio:.2f}x)"
    )
    emit(
        "report_child",
        "bot RSS after one report (child)",
        child["after"],
        peer=inline["after"],
        peer_name="inline render",
        unit="MiB",
        goal="<= 1.2 x its RSS before",
        met=child["after"] <= 1.2 * child["before"],
    )
    emit(
        "report_child",
        "one report's latency (child)",
        child["seconds"],
        peer=inline["seconds"],
        peer_name="inline render",
        unit="s",
    )


if __name__ == "__main__":
    main()
