"""The seed school's 2024-2025 survey results as stored data, built through the repositories.

Counts marked SEED are the table "The report's figures, as counts" of the seed questionnaires
document (the school's own "Довідка"); the questions the report does not quote have plausible
made-up counts (marked INVENTED) that leave the seed's ranking of gaps as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics import AnalyticsOptions
from bot.settings import Settings
from storage.db import Database
from storage.repositories.imports import NewResponse, bulk_add_responses
from storage.repositories.school import add_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import bundled_surveys_dir, load_survey_file

TEACHERS = "assessment-teachers"
STUDENTS = "assessment-students"
PARENTS = "assessment-parents"
STUDENT_CLASSES = {"5-А": 15, "6-А": 14, "7-А": 15, "8-А": 14, "9-А": 13}  # 71 students
PARENT_CLASSES = {"5-А": 17, "6-А": 16, "7-А": 16, "8-А": 16, "9-А": 15}  # 80 parents


def options(settings: Settings, **changes: Any) -> AnalyticsOptions:
    """What the app passes to analytics, from the test's settings (`changes` override)."""
    values: dict[str, Any] = {
        "school_name": settings.school_name,
        "tz": settings.tz,
        "min_group_size": settings.min_group_size,
    }
    return AnalyticsOptions(**{**values, **changes})


@dataclass(frozen=True)
class Q:
    kind: str  # single | multi | text
    counts: tuple[int, ...] = ()
    answered: int | None = None  # multi: people who ticked at least one; single: sum(counts)
    texts: tuple[str, ...] = ()


SEED: dict[str, tuple[int, dict[str, Q]]] = {
    TEACHERS: (
        31,
        {
            "q2": Q("multi", (13, 14, 15, 14, 5, 16, 9, 15, 19), 22),  # SEED
            "q3": Q("multi", (19, 13, 22, 25), 31),  # SEED (first two), INVENTED (last two)
            "q4": Q("multi", (20, 16, 3, 4), 22),  # SEED
            "q6": Q("multi", (27, 18, 20, 24, 15, 9), 31),  # INVENTED
            "q7": Q("single", (25, 6, 0, 0)),  # SEED
            "q8": Q("single", (9, 14, 8, 0)),  # SEED
        },
    ),
    STUDENTS: (
        71,
        {
            "q2": Q("single", (18, 24, 13, 16)),  # SEED
            "q3": Q("single", (20, 25, 15, 11)),  # INVENTED
            "q5": Q("single", (18, 15, 14, 24)),  # SEED
            "q6": Q("single", (12, 13, 24, 22)),  # SEED
            "q9": Q("multi", (52, 30, 21, 25, 33, 6), 71),  # INVENTED
            "q10": Q("multi", (30, 22, 41, 9, 12), 71),  # INVENTED
            "q11": Q("single", (19, 36, 12)),  # SEED: 67 of 71 answered
            "q12": Q("single", (11, 26, 20, 14)),  # SEED
        },
    ),
    PARENTS: (
        80,
        {
            "q1": Q("single", (29, 24, 4, 23)),  # SEED
            "q2": Q("single", (12, 49, 3, 16)),  # SEED
            "q4": Q("multi", (61, 38, 35, 44, 29, 7), 80),  # INVENTED
            "q5": Q("single", (23, 29, 11, 17)),  # SEED
            "q6": Q("single", (7, 34, 18, 21)),  # SEED
            "q7": Q("single", (10, 38, 18, 14)),  # INVENTED
            "q8": Q(
                "text",
                texts=(
                    "Більше пояснювати критерії",
                    "Індивідуальний підхід до кожного учня",
                    "Об'єктивне оцінювання",
                    "Все влаштовує",
                    "Пояснювати оцінки",
                    "Цікавіші методи викладання",
                    "Більше розуміти учнів",
                    "Менше домашніх завдань",
                    "Все влаштовує",
                    "Критерії в електронному щоденнику",
                    "Частіше зворотний зв'язок",
                    "Дякуємо вчителям",
                ),
            ),  # INVENTED
        },
    ),
}


def answers_by_respondent(n: int, plan: dict[str, Q]) -> list[dict[str, Any]]:
    """Spread per-option counts over n respondents so each question's totals are exact."""
    people: list[dict[str, Any]] = [{} for _ in range(n)]
    for offset, (qid, q) in enumerate(plan.items()):
        # Rotate who skips a question, so that non-answers do not pile up on the same people.
        order = [(i + offset * 7) % n for i in range(n)]
        if q.kind == "single":
            values = [i for i, c in enumerate(q.counts) for _ in range(c)]
            for person, value in zip(order, values, strict=False):
                people[person][qid] = value
        elif q.kind == "text":
            for person, text in zip(order, q.texts, strict=False):
                people[person][qid] = text
        else:
            answered = q.answered or n
            assert sum(q.counts) >= answered and max(q.counts) <= answered
            # Consecutive runs wrapping round the answerers: no one ticks an option twice and
            # everyone who answered ticks at least one.
            pointer = 0
            for option, count in enumerate(q.counts):
                for step in range(count):
                    person = order[(pointer + step) % answered]
                    people[person].setdefault(qid, []).append(option)
                pointer += count
    return people


def _class_of(i: int, sizes: dict[str, int]) -> str:
    for name, size in sizes.items():
        if i < size:
            return name
        i -= size
    raise IndexError(i)


def add_wave(
    db: Database,
    slug: str,
    label: str,
    plan: tuple[int, dict[str, Q]],
    *,
    opens: datetime,
    source: str = "import",
    status: str = "closed",
    classes: dict[str, int] | None = None,
) -> int:
    """Store one wave of `slug` with the planned counts; returns the wave id.

    Students and parents are spread over `classes` (name -> respondents, in order; default the
    seed's sizes); teachers answer without a class."""
    n, questions = plan
    definition = load_survey_file(bundled_surveys_dir() / f"{slug}.yaml")
    with db.write() as session:
        survey = sync_survey(session, definition)
        sizes = classes or (STUDENT_CLASSES if slug == STUDENTS else PARENT_CLASSES)
        names = list(dict.fromkeys([*STUDENT_CLASSES, *sizes]))
        ids = {c.name: c.id for c in add_classes(session, "Гімназія", names)}
        wave = create_wave(
            session,
            survey.id,
            label,
            [ids[name] for name in sizes] if slug != TEACHERS else [],
            status=status,
            opens_at=opens,
            closes_at=opens,
            source=source,
        )
        people = answers_by_respondent(n, questions)
        responses = []
        for i, answers in enumerate(people):
            if slug == TEACHERS:
                class_id, role = None, ("class_teacher" if i % 8 == 0 else "teacher")
            elif slug == STUDENTS:
                class_id, role = ids[_class_of(i, sizes)], "student"
            else:
                class_id, role = ids[_class_of(i, sizes)], "parent"
            responses.append(NewResponse(class_id, role, answers))
        bulk_add_responses(session, survey_id=survey.id, wave_id=wave.id, responses=responses)
        return wave.id


def seed_school(db: Database) -> None:
    """The three 2024-2025 waves of the seed report."""
    opens = datetime(2025, 2, 14, 8, 0, tzinfo=UTC)
    for slug, plan in SEED.items():
        add_wave(db, slug, "2024-2025", plan, opens=opens)


# The students' previous year, for trends: understanding was lower, fairness higher.
STUDENTS_2023: tuple[int, dict[str, Q]] = (
    60,
    {
        "q2": Q("single", (10, 17, 15, 18)),
        "q11": Q("single", (12, 30, 18)),
        "q12": Q("single", (14, 28, 12, 6)),
    },
)


def seed_previous_students(db: Database) -> None:
    add_wave(
        db,
        STUDENTS,
        "2023-2024",
        STUDENTS_2023,
        opens=datetime(2024, 2, 10, tzinfo=UTC),
        classes=dict.fromkeys(STUDENT_CLASSES, 12),  # 60 students, 12 in each class
    )


def parents_export(rows: int = 19) -> list[list[str]]:
    """The parents' Google Form as the school downloads it: every question, with Google's hints
    after the titles; of `rows` parents, 8 understand the criteria ("у повній мірі"/"здебільшого")
    — the 42.1 % that used to become the teachers' figure."""
    definition = load_survey_file(bundled_surveys_dir() / f"{PARENTS}.yaml")
    hints = {"single": " Виберіть лише один варіант.", "multi": " Виберіть усе, що підходить."}
    header = ["Позначка часу", "Клас"] + [
        f"{q.number}. {q.title}{hints.get(q.kind, '')}" for q in definition.questions
    ]
    out = [header]
    for i in range(rows):
        cells = [f"{1 + i % 28:02d}.02.2025 10:{i:02d}:00", "7-А"]
        for q in definition.questions:
            if q.kind == "text":
                cells.append("Все влаштовує" if i % 3 == 0 else "")
            elif q.kind == "multi":
                cells.append(", ".join(q.options[j] for j in (i % 6, (i + 2) % 6)))
            elif q.id == "q5":
                cells.append(q.options[i % 2 if i < 8 else 2 + i % 2])
            else:
                cells.append(q.options[i % len(q.options)])
        out.append(cells)
    return out
