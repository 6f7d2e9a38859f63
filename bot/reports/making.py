"""One report made for the messenger: built from the database, its files written to disk.

`make_report` is what the chat's /report, the final report and the digest call (off the event
loop). With `REPORTS_IN_CHILD_PROCESS` (the default) the work runs in a short-lived child
process, `python -m bot.reports.render_child`: matplotlib, openpyxl, python-docx and lxml then
never enter the long-running bot, which would otherwise stay ~110 MiB heavier for its whole
life after the first report (freed objects do not give their arenas back to the system).
The job goes to the child as JSON on stdin (the database URL may hold a password: never argv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.engine.events import OutFile
from bot.reports.messages import RenderedReport, ReportFile, render_report
from bot.settings import Settings
from storage.db import Database

# The child's exit code for a report nobody can make (unknown wave, class, role): ReportError.
REPORT_ERROR_EXIT = 3
# One child at a time, as one inline render at a time: two reports at once would double the
# peak memory on a small server, and they are rare.
_CHILD_LOCK = threading.Lock()


class ReportChildFailed(RuntimeError):
    """The child crashed, timed out or answered nonsense. The message holds no report content."""


@dataclass(frozen=True)
class ReportScope:
    """What `analytics.build_report` is asked for (None: its defaults)."""

    survey_slugs: tuple[str, ...] | None = None
    wave_label: str | None = None
    class_name: str | None = None
    role: str | None = None
    now: datetime | None = None


def make_report(
    db: Database, settings: Settings, scope: ReportScope, out_dir: Path, stem: str
) -> RenderedReport:
    """The report's summary text and `<stem>.png/.xlsx/.docx` in `out_dir` (no files when
    nobody answered yet). Raises analytics' ReportError for an unknown scope and
    ReportChildFailed when the child process fails or outlives the timeout."""
    if not settings.reports_in_child_process:
        return render_report(build(db, options_of(settings), scope), out_dir, stem)
    job = job_json(db.url, settings, scope, out_dir, stem)
    with _CHILD_LOCK:
        return _run_child(job, settings.reports_child_timeout)


def build(db: Database, options: Any, scope: ReportScope) -> Any:
    """`analytics.build_report` for this scope (the bot and the child both build with it)."""
    from analytics import build_report  # lazily: a bot at rest needs no analytics

    return build_report(
        db,
        options,
        list(scope.survey_slugs) if scope.survey_slugs is not None else None,
        wave_label=scope.wave_label,
        class_name=scope.class_name,
        role=scope.role,
        now=scope.now,
    )


def options_of(settings: Settings) -> Any:
    """The school's AnalyticsOptions."""
    from analytics import AnalyticsOptions

    return AnalyticsOptions(settings.school_name, settings.tz, settings.min_group_size)


def job_json(
    database_url: str, settings: Settings, scope: ReportScope, out_dir: Path, stem: str
) -> str:
    """The child's job: everything it needs, nothing it does not (no tokens)."""
    return json.dumps(
        {
            "database_url": database_url,
            "school_name": settings.school_name,
            "timezone": settings.timezone,
            "min_group_size": settings.min_group_size,
            "survey_slugs": list(scope.survey_slugs) if scope.survey_slugs is not None else None,
            "wave_label": scope.wave_label,
            "class_name": scope.class_name,
            "role": scope.role,
            "now": scope.now.isoformat() if scope.now is not None else None,
            "out_dir": str(out_dir),
            "stem": stem,
        },
        ensure_ascii=False,
    )


def scope_of(job: dict[str, Any]) -> ReportScope:
    """The scope a job (job_json) asks for."""
    slugs = job["survey_slugs"]
    return ReportScope(
        survey_slugs=tuple(slugs) if slugs is not None else None,
        wave_label=job["wave_label"],
        class_name=job["class_name"],
        role=job["role"],
        now=datetime.fromisoformat(job["now"]) if job["now"] else None,
    )


def result_json(rendered: RenderedReport) -> str:
    """What the child prints on stdout: the summary text and the files it wrote."""
    files = [
        {"path": f.file.path, "name": f.file.name, "mime": f.file.mime, "caption": f.caption_key}
        for f in rendered.files
    ]
    return json.dumps({"text": rendered.text, "files": files}, ensure_ascii=False)


def child_command() -> list[str]:
    """How the child is started (a name to replace in the tests' hung-child case)."""
    return [sys.executable, "-m", "bot.reports.render_child"]


def child_env() -> dict[str, str]:
    """The bot's environment without its secrets: the child needs no messenger token, and its
    job brings the database URL."""
    secret = ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL")
    return {k: v for k, v in os.environ.items() if not any(w in k.upper() for w in secret)}


def _run_child(job: str, timeout: float) -> RenderedReport:
    try:
        done = subprocess.run(
            child_command(),
            input=job.encode(),
            env=child_env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise ReportChildFailed(f"report child timed out after {timeout:g} s") from exc
    # The child's stderr is one line naming the error's type (never a value from the report).
    last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:300]
    if done.returncode == REPORT_ERROR_EXIT:
        from analytics import ReportError

        raise ReportError(last)
    if done.returncode != 0:
        raise ReportChildFailed(f"report child exited with {done.returncode}: {last}")
    try:
        result = json.loads(done.stdout.decode())
        files = tuple(
            ReportFile(OutFile(f["path"], f["name"], f["mime"]), f["caption"])
            for f in result["files"]
        )
        return RenderedReport(str(result["text"]), files)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportChildFailed("report child printed no valid result") from exc
