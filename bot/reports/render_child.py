"""`python -m bot.reports.render_child`: make one report in a process of its own.

Reads one job (bot/reports/making.py job_json) as JSON on stdin, builds the report with
`analytics.build_report` and writes its png/xlsx/docx as the bot would (private files in a
private folder), then prints the summary text and the files as JSON on stdout. Exit codes:
0 done; 3 the scope is unknown (ReportError, its one-line message on stderr); 1 anything else,
with one line on stderr naming the error's type only (a report's values stay out of logs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def make(job: dict[str, Any]) -> str:
    """The job done: the result's JSON."""
    from analytics import AnalyticsOptions
    from bot.reports.making import build, result_json, scope_of
    from bot.reports.messages import render_report
    from storage.db import Database

    options = AnalyticsOptions(
        job["school_name"], ZoneInfo(job["timezone"]), int(job["min_group_size"])
    )
    db = Database(job["database_url"])
    try:
        report = build(db, options, scope_of(job))
        return result_json(render_report(report, Path(job["out_dir"]), job["stem"]))
    finally:
        db.dispose()


def main() -> int:
    from analytics import ReportError
    from bot.reports.making import REPORT_ERROR_EXIT

    try:
        result = make(json.loads(sys.stdin.buffer.read()))
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return REPORT_ERROR_EXIT
    except Exception as exc:  # one clear line; a traceback could quote an answer
        print(f"report child failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    sys.stdout.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
