"""What the declared stack costs before classpulse's own code runs, against issue 16's peers.

    .venv/bin/python scripts/bench/stack_floors.py [--answers 1000000] [--rows 100000] [--runs 3]

Three of issue 16's goals compare a whole classpulse process with a peer that loads almost nothing.
This measures, in the same run as that peer, processes that do *no* classpulse work at all, only
what the project's declared dependencies and data model impose:

- report: the `sqlite3` GROUP BY floor against `python -c "import sqlalchemy.orm,
  pydantic_settings"` (the libraries every command that reads the database loads; goal <= 2x);
- idle RSS: a bare PTB bot against the same bot that has also imported SQLAlchemy's ORM,
  pydantic-settings, APScheduler and PyYAML (goal <= 1.5x);
- import: `pandas.read_csv` against a stdlib-only process that reads the same CSV and stores one
  row per answer in the narrowest table that can hold it (integer keys, random response ids
  written in key order, one index for the GROUP BY), in one transaction (goal <= 3x).

A floor above its goal means that goal cannot be met by any code on this stack and data model.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bench.analytics import fill, fresh_db, write_export  # noqa: E402
from scripts.bench.processes import BARE_BOT, _rss_after_start, best, env_for  # noqa: E402
from scripts.bench.summary import emit  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fake_telegram_server import FakeTelegramServer  # noqa: E402

# The libraries a database-reading command loads before any classpulse module.
STACK_IMPORTS = "import sqlalchemy.orm, pydantic_settings"
# What `classpulse run` loads besides python-telegram-bot, before any classpulse module.
BOT_STACK_IMPORTS = "import sqlalchemy.orm, pydantic_settings, apscheduler.schedulers.asyncio, yaml"

# One row per answer, in the narrowest form: integer codes, a random 63-bit response id (stored
# order must not be submit order), the primary key and the one index the report's GROUP BY uses.
NARROW_IMPORT = """
import csv, random, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE answers (response INTEGER, question INTEGER, item INTEGER, "
           "option INTEGER, PRIMARY KEY (response, question, item)) WITHOUT ROWID")
db.execute("CREATE INDEX ix_question_option ON answers (question, option)")
codes = {}
def rows():
    # Rows go in in key order, as classpulse writes them: random ids, then sorted, so the B-tree
    # only appends (random-order inserts cost several times more).
    with open(sys.argv[1], encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        responses = sorted((random.getrandbits(63), cells[2:]) for cells in reader)
    for response, cells in responses:
        for question, cell in enumerate(cells):
            if not cell:
                continue
            for item, part in enumerate(cell.split(", ")):
                yield response, question, item, codes.setdefault(part, len(codes))
with db:
    db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?)", rows())
print(db.execute("SELECT count(*) FROM answers").fetchone()[0])
"""


def report_floor(root: Path, answers: int, runs: int) -> None:
    db = fresh_db(root, "floors-report")
    fill(db, answers, random.Random(7))
    print()
    path = db.url.removeprefix("sqlite:///")
    db.dispose()
    sql = (
        "SELECT question_id, option_index, count(*) FROM answers WHERE wave_id = 1 "
        "GROUP BY question_id, option_index;"
    )
    floor, _ = best(runs, ["sqlite3", path, sql])
    stack, _ = best(runs, [sys.executable, "-c", STACK_IMPORTS])
    bare, _ = best(runs, [sys.executable, "-c", "pass"])
    print(
        f"report floor: sqlite3 GROUP BY {floor:.3f} s; bare python {bare:.3f} s; "
        f"importing SQLAlchemy ORM + pydantic-settings only {stack:.3f} s "
        f"(x{stack / floor:.2f} of the floor, goal for the whole report <= x2)"
    )
    emit(
        "stack_floors",
        "import sqlalchemy.orm + pydantic_settings, nothing else",
        stack,
        peer=floor,
        peer_name="sqlite3 GROUP BY, 1M answers",
        unit="s",
        goal="room left under 2 x floor",
        met=stack < 2 * floor,
    )


def idle_floor(root: Path, runs: int) -> None:
    fake = FakeTelegram()
    db = fresh_db(root, "floors-idle")
    url = db.url
    db.dispose()
    stacked_bot = BOT_STACK_IMPORTS + "\n" + BARE_BOT
    with FakeTelegramServer(fake) as server:
        env = {**env_for(url, root), "TELEGRAM_BOT_TOKEN": fake.token}
        figures: dict[str, float] = {}
        for _ in range(runs):
            for name, code in (("bare PTB", BARE_BOT), ("bare PTB + stack", stacked_bot)):
                cmd = [sys.executable, "-c", code, server.base_url, fake.token]
                rss = _rss_after_start(name, cmd, env, root)
                figures[name] = min(figures.get(name, rss), rss)
    peer, stacked = figures["bare PTB"], figures["bare PTB + stack"]
    print(
        f"idle floor: bare PTB {peer:.1f} MiB; the same bot having imported the stack "
        f"{stacked:.1f} MiB (x{stacked / peer:.2f}, goal for classpulse run <= x1.5)"
    )
    emit(
        "stack_floors",
        "bare PTB bot + SQLAlchemy ORM, pydantic-settings, APScheduler, PyYAML",
        stacked,
        peer=peer,
        peer_name="bare PTB",
        unit="MiB",
        goal="room left under 1.5 x peer",
        met=stacked < 1.5 * peer,
    )


def import_floor(root: Path, rows: int, runs: int) -> None:
    csv_path = root / f"floors-{rows}.csv"
    write_export(csv_path, rows, random.Random(11))
    peer, _ = best(
        runs, [sys.executable, "-c", f"import pandas; pandas.read_csv({str(csv_path)!r})"]
    )
    narrow = []
    for i in range(runs):
        target = root / f"floors-narrow-{i}.db"
        narrow.append(best(1, [sys.executable, "-c", NARROW_IMPORT, str(csv_path), str(target)])[0])
    ours = min(narrow)
    print(
        f"import floor, {rows:,} rows: pandas.read_csv {peer:.2f} s; stdlib csv + sqlite3, "
        f"one narrow row per answer {ours:.2f} s (x{ours / peer:.2f}, goal <= x3)"
    )
    emit(
        "stack_floors",
        f"stdlib csv + sqlite3, one integer row per answer, {rows:,} rows",
        ours,
        peer=peer,
        peer_name="pandas.read_csv",
        unit="s",
        goal="<= 3 x peer",
        met=ours <= 3 * peer,
    )


PARTS = ["report", "idle", "import"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "report" in args.only:
            report_floor(root, args.answers, args.runs)
        if "idle" in args.only:
            idle_floor(root, args.runs)
        if "import" in args.only:
            import_floor(root, args.rows, args.runs)


if __name__ == "__main__":
    main()
