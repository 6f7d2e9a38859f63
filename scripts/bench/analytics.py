"""Benchmark: database -> JSON report against a bare GROUP BY, and Forms import throughput.

    .venv/bin/python scripts/bench/analytics.py           # 100k and 1M answers, 10k and 100k rows
    .venv/bin/python scripts/bench/analytics.py --quick   # 20k and 100k answers, 2k and 10k rows

A synthetic survey (single- and multi-choice questions and one free-text question) gets one
wave of stored answers, bulk-inserted through the repository; each timing is the best of a few
runs on a SQLite file in a temporary directory. Targets: report <= 3x the floor and < 0.5 s for
1M answers; both growing linearly; import rows/s steady from the smaller to the larger file.
The report counts options and respondents in one scan of the covering index
`ix_answers_wave_question_option` (a question's respondents are its first answer rows, `item`
0, which that index holds as part of the table's key): the same scan as the floor, no second
COUNT(DISTINCT) pass.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from analytics import AnalyticsOptions, build_report, import_forms, render
from bot.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.repositories.analytics import (
    bare_option_counts,
)
from storage.repositories.imports import NewResponse, bulk_add_responses
from storage.repositories.school import add_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import SurveyDef, parse_survey

SLUG = "bench-survey"
SINGLE, MULTI = 14, 5
SCALE = ["У повній мірі", "Здебільшого", "Частково", "Зовсім ні"]
CHOICES = ["додаткові заняття", "творчі, пошукові завдання", "консультації", "проєкти", "ІКТ"]
CLASSES = ["5-А", "6-А", "7-А", "8-А", "9-А"]
ANSWERS_PER_RESPONSE = SINGLE + MULTI * 2.5 + 0.3  # multi: 1-4 options; text: 30 %


def survey_yaml() -> str:
    lines = [f"id: {SLUG}", "title: Синтетична анкета", "audience: [student]", "questions:"]
    for i in range(SINGLE):
        lines.append(
            f"  - {{id: s{i}, number: {i + 1}, title: 'Питання {i + 1}', kind: single, "
            f"construct: c{i % 5}, options: [{', '.join(repr(o) for o in SCALE)}]}}"
        )
    for i in range(MULTI):
        number = SINGLE + i + 1
        lines.append(
            f"  - {{id: m{i}, number: {number}, title: 'Питання {number}', kind: multi, "
            f"options: [{', '.join(repr(o) for o in CHOICES)}]}}"
        )
    lines.append(
        f"  - {{id: t0, number: {SINGLE + MULTI + 1}, title: 'Ваші пропозиції', kind: text, "
        "required: false}"
    )
    return "\n".join(lines) + "\n"


def definition() -> SurveyDef:
    survey, problems = parse_survey(survey_yaml())
    if survey is None:
        raise SystemExit(f"bench survey is invalid: {problems}")
    return survey


def random_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {f"s{i}": rng.randrange(4) for i in range(SINGLE)}
    for i in range(MULTI):
        answers[f"m{i}"] = sorted(rng.sample(range(len(CHOICES)), rng.randint(1, 4)))
    if rng.random() < 0.3:
        answers["t0"] = f"пропозиція {rng.randrange(50)}"
    return answers


def options(settings: Settings) -> AnalyticsOptions:
    return AnalyticsOptions(
        school_name=settings.school_name, tz=settings.tz, min_group_size=settings.min_group_size
    )


def fresh_db(root: Path, name: str) -> Database:
    url = f"sqlite:///{root / name}.db"
    upgrade(url)
    return Database(url)


def fill(db: Database, answers: int, rng: random.Random) -> float:
    """One wave with about `answers` stored answers; returns the insert time in seconds."""
    responses = int(answers / ANSWERS_PER_RESPONSE)
    started = time.perf_counter()
    with db.write() as session:
        survey = sync_survey(session, definition())
        classes = [c.id for c in add_classes(session, "Бенчмарк", CLASSES)]
        wave = create_wave(session, survey.id, "bench", classes, status="closed", source="import")

        batch = [
            NewResponse(classes[i % len(classes)], "student", random_answers(rng))
            for i in range(responses)
        ]
        _, stored = bulk_add_responses(
            session, survey_id=survey.id, wave_id=wave.id, responses=batch
        )
    print(f"  stored {stored:,} answers of {responses:,} responses", end="")
    return time.perf_counter() - started


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_report(root: Path, answers: int, rng: random.Random) -> tuple[float, float]:
    """(report, bare GROUP BY) in seconds."""
    db = fresh_db(root, f"report-{answers}")
    seconds = fill(db, answers, rng)
    print(f" in {seconds:.1f} s ({answers / seconds:,.0f} answers/s)")
    settings = Settings(_env_file=None, database_url=db.url)

    def floor() -> object:
        with db.read() as session:
            return bare_option_counts(session, 1)

    def report() -> object:
        return render(build_report(db, options(settings), [SLUG]), "json")

    floor()  # warm the page cache and the imports for both
    report()
    floor_s = best_of(5, floor)
    report_s = best_of(5, report)
    db.dispose()
    return report_s, floor_s


def write_export(path: Path, rows: int, rng: random.Random) -> None:
    survey = definition()
    header = ["Позначка часу", "Клас"] + [f"{q.number}. {q.title}" for q in survey.questions]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            answers = random_answers(rng)
            cells = [f"{1 + i % 28:02d}.02.2025 10:{i % 60:02d}:00", CLASSES[i % len(CLASSES)]]
            for q in survey.questions:
                value = answers.get(q.id)
                if value is None:
                    cells.append("")
                elif q.kind == "multi":
                    cells.append(", ".join(q.options[j] for j in value))
                elif q.kind == "single":
                    cells.append(q.options[value])
                else:
                    cells.append(str(value))
            writer.writerow(cells)


def bench_import(root: Path, rows: int, rng: random.Random) -> float:
    path = root / f"export-{rows}.csv"
    write_export(path, rows, rng)
    db = fresh_db(root, f"import-{rows}")
    with db.write() as session:
        sync_survey(session, definition())
    settings = Settings(_env_file=None, database_url=db.url)
    started = time.perf_counter()
    result = import_forms(db, options(settings), path, SLUG)
    seconds = time.perf_counter() - started
    db.dispose()
    print(f"  import {rows:,} rows ({result.answers:,} answers): {seconds:.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    args = parser.parse_args()
    small, large = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    rows_small, rows_large = (2_000, 10_000) if args.quick else (10_000, 100_000)
    rng = random.Random(7)
    print(f"classpulse analytics benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = {}
        for answers in (small, large):
            report_s, floor_s = bench_report(root, answers, rng)
            results[answers] = (report_s, floor_s)
            print(
                f"  {answers:>9,} answers: bare GROUP BY {floor_s * 1000:6.1f} ms; report "
                f"(db -> JSON) {report_s * 1000:6.1f} ms; ratio x{report_s / floor_s:.1f}"
            )
        factor = large / small
        (r1, f1), (r2, f2) = results[small], results[large]
        print(
            f"  growth x{factor:.0f} answers: report x{r2 / r1:.1f}, floor x{f2 / f1:.1f} "
            f"(linear: x{factor:.0f})"
        )
        ok = r2 / f2 <= 3 and (args.quick or r2 < 0.5)
        times = {rows: bench_import(root, rows, rng) for rows in (rows_small, rows_large)}
        for rows, seconds in times.items():
            print(f"  import {rows:>7,} rows: {rows / seconds:,.0f} rows/s")
        growth = times[rows_large] / times[rows_small]
        print(f"  import growth x{rows_large / rows_small:.0f} rows: time x{growth:.1f}")
        print("targets met" if ok else "TARGETS MISSED (report <= 3x floor and < 0.5 s at 1M)")


if __name__ == "__main__":
    main()
