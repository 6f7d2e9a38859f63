"""Reports made in a child process (REPORTS_IN_CHILD_PROCESS, bot/reports/making.py): the
director gets the same files as from the inline render, the running bot never loads the
renderers (nor, at rest, Alembic, a web server or QR codes: issue 16's idle RSS), and a child
that fails or hangs tells the director and loses no request.

The other tests render inline (tests/conftest.py clean_settings): these run the child for real,
in a real `classpulse run` probe process (one for the whole module)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.reports import making, render_child
from bot.reports.making import ReportChildFailed, ReportScope, make_report
from bot.settings import Settings
from bot.staff.reports import finish_pending_reports, run_report_request
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import invites, people, staff
from tests.conftest import clean_settings
from tests.fake_telegram import FakeTelegram
from tests.school import SchoolBuilder
from tests.telegram_harness import running_bot, seed_school

ROOT = Path(__file__).resolve().parent.parent
DIRECTOR, PARENT = 3003, 1001
SLUG, LABEL = "assessment-parents", "2026-03"
RENDERERS = ("matplotlib", "openpyxl", "docx")
# What the real child says when it cannot write the files (render_child.main).
CHILD_FAILED = "report child failed: FileExistsError"


def submit(db: Database, settings: Settings, wave_id: int, person_id: int) -> None:
    SchoolBuilder(db, settings).submit(wave_id, person_id, "parent", {"q1": 0, "q2": 1})


@dataclass
class Asked:
    """What the director saw after /report, and the files the outbox sent."""

    texts: list[str]
    files: list[dict[str, Any]]


def ask_for_a_report(db: Database, settings: Settings, now: datetime) -> Asked:
    """The director's /report through real PTB and the real chat service, at `now`."""
    data = seed_school(db, settings)
    with db.write() as session:
        director_code = invites.create_invite(session, None, "director", now).code

    async def scenario() -> list[str]:
        fake = FakeTelegram()
        async with running_bot(fake, settings, db) as bot:
            bot.service.background = lambda task: task()  # settle() then covers the report
            for chat, code in ((DIRECTOR, director_code), (PARENT, data.parent_code)):
                fake.push_text(chat, f"/start {code}")
                await bot.settle()
                fake.press(chat, "Погоджуюсь")
                await bot.settle()
            with db.read() as session:
                parent = people.person_for_identity(session, "telegram", str(PARENT))
            assert parent is not None
            submit(db, settings, data.wave_id, parent.id)
            bot.service.clock = lambda: now  # the report's date, to compare with inline
            fake.push_text(DIRECTOR, "/report")
            await bot.settle()
            fake.press(DIRECTOR, "остання")
            await bot.settle()
            return [s.text for s in fake.view(DIRECTOR)]

    texts = asyncio.run(scenario())
    with db.read() as session:
        payloads = session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == "report")
            .order_by(OutboxMessage.id)
        ).all()
    return Asked(texts, [p["reply"]["file"] for p in payloads if p["reply"].get("file")])


def xlsx_cells(path: Path) -> list[tuple[str, list[tuple[object, ...]]]]:
    from openpyxl import load_workbook  # here, not at collection: it loads numpy

    book = load_workbook(io.BytesIO(path.read_bytes()))
    return [(sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets]


def docx_text(path: Path) -> list[str]:
    from docx import Document

    doc = Document(io.BytesIO(path.read_bytes()))
    cells = [c.text for table in doc.tables for row in table.rows for c in row.cells]
    return [p.text for p in doc.paragraphs] + cells


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_a_failed_child_tells_the_director_and_the_request_is_made_later(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"min_group_size": 1, "reports_in_child_process": True})
    blocked = settings.data_dir / "reports" / "requested"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("not a folder")  # the child cannot write the files: it fails
    # A stand-in child that fails as the real one does there (the next test: ~1 s less).
    fails = f"import sys; print({CHILD_FAILED!r}, file=sys.stderr); sys.exit(1)"
    monkeypatch.setattr(making, "child_command", lambda: [sys.executable, "-c", fails])
    now = datetime.now(UTC)
    asked = ask_for_a_report(db, settings, now)

    assert "Вибачте, сталася помилка" in asked.texts[-1]
    assert asked.files == []
    with db.read() as session:
        pending = staff.pending_report_requests(session, before=now + timedelta(days=1))
    assert len(pending) == 1  # not lost: the scheduler's catch-up makes it

    blocked.unlink()
    # Made inline: the child's own success is the other tests' (a second child: ~1.5 s).
    inline = settings.model_copy(update={"reports_in_child_process": False})
    assert finish_pending_reports(db, inline, now + timedelta(minutes=10)) == 1
    with db.read() as session:
        assert staff.pending_report_requests(session, before=now + timedelta(days=1)) == []
        files = [
            p["reply"]["file"]["name"]
            for p in session.scalars(
                select(OutboxMessage.payload)
                .where(OutboxMessage.kind == "report")
                .order_by(OutboxMessage.id)
            )
            if p["reply"].get("file")
        ]
    assert [Path(name).suffix for name in files] == [".png", ".xlsx", ".docx"]


def test_the_real_child_fails_on_an_unwritable_folder_with_one_line(
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m bot.reports.render_child`'s main, in process: what the stand-in child above
    answers, and no report content on stderr."""
    settings = settings.model_copy(update={"min_group_size": 1})
    now = datetime.now(UTC)
    seed_requests(db, settings, now, 0)
    blocked = settings.data_dir / "reports" / "requested"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("not a folder")
    scope = ReportScope((SLUG,), LABEL, None, now=now)
    job = making.job_json(db.url, settings, scope, blocked, "r")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(job.encode())))
    assert render_child.main() == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", CHILD_FAILED + "\n")
    assert list(blocked.parent.iterdir()) == [blocked]


def seed_requests(db: Database, settings: Settings, now: datetime, count: int) -> list[int]:
    """A school with one answer and `count` stored /report requests of its director, not yet
    made."""
    builder = SchoolBuilder.create(db, settings, ("7-А",))
    wave_id = builder.wave(SLUG, now - timedelta(days=1), label=LABEL)
    submit(
        db, settings, wave_id, builder.person("Батько", "parent", "7-А", ("telegram", str(PARENT)))
    )
    director = builder.person("Директорка", "director", None, ("telegram", str(DIRECTOR)))
    with db.write() as session:
        return [
            staff.add_report_request(
                session,
                person_id=director,
                channel="telegram",
                external_id=str(DIRECTOR),
                language="uk",
                wave_id=wave_id,
                class_id=None,
                now=now,
            )
            for _ in range(count)
        ]


def test_a_hung_child_is_stopped_and_the_request_stays(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(
        update={"min_group_size": 1, "reports_in_child_process": True, "reports_child_timeout": 0.2}
    )
    now = datetime.now(UTC)
    (request_id,) = seed_requests(db, settings, now, 1)
    hung = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(making, "child_command", lambda: hung)
    with pytest.raises(ReportChildFailed, match=r"timed out after 0\.2 s"):
        run_report_request(db, settings, request_id, now)
    with db.read() as session:
        assert staff.pending_report_requests(session, before=now + timedelta(days=1)) == [
            request_id
        ]


# `classpulse run` as bot/app.py composes it (reports in a child), against the fake Bot API.
# Once it is sending, the probe notes what the bot has loaded at rest; then the director's
# first stored /report is made in the bot's worker thread as the chat would, and the probe
# notes again; then it imports one renderer itself: the control that the probe sees a
# renderer that gets loaded. The second request, of the same scope, is made inline by the
# test process (same database, same `now`): the reference the child's report is compared
# with. One bot for the file's four readers: starting one is most of its time.
PROBE = """
import asyncio, json, sys
from datetime import datetime

from bot.staff.reports import run_report_request
from tests.running_probe import serve_with

url, data_dir, in_child, now = sys.argv[1:5]
loaded = {}


async def look(rt, app):
    loaded["at_rest"] = sorted(sys.modules)
    when = datetime.fromisoformat(now)
    await asyncio.to_thread(run_report_request, app.db, app.settings, int(in_child), when)
    loaded["child"] = sorted(sys.modules)
    import docx  # the smallest renderer to load (~0.05 s)

    loaded["control"] = sorted(sys.modules)


serve_with(url, data_dir, look, min_group_size=1, reports_in_child_process=True)
print(json.dumps(loaded))
"""

# Loaded only when their job runs: a report, a migration, a webhook, an invite's QR code
# (issue 16: a running bot's idle RSS).
NOT_AT_REST = (
    "pandas",
    "numpy",
    "matplotlib",
    "openpyxl",
    "docx",
    "alembic",
    "mako",
    "uvicorn",
    "starlette",
    "qrcode",
    "PIL",
    "sqlalchemy.dialects.postgresql",  # the bot runs on SQLite here
)
# What a started bot must have loaded: without these the probe saw no running bot.
RUNNING = ("telegram.ext", "apscheduler.schedulers.asyncio", "bot.delivery.outbox")


def loaded_of(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The `names` that are loaded, as packages or any of their submodules."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@dataclass
class Probed:
    """What the probe's bot had loaded at each moment, and what each request sent the director
    (through the outbox: the texts, and the files on disk)."""

    modules: dict[str, set[str]]
    texts: dict[str, list[str]]
    files: dict[str, list[Path]]
    pending: list[int]


@pytest.fixture(scope="module")
def probed(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Probed:
    tmp_path = tmp_path_factory.mktemp("probe")
    settings = clean_settings(module_db_url, tmp_path / "data")
    db = Database(module_db_url)
    now = datetime.now(UTC)
    in_child, inline = seed_requests(db, settings, now, 2)
    args = [module_db_url, str(tmp_path / "data"), str(in_child), now.isoformat()]
    # The environment that clean_settings reads (the reference below is made with it).
    env = {k: v for k, v in os.environ.items() if k not in ("TIMEZONE", "VIBER_AUTH_TOKEN")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.splitlines()[-1])
    # The reference, inline here: the probe's settings as they bear on a report.
    reference = settings.model_copy(update={"min_group_size": 1})
    assert run_report_request(db, reference, inline, now) == []  # queued in the outbox
    requests = {"child": in_child, "inline": inline}
    texts: dict[str, list[str]] = {mode: [] for mode in requests}
    files: dict[str, list[Path]] = {mode: [] for mode in requests}
    with db.read() as session:
        pending = staff.pending_report_requests(session, before=now + timedelta(days=1))
        sent = session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.payload)
            .where(OutboxMessage.kind == "report")
            .order_by(OutboxMessage.id)
        ).all()
    db.dispose()
    for mode, request_id in requests.items():
        for key, payload in sent:
            if key.startswith(f"report:{request_id}:"):
                texts[mode].append(payload["reply"]["text"])
                if payload["reply"].get("file"):
                    files[mode].append(Path(payload["reply"]["file"]["path"]))
    return Probed({moment: set(names) for moment, names in loaded.items()}, texts, files, pending)


def test_a_report_from_the_child_is_the_inline_report(probed: Probed) -> None:
    """The same request scope made by the running bot's child, then inline: the director gets
    the same summary, to the byte, and the same files."""
    made, ref = probed.files["child"], probed.files["inline"]
    assert [p.suffix for p in made] == [".png", ".xlsx", ".docx"]
    assert [p.suffix for p in ref] == [".png", ".xlsx", ".docx"]
    assert probed.texts["child"] == probed.texts["inline"]
    assert any("Відповіли:" in text for text in probed.texts["child"])
    assert png_size(made[0]) == png_size(ref[0])
    assert xlsx_cells(made[1]) == xlsx_cells(ref[1])
    assert docx_text(made[2]) == docx_text(ref[2])
    assert any("Анкета для батьків" in line for line in docx_text(made[2]))
    # Private files in a private folder, as the inline render leaves them.
    assert [p.stat().st_mode & 0o777 for p in made] == [p.stat().st_mode & 0o777 for p in ref]
    assert made[0].parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.sqlite_only  # on PostgreSQL its dialect is loaded, rightly
def test_a_running_bot_on_a_current_schema_loads_no_heavy_library(probed: Probed) -> None:
    """`classpulse run` at rest, polling Telegram: no report renderers, no Alembic, no web
    server and no QR codes."""
    modules = probed.modules["at_rest"]
    assert [name for name in RUNNING if name not in modules] == []
    assert loaded_of(modules, NOT_AT_REST) == []


@pytest.mark.sqlite_only  # the at-rest expectations above
@pytest.mark.parametrize(("moment", "expected"), [("child", []), ("control", ["docx"])])
def test_a_running_bot_stays_without_renderers_after_a_report(
    probed: Probed, moment: str, expected: list[str]
) -> None:
    assert probed.pending == []
    files = probed.files["child"]
    assert [p.suffix for p in files] == [".png", ".xlsx", ".docx"]
    assert all(p.stat().st_size > 0 for p in files)
    # After the probe's own import the probe sees that renderer (this test can fail).
    assert loaded_of(probed.modules[moment], RENDERERS) == expected


def test_the_child_gets_its_job_on_stdin_and_no_secret(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in child that answers with what it was given: argv, environment names, job."""
    settings = settings.model_copy(update={"reports_in_child_process": True})
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db/x")
    echo = (
        "import json, os, sys; job = json.loads(sys.stdin.read()); "
        "print(json.dumps({'text': json.dumps([sys.argv, sorted(os.environ), job]), 'files': []}))"
    )
    monkeypatch.setattr(making, "child_command", lambda: [sys.executable, "-c", echo])
    scope = ReportScope((SLUG,), LABEL, "7-А", now=datetime(2026, 3, 2, tzinfo=UTC))
    argv, env, job = json.loads(make_report(db, settings, scope, tmp_path, "r").text)
    assert argv == ["-c"]
    assert "PATH" in env and "TELEGRAM_BOT_TOKEN" not in env and "DATABASE_URL" not in env
    assert job["database_url"] == db.url
    assert (job["survey_slugs"], job["wave_label"], job["class_name"]) == ([SLUG], LABEL, "7-А")
    assert job["now"] == "2026-03-02T00:00:00+00:00"
