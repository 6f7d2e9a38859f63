"""Response rates from registrations and completions, and trends against the previous wave."""

from __future__ import annotations

from datetime import UTC, datetime

from analytics import build_report, render
from bot.settings import Settings
from storage.db import Database
from storage.repositories.people import add_membership, register
from storage.repositories.responses import submit
from storage.repositories.school import add_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import bundled_surveys_dir, load_survey_file
from tests.analytics_fixtures import STUDENTS, options, seed_previous_students, seed_school

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _bot_wave(db: Database, registered: dict[str, int], completed: dict[str, int]) -> None:
    """An open bot wave of the students' survey with people registered per class."""
    definition = load_survey_file(bundled_surveys_dir() / f"{STUDENTS}.yaml")
    with db.write() as session:
        survey = sync_survey(session, definition)
        classes = {c.name: c.id for c in add_classes(session, "Гімназія", list(registered))}
        wave = create_wave(
            session, survey.id, "2026-03", list(classes.values()), status="open", opens_at=NOW
        )
        for name, count in registered.items():
            for i in range(count):
                person = register(session, "telegram", f"{name}-{i}", f"S{i}", "uk", NOW)
                add_membership(session, person, classes[name], "student")
                if i < completed.get(name, 0):
                    submit(
                        session,
                        survey_id=survey.id,
                        wave_id=wave.id,
                        person_id=person,
                        class_id=classes[name],
                        role="student",
                        answers={"q2": i % 4, "q11": 0},
                    )
        # a parent is registered too, but the students' survey does not count parents
        parent = register(session, "telegram", "parent-1", "P", "uk", NOW)
        add_membership(session, parent, classes[next(iter(registered))], "parent")


def test_rates_per_class_and_total(db: Database, settings: Settings) -> None:
    _bot_wave(db, {"7-А": 20, "7-Б": 10, "8-А": 12}, {"7-А": 15, "7-Б": 6, "8-А": 9})
    report = build_report(db, options(settings), [STUDENTS])
    rows = [(r.class_name, r.registered, r.completed, r.rate) for r in report.response_rates]
    assert rows == [
        ("7-А", 20, 15, 75.0),
        ("7-Б", 10, 6, 60.0),
        ("8-А", 12, 9, 75.0),
        (None, 42, 30, 71.4),
    ]
    text = str(render(report, "text"))
    assert "учні: 30 з 42 осіб (71,4 %); найменше — 7-Б (60 %)" in text


def test_small_class_rate_is_hidden_and_left_out_of_the_total(
    db: Database, settings: Settings
) -> None:
    _bot_wave(db, {"7-А": 20, "7-Б": 10, "8-А": 12}, {"7-А": 15, "7-Б": 3, "8-А": 9})
    report = build_report(db, options(settings), [STUDENTS])
    rows = {r.class_name: r for r in report.response_rates}
    assert rows["7-Б"].suppressed and rows["7-Б"].completed is None and rows["7-Б"].rate is None
    assert rows["7-Б"].registered == 10  # class sizes are not sensitive
    # the other classes keep their numbers: no partner is sacrificed
    assert (rows["8-А"].completed, rows["8-А"].rate) == (9, 75.0)
    assert (rows["7-А"].completed, rows["7-А"].rate) == (15, 75.0)
    # the total is over the shown classes only, and says so: 27 - 15 - 9 gives nothing away
    total = rows[None]
    assert (total.registered, total.completed, total.rate) == (32, 24, 75.0)
    assert total.excluded == ("7-Б",)
    text = str(render(report, "text"))
    assert "учні: 24 з 32 осіб (75 %), без 7-Б (група менша за 5 осіб)" in text
    # and 7-Б's three responses are in no figure of the survey either
    survey = report.surveys[0]
    assert survey.respondents == 24
    assert [(g.class_name, g.role) for g in survey.hidden_groups] == [("7-Б", "student")]
    q2 = next(q for q in survey.questions if q.id == "q2")
    assert q2.answered == 24


def test_imported_waves_have_no_rate(db: Database, settings: Settings) -> None:
    seed_school(db)
    rows = build_report(db, options(settings)).response_rates
    assert [(r.survey, r.rate, r.note) for r in rows] == [
        ("assessment-teachers", None, "import"),
        ("assessment-students", None, "import"),
        ("assessment-parents", None, "import"),
    ]


def test_trend_against_the_previous_wave(db: Database, settings: Settings) -> None:
    seed_school(db)
    seed_previous_students(db)  # imported later, but dated a year earlier
    report = build_report(db, options(settings), [STUDENTS])
    assert report.surveys[0].wave == "2024-2025"
    (trend,) = report.trend
    assert (trend.wave, trend.previous_wave) == ("2024-2025", "2023-2024")
    constructs = {
        (c.construct, c.role): (c.previous, c.current, c.change_pp) for c in trend.constructs
    }
    assert constructs[("criteria_understanding", "student")] == (45.0, 59.2, 14.2)
    assert constructs[("fairness", "student")] == (70.0, 52.1, -17.9)
    q2 = [
        (o.label, o.previous, o.current, o.change_pp)
        for o in trend.options
        if o.question_id == "q2"
    ]
    assert q2[0] == ("У повній мірі", 16.7, 25.4, 8.7)
    # questions the earlier wave did not ask have no trend rows
    assert not [o for o in trend.options if o.question_id == "q5"]
    text = str(render(report, "text"))
    assert "Зміни від попередньої хвилі:" in text
    assert "Справедливість і задоволеність оцінюванням (учні): 70 % → 52,1 % (-17,9 в. п.)" in text
    assert "Розуміння критеріїв оцінювання (учні): 45 % → 59,2 % (+14,2 в. п.)" in text


def test_report_on_the_earlier_wave_by_label(db: Database, settings: Settings) -> None:
    seed_school(db)
    seed_previous_students(db)
    report = build_report(db, options(settings), [STUDENTS], wave_label="2023-2024")
    assert report.surveys[0].respondents == 60
    assert report.trend == ()
