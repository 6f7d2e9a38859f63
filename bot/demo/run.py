"""The built-in demo: a whole survey wave on an embedded SQLite database.

Simulated teachers, students and parents join with invite codes and answer the school's three
questionnaires through the real engine and service (the same path a messenger user takes, via
the in-memory channel). Answer frequencies follow the school's report. At the end: a summary
table and the director's report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bot.channels.console import ConsoleSession
from bot.channels.memory import MemoryChannel, MemoryUser
from bot.conversation.service import ChatService
from bot.demo.data import (
    CLASSES,
    PARENT_SUGGESTIONS,
    SEED_COUNTS,
    STUDENTS_PER_80_PARENTS,
    TEACHERS,
)
from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from bot.surveys.admin import create_wave, open_wave, sync_surveys
from storage.db import Database
from storage.migrate import upgrade
from storage.repositories import invites, people, responses, school, surveys, waves
from storage.survey_schema import SurveyDef

SURVEY_FOR_ROLE = {
    "teacher": "assessment-teachers",
    "class_teacher": "assessment-teachers",
    "student": "assessment-students",
    "parent": "assessment-parents",
}
# Registered people who do not answer (so response rates are realistic), per role.
NON_RESPONDENT_SHARE = 0.1
BACK_PRESS_SHARE = 0.05


@dataclass
class Simulated:
    user: MemoryUser
    role: str
    class_name: str
    answers: dict[str, Any] | None  # None: registers but does not answer


def _scaled(counts: list[int], answered: int, respondents: int, n: int) -> tuple[int, list[int]]:
    factor = n / respondents
    return round(answered * factor), [round(c * factor) for c in counts]


def plan_answers(survey: SurveyDef, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Answers for n respondents whose per-option counts follow the report's."""
    plans: list[dict[str, Any]] = [{} for _ in range(n)]
    seed = SEED_COUNTS.get(survey.id, {})
    for question in survey.questions:
        answered, respondents, counts = seed.get(
            question.id, (1, 1, [1] * max(1, len(question.options)))
        )
        k, scaled = _scaled(counts, answered, respondents, n)
        who = rng.sample(range(n), min(k, n))
        if question.kind == "single":
            deck = [i for i, c in enumerate(scaled) for _ in range(c)] or [0]
            rng.shuffle(deck)
            for j, person in enumerate(who):
                plans[person][question.id] = deck[j % len(deck)]
        elif question.kind == "multi":
            chosen: dict[int, set[int]] = {p: set() for p in who}
            for option, count in enumerate(scaled):
                for person in rng.sample(who, min(count, len(who))):
                    chosen[person].add(option)
            top = max(range(len(scaled)), key=lambda i: scaled[i])
            for person, options in chosen.items():
                plans[person][question.id] = sorted(options) or [top]
        else:
            for person in who:
                plans[person][question.id] = rng.choice(PARENT_SUGGESTIONS)
    return plans


def answer_survey(
    user: MemoryUser, wave_id: int, survey: SurveyDef, plan: dict[str, Any], rng: random.Random
) -> None:
    """Drive one person through a survey by pressing buttons, as a messenger user would."""
    went_back = False
    user.press_payload(encode(ButtonKind.START_SURVEY, wave_id))
    for _ in range(4 * len(survey.questions) + 4):
        position = next((r.position for r in reversed(user.inbox) if r.position), "")
        index = int(position.split(":")[1])
        if index >= len(survey.questions):
            user.press_payload(encode(ButtonKind.SUBMIT, wave_id))
            return
        if index > 0 and not went_back and rng.random() < BACK_PRESS_SHARE:
            went_back = True
            user.press_payload(encode(ButtonKind.BACK, wave_id, index))
            continue
        question = survey.questions[index]
        value = plan.get(question.id)
        if value is None:
            user.press_payload(encode(ButtonKind.SKIP, wave_id, index))
        elif question.kind == "single":
            user.press_payload(encode(ButtonKind.ANSWER, wave_id, index, value))
        elif question.kind == "multi":
            for option in value:
                user.press_payload(encode(ButtonKind.TOGGLE, wave_id, index, option))
            user.press_payload(encode(ButtonKind.DONE, wave_id, index))
        else:
            user.send(str(value))
    raise RuntimeError("the demo survey did not reach its review")


def _demo_settings(settings: Settings, out: Path) -> Settings:
    db_path = (out / "demo.db").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return settings.model_copy(
        update={"database_url": f"sqlite:///{db_path}", "data_dir": out / "data"}
    )


def _population(families: int, teachers: int) -> dict[str, int]:
    students = max(1, round(families * STUDENTS_PER_80_PARENTS / 80))
    return {"teacher": teachers, "student": students, "parent": families}


def run_demo(
    settings: Settings,
    *,
    families: int = 80,
    teachers: int = TEACHERS,
    out: Path = Path("demo-output"),
    seed: int = 2025,
    echo: Callable[[str], None] = click.echo,
) -> dict[str, Any]:
    """Run the demo; returns the summary (for tests)."""
    out.mkdir(parents=True, exist_ok=True)
    settings = _demo_settings(settings, out)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    echo(f"Demo database: {settings.database_url.removeprefix('sqlite:///')}")

    with db.write() as session:
        classes = school.add_classes(session, settings.school_name, CLASSES)
        class_ids = {c.name: c.id for c in classes}
        sync_surveys(session)
        wave_ids = {}
        for slug in SEED_COUNTS:
            wave = create_wave(session, slug, list(class_ids.values()), now, label="demo")
            open_wave(session, wave.id, now)
            wave_ids[slug] = wave.id
        defs = {
            slug: surveys.survey_def(session, waves.get_wave(session, wid).survey_id)  # type: ignore[union-attr]
            for slug, wid in wave_ids.items()
        }
        codes = {
            (name, role): invites.create_invite(session, cid, role, now).code
            for name, cid in class_ids.items()
            for role in ("student", "parent", "teacher", "class_teacher")
        }
        director_code = invites.create_invite(session, None, "director", now).code

    service = ChatService(db, settings, outbox_channels=frozenset())
    channel = MemoryChannel(service)
    cast: list[Simulated] = []
    for role, respondents in _population(families, teachers).items():
        registered = respondents + max(1, round(respondents * NON_RESPONDENT_SHARE))
        plans = plan_answers(defs[SURVEY_FOR_ROLE[role]], respondents, rng)
        for i in range(registered):
            class_name = CLASSES[i % len(CLASSES)]
            actual_role = "class_teacher" if role == "teacher" and i < len(CLASSES) else role
            user = channel.user(f"{role}-{i + 1}", display_name=f"{role.title()} {i + 1}")
            cast.append(
                Simulated(user, actual_role, class_name, plans[i] if i < respondents else None)
            )
    rng.shuffle(cast)

    # The director uses the console channel, as `classpulse chat --as director` does.
    director = ConsoleSession(service, "director", output=lambda line: None)
    director.handle_line(f"/start {director_code}")
    director.handle_line("1")  # ✅ consent
    with click.progressbar(cast, label="Families answering", file=None) as bar:
        for person in bar:
            person.user.send(f"/start {codes[(person.class_name, person.role)]}")
            person.user.press_payload(encode(ButtonKind.CONSENT, "y"))
            if person.answers is None:
                continue
            slug = SURVEY_FOR_ROLE[person.role]
            answer_survey(person.user, wave_ids[slug], defs[slug], person.answers, rng)

    summary = _summary(db, wave_ids)
    _print_summary(summary, echo)
    summary["report"] = _director_report(db, settings, out, echo)
    summary["console"] = _director_asks(director, echo)
    db.dispose()
    return summary


def _director_asks(director: ConsoleSession, echo: Callable[[str], None]) -> list[str]:
    """The demo's last scene: the director asks for a report in the console."""
    echo("")
    echo("=" * 72)
    echo("The director asks the bot for a report (try it: classpulse chat --as director):")
    echo("=" * 72)
    lines: list[str] = []

    def shown(line: str) -> None:
        lines.append(line)
        echo(line)

    director.output = shown
    for typed in ("/report", "1"):
        shown(f"> {typed}")
        director.handle_line(typed)
    return lines


def _summary(db: Database, wave_ids: dict[str, int]) -> dict[str, Any]:
    rows = []
    with db.read() as session:
        names = school.class_names(session)
        registered = {(c, r): n for c, r, n in people.registered_counts(session)}
        for slug, wave_id in wave_ids.items():
            for class_id, role, count in sorted(
                responses.response_counts_by_class_role(session, wave_id),
                key=lambda r: (names.get(r[0] or 0, ""), r[1]),
            ):
                rows.append(
                    {
                        "survey": slug,
                        "class": names.get(class_id or 0, "—"),
                        "role": role,
                        "responses": count,
                        "registered": registered.get((class_id, role), 0),
                    }
                )
        totals = {slug: responses.response_count(session, wid) for slug, wid in wave_ids.items()}
    return {"rows": rows, "totals": totals}


def _print_summary(summary: dict[str, Any], echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"{'survey':<22} {'class':<6} {'role':<14} {'responses':>9} {'registered':>10}")
    for row in summary["rows"]:
        echo(
            f"{row['survey']:<22} {row['class']:<6} {row['role']:<14} "
            f"{row['responses']:>9} {row['registered']:>10}"
        )
    echo("")
    for slug, total in summary["totals"].items():
        echo(f"{slug}: {total} responses")


def _director_report(
    db: Database, settings: Settings, out: Path, echo: Callable[[str], None]
) -> dict[str, Any]:
    """The director's report at the end of the demo (text on screen, files in `out`)."""
    from analytics import AnalyticsOptions, build_report, render, write_all  # lazily

    report = build_report(
        db,
        AnalyticsOptions(
            school_name=settings.school_name, tz=settings.tz, min_group_size=settings.min_group_size
        ),
    )
    text = render(report, "text")
    assert isinstance(text, str)
    files = write_all(report, out)
    echo("")
    echo("The school's report (every survey): " + ", ".join(str(p) for p in files))
    return {"text": text, "files": [str(p) for p in files]}
