"""Small groups are protected in every report the product makes, and nothing is stated falsely.

A school whose survey is answered by students and parents: class 7-А has one student who answered
(beside eight parents), the other classes are large enough. Every report variant (school, each
class, each role, each class and role, by wave label, with the previous wave for a trend) in
every format must leave that student out of every figure, so that no subtraction of published
numbers gives their answers back; and a lone teacher (a one-member role) likewise.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from analytics import AnalyticsOptions, build_report, render
from analytics.numbers import percent, round_half_up
from analytics.records import Report
from analytics.reports import charts
from bot.settings import Settings
from storage.db import Database
from storage.repositories.imports import NewResponse, bulk_add_responses
from storage.repositories.people import add_membership, register
from storage.repositories.responses import submit
from storage.repositories.school import add_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import parse_survey
from tests.analytics_fixtures import STUDENTS, TEACHERS, Q, add_wave, options
from tests.conftest import clean_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# python-docx, openpyxl and matplotlib are imported where they are used: every xdist worker
# imports every test module while collecting, and openpyxl and matplotlib load numpy.

SLUG = "mixed-survey"
SURVEY_YAML = """
id: mixed-survey
title: Спільна анкета
audience: [student, parent]
questions:
  - id: q1
    number: 1
    title: Чи отримуєте ви інформацію про критерії оцінювання?
    kind: single
    construct: criteria_informed
    options: ["Так, завжди", Переважно так, Іноді, Ніколи]
  - id: q2
    number: 2
    title: Звідки ви дізнаєтеся про критерії?
    kind: multi
    options: [від вчителя, з дошки оголошень, з електронного щоденника]
  - id: q3
    number: 3
    title: Ваші пропозиції
    kind: text
    required: false
"""
# (class, role) -> respondents in the current wave; (7-А, student) is the small group
SIZES = {
    ("7-А", "student"): 1,
    ("7-А", "parent"): 8,
    ("8-А", "student"): 9,
    ("8-А", "parent"): 7,
    ("9-А", "student"): 6,
    ("9-А", "parent"): 6,
}
HIDDEN = ("7-А", "student")
SECRET = "секрет учня з 7-А"
PARENT_TEXTS = ["Більше пояснювати критерії", "Все влаштовує", "Частіше зворотний зв'язок"]
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@dataclass
class Person:
    class_name: str
    role: str
    answers: dict[str, Any] = field(default_factory=dict)


def _people(rng: random.Random) -> list[Person]:
    people = []
    for (class_name, role), n in SIZES.items():
        for i in range(n):
            answers: dict[str, Any] = {
                "q1": rng.randrange(3),  # nobody shown says "Ніколи"
                "q2": sorted(rng.sample(range(3), rng.randint(1, 3))),
            }
            if role == "parent":
                answers["q3"] = PARENT_TEXTS[i % len(PARENT_TEXTS)]
            people.append(Person(class_name, role, answers))
    # the lone student: the only "Ніколи", the only one who ticked nothing but the board, and
    # a free text only they wrote
    lone = next(p for p in people if (p.class_name, p.role) == HIDDEN)
    lone.answers = {"q1": 3, "q2": [1], "q3": SECRET}
    return people


@dataclass
class School:
    people: list[Person]
    previous: list[Person]
    db: Database
    settings: Settings


def _definition() -> Any:
    survey, problems = parse_survey(SURVEY_YAML)
    assert survey is not None, problems
    return survey


@pytest.fixture(scope="module")
def school(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> School:
    """A bot wave (registrations, completions) and, a year before, an imported wave; stored
    once for the module (the tests only read it)."""
    db = module_db
    rng = random.Random(12)
    people = _people(rng)
    previous = [
        Person(c, r, {"q1": rng.randrange(4), "q2": [rng.randrange(3)]})
        for (c, r) in SIZES
        for _ in range(6)  # last year every group, 7-А's students too, had six people
    ]
    with db.write() as session:
        survey = sync_survey(session, _definition())
        classes = {c.name: c.id for c in add_classes(session, "Гімназія", ["7-А", "8-А", "9-А"])}
        old = create_wave(
            session,
            survey.id,
            "2023-2024",
            list(classes.values()),
            status="closed",
            opens_at=datetime(2024, 3, 1, tzinfo=UTC),
            source="import",
        )
        bulk_add_responses(
            session,
            survey_id=survey.id,
            wave_id=old.id,
            responses=[NewResponse(classes[p.class_name], p.role, p.answers) for p in previous],
        )
        wave = create_wave(
            session, survey.id, "2024-2025", list(classes.values()), status="open", opens_at=NOW
        )
        for i, p in enumerate(people):
            person = register(session, "telegram", f"p{i}", f"P{i}", "uk", NOW)
            add_membership(session, person, classes[p.class_name], p.role)
            submit(
                session,
                survey_id=survey.id,
                wave_id=wave.id,
                person_id=person,
                class_id=classes[p.class_name],
                role=p.role,
                answers=p.answers,
            )
        # two more students of 7-А are registered but did not answer
        for i in range(2):
            person = register(session, "telegram", f"idle{i}", "I", "uk", NOW)
            add_membership(session, person, classes["7-А"], "student")
    settings = clean_settings(db.url, tmp_path_factory.mktemp("data"))
    return School(people, previous, db, settings)


# ------------------------------------------------------------------ the truth, by hand


def _shown(people: list[Person], k: int = 5) -> list[Person]:
    """The people in groups (class, role) of at least k."""
    sizes: dict[tuple[str, str], int] = {}
    for p in people:
        sizes[(p.class_name, p.role)] = sizes.get((p.class_name, p.role), 0) + 1
    return [p for p in people if sizes[(p.class_name, p.role)] >= k]


def _in(people: list[Person], class_name: str | None, role: str | None) -> list[Person]:
    return [
        p
        for p in people
        if (class_name is None or p.class_name == class_name) and (role is None or p.role == role)
    ]


def _expected(people: list[Person], qid: str, options: int) -> tuple[int, list[int]]:
    """(answered, option counts) of a question over these people."""
    counts = [0] * options
    answered = 0
    for p in people:
        value = p.answers.get(qid)
        if value is None:
            continue
        answered += 1
        for i in value if isinstance(value, list) else [value]:
            counts[i] += 1
    return answered, counts


VARIANTS: list[tuple[str | None, str | None]] = [
    (None, None),
    *((c, None) for c in ("7-А", "8-А", "9-А")),
    *((None, r) for r in ("student", "parent")),
    *((c, r) for c in ("7-А", "8-А", "9-А") for r in ("student", "parent")),
]


T = TypeVar("T")


class Published:
    """Every report variant of the school, built and rendered at most once per module: several
    tests read the same variants, and a report in each format is what they cost."""

    def __init__(self, school: School) -> None:
        self.school = school
        self._done: dict[tuple[str, str | None, str | None], Any] = {}

    def _once(
        self, what: str, class_name: str | None, role: str | None, make: Callable[[], T]
    ) -> T:
        key = (what, class_name, role)
        if key not in self._done:
            self._done[key] = make()
        value: T = self._done[key]
        return value

    def report(self, class_name: str | None, role: str | None) -> Report:
        return self._once(
            "report", class_name, role, lambda: _report(self.school, class_name, role)
        )

    def render(self, class_name: str | None, role: str | None, fmt: str) -> str | bytes:
        """The variant in `fmt` ("text" | "json" | "docx" | "xlsx") as render() makes it."""
        return self._once(fmt, class_name, role, lambda: render(self.report(class_name, role), fmt))

    def json(self, class_name: str | None, role: str | None) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(str(self.render(class_name, role, "json")))
        return data

    def chart_texts(self, class_name: str | None, role: str | None) -> list[str]:
        """Every text drawn on the variant's charts (titles, labels, legends, notes)."""
        return self._once(
            "charts", class_name, role, lambda: _chart_texts(self.report(class_name, role))
        )


@pytest.fixture(scope="module")
def published(school: School) -> Published:
    return Published(school)


def _report(school: School, class_name: str | None, role: str | None) -> Report:
    return build_report(
        school.db, options(school.settings), [SLUG], class_name=class_name, role=role
    )


def _json(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(str(render(report, "json")))
    return data


# ------------------------------------------------------------------ every variant, JSON


@pytest.mark.parametrize(("class_name", "role"), VARIANTS)
def test_every_figure_is_the_sum_of_the_shown_groups_only(
    school: School, published: Published, class_name: str | None, role: str | None
) -> None:
    """Each published number is computed over the shown groups in the report's scope: the lone
    student is in none of them, whatever the filter."""
    data = published.json(class_name, role)
    (survey,) = data["surveys"]
    scope = _in(school.people, class_name, role)
    shown = _in(_shown(school.people), class_name, role)
    if not shown:  # the report on 7-А's students alone
        assert (class_name, role) == HIDDEN
        assert survey["suppressed"] is True
        assert survey["respondents"] is None and survey["respondents_by_role"] == {}
        assert survey["questions"] == []
        assert survey["hidden_groups"] == [
            {
                "class": "7-А",
                "role": "student",
                "reason": "small_group",
                "note": "група менша за 5 осіб",
            }
        ]
        return
    assert survey["respondents"] == len(shown)
    by_role: dict[str, int] = {}
    for p in shown:
        by_role[p.role] = by_role.get(p.role, 0) + 1
    assert survey["respondents_by_role"] == by_role  # never {"student": 1}
    hidden_here = len(scope) > len(shown)
    assert [(g["class"], g["role"]) for g in survey["hidden_groups"]] == (
        [HIDDEN] if hidden_here else []
    )
    questions = {q["id"]: q for q in survey["questions"]}
    for qid, n in (("q1", 4), ("q2", 3)):
        answered, counts = _expected(shown, qid, n)
        assert questions[qid]["answered"] == answered
        assert [o["count"] for o in questions[qid]["options"]] == counts  # zeros shown too
        assert [o["percent"] for o in questions[qid]["options"]] == [
            percent(c, answered) for c in counts
        ]
    # "Ніколи" was the lone student's answer only: shown as the true 0 of the shown groups
    assert questions["q1"]["options"][3]["count"] == 0


def test_no_subtraction_of_reports_gives_the_small_group_back(
    school: School, published: Published
) -> None:
    def q1(class_name: str | None, role: str | None) -> list[int]:
        survey = published.json(class_name, role)["surveys"][0]
        if survey["suppressed"]:
            return [0, 0, 0, 0]  # nothing published
        q = next(q for q in survey["questions"] if q["id"] == "q1")
        return [o["count"] for o in q["options"]]

    def minus(a: list[int], b: list[int]) -> list[int]:
        return [x - y for x, y in zip(a, b, strict=True)]

    def total(vectors: list[list[int]]) -> list[int]:
        return [sum(v) for v in zip(*vectors, strict=True)]

    classes = ("7-А", "8-А", "9-А")
    school_q1 = q1(None, None)
    # school minus every class report, students' report minus every class-and-role report,
    # class 7-А minus its parents: all exactly zero, so they reveal nothing at all
    assert minus(school_q1, total([q1(c, None) for c in classes])) == [0, 0, 0, 0]
    assert minus(q1(None, "student"), total([q1(c, "student") for c in classes])) == [0] * 4
    assert minus(q1("7-А", None), q1("7-А", "parent")) == [0, 0, 0, 0]
    assert minus(school_q1, total([q1(None, "student"), q1(None, "parent")])) == [0, 0, 0, 0]
    # the old report hid the "Ніколи" cell in the school total: here it is the true 0
    assert school_q1[3] == 0
    # the respondents too: school 36 = 35 shown + 1 hidden, and the report says 35
    report = published.report(None, None)
    assert report.surveys[0].respondents == len(school.people) - 1


def test_the_lone_students_free_text_appears_in_no_format_of_any_report(
    published: Published,
) -> None:
    for class_name, role in VARIANTS:
        text = str(published.render(class_name, role, "text"))
        data = str(published.render(class_name, role, "json"))
        docx = _docx_text(bytes(published.render(class_name, role, "docx")))
        xlsx = _xlsx_values(bytes(published.render(class_name, role, "xlsx")))
        png = published.chart_texts(class_name, role)
        for where in (text, data, docx, " ".join(map(str, xlsx)), " ".join(png)):
            assert SECRET not in where
            assert "<5" not in where
    # while the parents' texts (21 writers) are quoted, grouped, most frequent first
    school_report = published.report(None, None)
    q3 = next(q for q in school_report.surveys[0].questions if q.id == "q3")
    assert [(g.text, g.count) for g in q3.texts] == [
        ("Більше пояснювати критерії", 8),
        ("Все влаштовує", 7),
        ("Частіше зворотний зв'язок", 6),
    ]
    assert q3.answered == 21


def test_the_positive_share_and_gap_count_the_shown_groups_only(school: School) -> None:
    report = build_report(school.db, options(school.settings), [SLUG])
    (gap,) = [g for g in report.gaps if g.construct == "criteria_informed"]
    for role in ("student", "parent"):
        answered, counts = _expected(_in(_shown(school.people), None, role), "q1", 4)
        assert gap.positive[role] == round_half_up(Fraction(counts[0] + counts[1], answered) * 100)
        assert gap.answered[role] == answered
        assert gap.questions[role] == (1,)


# ------------------------------------------------------------------ response rates


def test_response_rates_hide_the_small_class_and_leave_it_out_of_the_total(
    published: Published,
) -> None:
    report = published.report(None, "student")
    rows = {(r.class_name, r.role): r for r in report.response_rates}
    small = rows[("7-А", "student")]
    assert (small.registered, small.completed, small.rate, small.suppressed) == (
        3,
        None,
        None,
        True,
    )
    shown = [rows[(c, "student")] for c in ("8-А", "9-А")]
    assert [(r.completed, r.rate) for r in shown] == [(9, 100.0), (6, 100.0)]
    total = rows[(None, "student")]
    assert (total.registered, total.completed, total.excluded) == (15, 15, ("7-А",))
    # total minus the shown classes: 0, not the hidden class's 1
    assert (total.completed or 0) - sum(r.completed or 0 for r in shown) == 0
    text = str(published.render(None, "student", "text"))
    assert "учні: 15 з 15 осіб (100 %), без 7-А (група менша за 5 осіб)" in text
    one = published.report("7-А", "student")
    (row,) = one.response_rates
    assert (row.class_name, row.completed, row.rate, row.suppressed) == ("7-А", None, None, True)
    assert "учні: приховано (група менша за 5 осіб)" in str(
        published.render("7-А", "student", "text")
    )


# ------------------------------------------------------------------ trend


def test_the_trend_never_compares_with_a_hidden_group(school: School, published: Published) -> None:
    # last year 7-А had six students (shown), this year one (hidden): no change is computed
    report = published.report("7-А", "student")
    (trend,) = report.trend
    assert trend.previous_wave == "2023-2024"
    assert trend.options == () and trend.constructs == ()
    # the school trend compares the shown groups: this year's share leaves the student out
    school_report = published.report(None, "student")
    (trend,) = school_report.trend
    answered, counts = _expected(_in(_shown(school.people), None, "student"), "q1", 4)
    current = {o.label: o.current for o in trend.options if o.question_id == "q1"}
    assert current["Ніколи"] == 0.0
    assert current["Так, завжди"] == percent(counts[0], answered)
    # and a report on last year's wave by its label shows 7-А's six students
    old = build_report(
        school.db,
        options(school.settings),
        [SLUG],
        wave_label="2023-2024",
        class_name="7-А",
        role="student",
    )
    assert old.surveys[0].respondents == 6


# ------------------------------------------------------------------ every format says why


def _docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _xlsx_values(data: bytes) -> list[Any]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [v for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None]


def _chart_texts(report: Report) -> list[str]:
    """Every text drawn on the report's charts. The figures are made as `charts` makes them and
    their texts read before they would be rasterised: encoding the pixels adds no text
    (tests/test_analytics_reports.py checks the PNG files themselves)."""
    import analytics.reports.png as png

    seen: list[str] = []

    def spy(fig: Figure) -> bytes:
        seen.extend(_texts_of(fig))
        return b""

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(png, "_png", spy)
        charts(report)
    return seen


def _texts_of(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]


@pytest.fixture
def png_texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text drawn on the charts (titles, labels, legends, notes)."""
    import analytics.reports.png as png

    seen: list[str] = []
    real = png._png

    def spy(fig: Figure) -> bytes:
        seen.extend(_texts_of(fig))
        return real(fig)

    monkeypatch.setattr(png, "_png", spy)
    yield seen


def test_every_format_names_the_hidden_group_and_the_true_reason(
    published: Published, png_texts: list[str]
) -> None:
    report = published.report("7-А", None)
    note = "7-А, учні — група менша за 5 осіб"
    assert f"Спільна анкета (2024-2025): 8 відповідей (не враховано: {note})" in str(
        published.render("7-А", None, "text")
    )
    docx = _docx_text(bytes(published.render("7-А", None, "docx")))
    assert f"Не враховано в жодній цифрі: {note}." in docx
    assert "У довідці враховано відповіді 8 респондентів: батьки — 8." in docx
    xlsx = _xlsx_values(bytes(published.render("7-А", None, "xlsx")))
    assert f"Не враховано в жодній цифрі: {note}" in xlsx
    render(report, "png")
    assert f"Не враховано: {note}" in png_texts

    alone = published.report("7-А", "student")
    assert f"Спільна анкета (2024-2025): приховано ({note})" in str(
        published.render("7-А", "student", "text")
    )
    docx = _docx_text(bytes(published.render("7-А", "student", "docx")))
    assert f"Хвиля 2024-2025: відповіді приховано ({note})." in docx
    assert "Усі відповіді приховано" in docx
    assert "0 відповідей" not in docx and "1 відповідь" not in docx
    values = _xlsx_values(bytes(published.render("7-А", "student", "xlsx")))
    assert f"Відповіді приховано: {note}" in values
    png_texts.clear()
    render(alone, "png")
    assert any("Відповіді приховано" in t and "група менша за 5 осіб" in t for t in png_texts)
    assert not any("<" in t for t in png_texts)


# ------------------------------------------------------------------ a one-member role


def test_a_lone_teacher_is_hidden_everywhere_and_leaves_the_gap(
    db: Database, settings: Settings
) -> None:
    opens = datetime(2025, 3, 1, tzinfo=UTC)
    add_wave(db, TEACHERS, "2025", (1, {"q7": Q("single", (0, 0, 0, 1))}), opens=opens)
    add_wave(
        db,
        STUDENTS,
        "2025",
        (30, {"q2": Q("single", (10, 8, 7, 5))}),
        opens=opens,
        classes={"5-А": 15, "6-А": 15},
    )
    report = build_report(db, options(settings))
    teachers = next(s for s in report.surveys if s.id == TEACHERS)
    assert teachers.suppressed and teachers.questions == ()
    assert [(g.class_name, g.role) for g in teachers.hidden_groups] == [(None, "teacher")]
    understanding = next(g for g in report.gaps if g.construct == "criteria_understanding")
    assert understanding.positive["teacher"] is None
    assert understanding.answered["teacher"] == 0
    assert understanding.positive["student"] == 60.0
    assert understanding.max_gap_pp is None  # no false gap against a hidden teacher
    text = str(render(report, "text"))
    assert "Анкета для вчителів (2025, імпорт з Google Forms): приховано" in text
    assert "вчителі (без класу) — група менша за 5 осіб" in text
    assert "вчителі 0 %" not in text and "вчителі —" not in text
    data = _json(report)
    assert data["surveys"][0]["respondents"] is None
    assert data["respondents"] == 30
    docx = _docx_text(bytes(render(report, "docx")))
    assert "У довідці враховано відповіді 30 респондентів: учні — 30." in docx
    assert "вчителі — 0" not in docx


def test_the_minimum_group_size_comes_from_the_options(school: School) -> None:
    # with a minimum of 1 nobody is hidden: the lone student's answer is in the school figures
    report = build_report(
        school.db, AnalyticsOptions(school_name="Гімназія", tz=UTC, min_group_size=1), [SLUG]
    )
    q1 = next(q for q in report.surveys[0].questions if q.id == "q1")
    assert q1.options[3].count == 1
    assert report.surveys[0].hidden_groups == ()
    # with 9, the six-person groups are hidden as well; each figure still is a sum of shown ones
    strict = build_report(school.db, options(school.settings, min_group_size=9), [SLUG])
    hidden = {(g.class_name, g.role) for g in strict.surveys[0].hidden_groups}
    assert hidden == {("7-А", "student"), ("7-А", "parent"), ("8-А", "parent")} | {
        ("9-А", "student"),
        ("9-А", "parent"),
    }
    assert strict.surveys[0].respondents == 9  # 8-А's students only
    assert strict.surveys[0].respondents_by_role == {"student": 9}
