"""`make bench`: run every benchmark and print one table of what they measured, as ratios.

    .venv/bin/python scripts/bench/run_all.py [--quick] [--only interactive burst ...]

Each benchmark prints its own report and BENCH summary lines (scripts/bench/summary.py); this
collects them into one table: measure, classpulse, the peer, the ratio, the goal, met or not.
A benchmark that fails to run is a row too. Exit code 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bench.summary import parse  # noqa: E402

HERE = Path(__file__).resolve().parent
# (name, arguments, arguments with --quick)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("interactive", [], ["--users", "1", "20", "--recipients", "600"]),
    ("burst", [], ["--updates", "300"]),
    ("processes", [], ["--answers", "100000", "--rows", "10000", "--runs", "1"]),
    ("telegram_broadcast", [], ["--recipients", "600"]),
    ("viber_broadcast", [], ["--subscribers", "2000"]),
    ("analytics", [], ["--quick"]),
    ("multi_process", [], ["--recipients", "600", "--processes", "1", "2"]),
    ("report_child", [], ["--answers", "2000", "--runs", "1"]),
    ("stack_floors", [], ["--answers", "100000", "--rows", "10000", "--runs", "1"]),
]


def _number(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.3g}{(' ' + unit) if unit and unit not in ('/s',) else unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", nargs="+", default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name, full, quick in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        script = HERE / f"{name}.py"
        print(f"== {script.relative_to(ROOT)}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script), *(quick if args.quick else full)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        lines = [line for line in proc.stdout.splitlines() if not line.startswith("BENCH ")]
        print("\n".join(lines[-12:]))
        found = parse(proc.stdout)
        if not found:
            ran = proc.returncode == 0
            rows.append(
                {
                    "bench": name,
                    "measure": "(its own report above)" if ran else "did not run",
                    "met": None if ran else False,
                }
            )
            if not ran:
                print(proc.stderr[-2000:])
        rows += found
    print()
    header = f"{'measure':<58} {'classpulse':>11} {'peer':>11} {'ratio':>7}  goal"
    print(header)
    print("-" * len(header))
    missed = 0
    for row in rows:
        met = row.get("met")
        flag = "" if met is None else ("ok" if met else "MISSED")
        missed += met is False
        measure = f"{row['bench']}: {row['measure']}"[:58]
        peer = row.get("peer")
        peer_name = f" ({row['peer_name']})" if row.get("peer_name") else ""
        print(
            f"{measure:<58} {_number(row.get('ours'), row.get('unit', '')):>11} "
            f"{_number(peer, row.get('unit', '')):>11} {_number(row.get('ratio')):>7}  "
            f"{row.get('goal', '')}{peer_name} {flag}"
        )
    print(f"\n{missed} goal(s) missed" if missed else "\nevery goal met")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
