"""Whole processes, as a school runs them: the CLI's start-up, reports over 1M answers, a Forms
import, and a bot at rest, each against the floor a user would compare it with.

    .venv/bin/python scripts/bench/processes.py [--answers 1000000] [--rows 100000]
    .venv/bin/python scripts/bench/processes.py --only import   # just the Forms import

- `classpulse --help`: wall time of the whole process (goal < 0.4 s).
- `classpulse report --format json` on a wave of ~1M answers, as a process, against the
  `sqlite3` command running the one GROUP BY every distribution needs (goal <= 2x); then
  `--format docx` and `--format png` against that JSON (goal <= 3x), with few and with many
  distinct free texts (50 vs one per text answer).
- `classpulse import-forms` of a Google Forms CSV against a process that only runs
  `pandas.read_csv` on the same file: time (goal <= 3x) and peak RSS (goal <= 2x).
- idle RSS of `classpulse run` (Telegram, on the fake Bot API over HTTP) against a bare PTB
  bot polling the same fake, 5 s after start (goal <= 1.5x).

Every figure is the best of `--runs` runs; peak RSS comes from `wait4` of each process.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bench.analytics import SLUG, definition, fill, fresh_db, write_export  # noqa: E402
from scripts.bench.summary import emit  # noqa: E402
from storage.repositories.surveys import sync_survey  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fake_telegram_server import FakeTelegramServer  # noqa: E402

BIN = Path(sys.executable).parent
CLASSPULSE = str(BIN / "classpulse")


def run(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one process; it must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def best(runs: int, cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    results = [run(cmd, env) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results)


def env_for(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(workdir / "data"),
        "LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "",
        "VIBER_AUTH_TOKEN": "",
    }


def cli_help(runs: int) -> None:
    seconds, _ = best(runs, [CLASSPULSE, "--help"])
    print(f"classpulse --help: {seconds:.3f} s")
    emit(
        "processes",
        "classpulse --help (whole process)",
        seconds,
        unit="s",
        goal="< 0.4 s",
        met=seconds < 0.4,
    )


def reports(root: Path, answers: int, runs: int, unique_texts: bool) -> None:
    label = "distinct free texts" if unique_texts else "50 distinct free texts"
    rng = random.Random(7)
    db = fresh_db(root, f"report-{answers}-{int(unique_texts)}")
    if unique_texts:
        import scripts.bench.analytics as a

        plain = a.random_answers

        def many(rng: random.Random) -> dict[str, object]:
            answers = plain(rng)
            if "t0" in answers:
                answers["t0"] = f"пропозиція номер {rng.randrange(10**9)}"
            return answers

        a.random_answers = many
        try:
            fill(db, answers, rng)
        finally:
            a.random_answers = plain
    else:
        fill(db, answers, rng)
    print()
    path = db.url.removeprefix("sqlite:///")
    db.dispose()
    env = env_for(f"sqlite:///{path}", root)
    sql = (
        "SELECT question_id, option_index, count(*) FROM answers WHERE wave_id = 1 "
        "GROUP BY question_id, option_index;"
    )
    floor, _ = best(runs, ["sqlite3", path, sql])
    times = {}
    for fmt in ("json", "docx", "png"):
        out = root / f"report.{fmt}"
        cmd = [CLASSPULSE, "report", "--survey", SLUG, "--format", fmt, "--out", str(out)]
        times[fmt], _ = best(runs, cmd, env)
    print(
        f"{answers:,} answers ({label}): sqlite3 GROUP BY {floor:.2f} s; report json "
        f"{times['json']:.2f} s (x{times['json'] / floor:.1f}); docx {times['docx']:.2f} s "
        f"(x{times['docx'] / times['json']:.1f} json); png {times['png']:.2f} s "
        f"(x{times['png'] / times['json']:.1f} json)"
    )
    if not unique_texts:
        emit(
            "processes",
            f"report --format json, {answers:,} answers",
            times["json"],
            peer=floor,
            peer_name="sqlite3 GROUP BY",
            unit="s",
            goal="<= 2 x floor",
            met=times["json"] <= 2 * floor,
        )
    for fmt in ("docx", "png"):
        emit(
            "processes",
            f"report --format {fmt}, {answers:,} answers, {label}",
            times[fmt],
            peer=times["json"],
            peer_name="report json",
            unit="s",
            goal="<= 3 x json",
            met=times[fmt] <= 3 * times["json"],
        )


def import_forms(root: Path, rows: int, runs: int) -> None:
    csv_path = root / f"export-{rows}.csv"
    write_export(csv_path, rows, random.Random(11))
    peer = [sys.executable, "-c", f"import pandas; pandas.read_csv({str(csv_path)!r})"]
    floor_s, floor_mb = best(runs, peer)
    results = []
    for i in range(runs):  # a fresh database each time: the same file twice changes nothing
        db = fresh_db(root, f"import-{rows}-{i}")
        with db.write() as session:
            sync_survey(session, definition())
        url = db.url
        db.dispose()
        cmd = [CLASSPULSE, "import-forms", str(csv_path), "--survey", SLUG, "--wave", "bench"]
        results.append(run(cmd, env_for(url, root)))
    ours_s, ours_mb = min(r[0] for r in results), min(r[1] for r in results)
    print(
        f"import-forms {rows:,} rows: {ours_s:.2f} s, {ours_mb:.0f} MiB; pandas.read_csv "
        f"{floor_s:.2f} s, {floor_mb:.0f} MiB"
    )
    emit(
        "processes",
        f"import-forms {rows:,} rows: time",
        ours_s,
        peer=floor_s,
        peer_name="pandas.read_csv",
        unit="s",
        goal="<= 3 x peer",
        met=ours_s <= 3 * floor_s,
    )
    emit(
        "processes",
        f"import-forms {rows:,} rows: peak RSS",
        ours_mb,
        peer=floor_mb,
        peer_name="pandas.read_csv",
        unit="MiB",
        goal="<= 2 x peer",
        met=ours_mb <= 2 * floor_mb,
    )


BARE_BOT = """
import sys
from telegram.ext import Application, CommandHandler
async def menu(update, context):
    await update.message.reply_text("Головне меню")
app = Application.builder().token(sys.argv[2]).base_url(sys.argv[1] + "/bot").build()
app.add_handler(CommandHandler("menu", menu))
app.run_polling(poll_interval=0.0, timeout=1, close_loop=False)
"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_rss(root: Path) -> None:
    fake = FakeTelegram()
    db = fresh_db(root, "idle")
    url = db.url
    db.dispose()
    with FakeTelegramServer(fake) as server:
        env = {
            **env_for(url, root),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "QUIET_HOURS": "",
        }
        figures = {}
        for name, cmd in (
            ("classpulse run", [CLASSPULSE, "run"]),
            ("bare PTB", [sys.executable, "-c", BARE_BOT, server.base_url, fake.token]),
        ):
            proc = subprocess.Popen(
                cmd, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                time.sleep(6.0)
                if proc.poll() is not None:
                    raise SystemExit(f"{name} ended at start ({proc.returncode})")
                figures[name] = rss_mib(proc.pid)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    ours, peer = figures["classpulse run"], figures["bare PTB"]
    print(f"idle RSS: classpulse run {ours:.0f} MiB; bare PTB {peer:.0f} MiB")
    emit(
        "processes",
        "idle RSS (Telegram, polling)",
        ours,
        peer=peer,
        peer_name="bare PTB",
        unit="MiB",
        goal="<= 1.5 x peer",
        met=ours <= 1.5 * peer,
    )


PARTS = ["help", "idle", "import", "report"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, default=PARTS, help="run only these parts"
    )
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if "help" in args.only:
        cli_help(args.runs * 2)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "idle" in args.only:
            idle_rss(root)
        if "import" in args.only:
            import_forms(root, args.rows, args.runs)
        if "report" in args.only:
            reports(root, args.answers, args.runs, unique_texts=False)
            reports(root, args.answers, args.runs, unique_texts=True)


if __name__ == "__main__":
    main()
