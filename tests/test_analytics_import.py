"""Importing Google Forms exports: every format the school may hand us, and every way it fails."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from analytics import ImportFailed, build_report, import_forms
from bot.settings import Settings
from storage.db import Database
from storage.repositories.responses import response_count
from storage.repositories.school import list_classes
from storage.repositories.surveys import sync_survey
from storage.repositories.waves import list_waves
from storage.survey_schema import parse_survey
from tests.analytics_fixtures import options, parents_export

TEACHERS = "assessment-teachers"
STUDENTS = "assessment-students"
PARENTS = "assessment-parents"

T_SUPPORT = (
    "2. Яку підтримку ви надаєте здобувачам освіти у їхньому навчанні? "
    "(можна обрати кілька варіантів відповідей)"
)
T_UNDERSTAND = "7. Я розумію що таке критерії оцінювання. Виберіть лише один варіант."
T_OUTCOMES = (
    "Чи досягають здобувачі освіти бажаних результатів у навчанні, "
    "враховуючи різні види оцінювання?"
)

# Google Forms' own CSV download, English interface.
TEACHERS_ROWS = [
    ["Timestamp", "Email Address", T_SUPPORT, T_UNDERSTAND, T_OUTCOMES],
    [
        "2025/02/14 10:15:00 AM EET",
        "a@school.ua",
        "консультую, впроваджую творчі, пошукові завдання",
        "У повній мірі",
        "Здебільшого",
    ],
    [
        "2025/02/14 1:02:00 PM EET",
        "b@school.ua",
        "впроваджую творчі, пошукові завдання, використовую ІКТ, мережу інтернет",
        "Здебільшого",
        "Частково",
    ],
    ["2025/02/15 9:00:00 AM EET", "c@school.ua", "", "у повній мірі.", "Здебільшого"],
]


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _state(db: Database) -> tuple[list[tuple[str, str]], int, list[str]]:
    with db.read() as session:
        waves = list_waves(session)
        return (
            [(w.slug, w.label) for w in waves],
            sum(response_count(session, w.id) for w in waves),
            [c.name for c in list_classes(session)],
        )


def test_forms_csv_english_with_commas_inside_options(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "teachers.csv", _csv(TEACHERS_ROWS).encode())
    result = import_forms(db, options(settings), path, TEACHERS)
    assert (result.survey, result.wave, result.responses) == (TEACHERS, "2024-2025", 3)
    assert result.unknown_columns == ("B 'Email Address'",)
    assert result.missing_questions == ("3", "4", "6")
    report = build_report(db, options(settings, min_group_size=1), [TEACHERS])
    questions = {q.id: q for q in report.surveys[0].questions}
    support = {o.label: o.count for o in questions["q2"].options}
    assert support["впроваджую творчі, пошукові завдання"] == 2
    assert support["консультую"] == 1
    assert support["використовую ІКТ, мережу інтернет"] == 1
    assert questions["q2"].answered == 2  # the third teacher left it empty
    assert [o.count for o in questions["q7"].options] == [2, 1, 0, 0]  # case and "." tolerated
    with db.read() as session:
        (wave,) = list_waves(session)
    assert (wave.status, wave.source) == ("closed", "import")
    assert wave.opens_at is not None and wave.opens_at.date().isoformat() == "2025-02-14"


STUDENT_HEADER = [
    "Позначка часу",
    "Клас",
    (
        "2. Оцінювання моїх навчальних досягнень (оцінки, які я отримую) "
        "містить зрозумілі для мене вимоги для отримання певних результатів у "
        "навчанні. Виберіть лише один варіант."
    ),
    (
        "9. Інформацію про критерії оцінювання з навчальних предметів я "
        "отримую... (можна обрати кілька варіантів) Виберіть усе, що підходить."
    ),
    "11. Чи доступна для вас інформація про критерії оцінювання?",
]
STUDENT_ROWS = [
    STUDENT_HEADER,
    [
        "14.02.2025 10:15:00",
        "7-А",
        "Здебільшого",
        "від вчителя-предметника, з групи класу у Viber",
        "Так",
    ],
    ["14.02.2025 10:20:31", "7а", "Частково", "не отримую", "Не знаю"],
    ["15.02.2025 8:05:00", "8-Б", "У повній мірі", "з електронного щоденника", ""],
]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("cp1251", ";")],
)
def test_sheet_csv_in_any_encoding_and_delimiter(
    db: Database, settings: Settings, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    data = _csv(STUDENT_ROWS, delimiter).encode(encoding)
    result = import_forms(db, options(settings), _write(tmp_path, "students.csv", data), STUDENTS)
    assert result.responses == 3
    assert result.classes == ("7-А", "8-Б")
    assert result.unknown_columns == ()
    report = build_report(db, options(settings, min_group_size=1), [STUDENTS])
    questions = {q.id: q for q in report.surveys[0].questions}
    assert [o.count for o in questions["q2"].options] == [1, 1, 1, 0]
    assert [o.count for o in questions["q9"].options] == [1, 0, 0, 1, 1, 1]
    assert questions["q11"].answered == 2
    by_class = build_report(db, options(settings, min_group_size=1), [STUDENTS], class_name="7-А")
    assert by_class.surveys[0].respondents == 2


def test_xlsx_from_the_sheet(db: Database, settings: Settings, tmp_path: Path) -> None:
    from openpyxl import Workbook  # here, not at collection: it loads numpy

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(
        [
            "Позначка часу",
            (
                "1. Чи отримуєте Ви інформацію про критерії, правила і процедуру "
                "оцінювання навчальних досягнень учнів?"
            ),
            (
                "4. Інформацію про критерії оцінювання з навчальних предметів Ви "
                "отримуєте... (можна обрати кілька варіантів) Виберіть усе, що "
                "підходить."
            ),
            "8. Ваші зауваження та пропозиції вчителям щодо покращення роботи з оцінювання",
        ]
    )
    ws.append(
        [
            datetime(2024, 10, 3, 18, 0),
            "Так, завжди",
            "від класного керівника, з сайту школи",
            "Все влаштовує",
        ]
    )
    ws.append([datetime(2024, 10, 4, 9, 30), "Іноді", "з групи класу у Viber", None])
    out = io.BytesIO()
    wb.save(out)
    result = import_forms(
        db, options(settings), _write(tmp_path, "parents.xlsx", out.getvalue()), PARENTS
    )
    assert (result.wave, result.responses) == ("2024-2025", 2)
    report = build_report(db, options(settings, min_group_size=1), [PARENTS])
    questions = {q.id: q for q in report.surveys[0].questions}
    assert [o.count for o in questions["q1"].options] == [1, 0, 1, 0]  # "Так, завжди" is one option
    assert [o.count for o in questions["q4"].options] == [1, 0, 0, 1, 0, 1]
    assert questions["q8"].answered == 1


def test_us_sheet_dates_are_month_first(db: Database, settings: Settings, tmp_path: Path) -> None:
    rows = [
        ["Timestamp", T_UNDERSTAND],
        ["2/14/2025 10:15:00", "Частково"],
        ["9/1/2025 8:00:00", "Частково"],
    ]
    result = import_forms(
        db, options(settings), _write(tmp_path, "t.csv", _csv(rows).encode()), TEACHERS
    )
    assert result.wave == "2024-2026"  # February 2025 and 1 September 2025: two school years
    with db.read() as session:
        (wave,) = list_waves(session)
    assert wave.opens_at is not None and wave.opens_at.month == 2


def test_wave_label_option_and_refusal_of_an_existing_label(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    first = _write(tmp_path, "a.csv", _csv(TEACHERS_ROWS).encode())
    import_forms(db, options(settings), first, TEACHERS, "весна-2025")
    other = _write(tmp_path, "b.csv", _csv(TEACHERS_ROWS[:2]).encode())
    with pytest.raises(ImportFailed, match="already has a wave 'весна-2025'"):
        import_forms(db, options(settings), other, TEACHERS, "весна-2025")
    assert _state(db)[0] == [(TEACHERS, "весна-2025")]


def test_the_same_file_twice_changes_nothing(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "teachers.csv", _csv(TEACHERS_ROWS).encode())
    import_forms(db, options(settings), path, TEACHERS)
    before = _state(db)
    again = import_forms(db, options(settings), path, TEACHERS, "інша-мітка")
    assert again.duplicate
    assert again.lines() == [
        "This file was already imported as assessment-teachers wave 2024-2025; nothing changed."
    ]
    assert _state(db) == before


def test_unknown_values_are_listed_with_rows_and_nothing_is_written(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [*STUDENT_ROWS, ["16.02.2025 9:00:00", "9-В", "Не впевнений", "від батьків", "Так"]]
    path = _write(tmp_path, "students.csv", _csv(rows).encode())
    with pytest.raises(ImportFailed) as failure:
        import_forms(db, options(settings), path, STUDENTS)
    lines = failure.value.lines()
    assert lines[0] == "2 problem(s) in students.csv; nothing was imported:"
    assert "row 5" in lines[1] and "matches no option: 'Не впевнений'" in lines[1]
    assert "row 5" in lines[2] and "'від батьків'" in lines[2]
    assert _state(db) == ([], 0, [])


def test_other_answers_are_kept_where_the_question_allows(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    survey, problems = parse_survey(
        """
id: club-survey
title: Гуртки
audience: [student]
questions:
  - {id: q1, number: 1, title: "Які гуртки ви відвідуєте?", kind: multi, allow_other: true,
     options: [малювання, "спорт, танці", музика]}
"""
    )
    assert survey is not None, problems
    with db.write() as session:
        sync_survey(session, survey)
    rows = [
        ["Timestamp", "1. Які гуртки ви відвідуєте?"],
        ["2025/02/14 10:15:00 AM EET", "спорт, танці, шахи"],
        ["2025/02/14 10:16:00 AM EET", "музика"],
    ]
    result = import_forms(
        db, options(settings), _write(tmp_path, "c.csv", _csv(rows).encode()), "club-survey"
    )
    assert [str(p) for p in result.kept_as_other] == [
        "row 2, column '1. Які гуртки ви відвідуєте?': matches no option: 'шахи'"
    ]
    report = build_report(db, options(settings, min_group_size=1), ["club-survey"])
    q1 = report.surveys[0].questions[0]
    assert [o.count for o in q1.options] == [0, 1, 1]
    assert q1.other is not None and q1.other.count == 1


def test_all_or_nothing_when_the_write_fails_midway(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.forms_import as forms_import

    real = forms_import.bulk_add_answers

    def fail_after_writing(*args: object, **kwargs: object) -> tuple[int, int]:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(forms_import, "bulk_add_answers", fail_after_writing)
    path = _write(tmp_path, "students.csv", _csv(STUDENT_ROWS).encode())
    with pytest.raises(RuntimeError):
        import_forms(db, options(settings), path, STUDENTS)
    assert _state(db) == ([], 0, [])  # no wave, no response, no class created


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\r\n\r\n", "the file is empty"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV or XLSX"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
        ("broken.xlsx", b"PK\x03\x04garbage", "cannot read the XLSX file"),
        ("other.csv", b"name,score\r\nAnna,5\r\n", "no column matches a question"),
        ("header.csv", _csv([["Timestamp", T_UNDERSTAND]]).encode(), "no responses"),
        (
            "koi8.csv",
            _csv([["Позначка часу", "Клас"], ["14.02.2025 10:00", "7-А"]]).encode("koi8-u"),
            "read as Windows-1251",
        ),
    ],
)
def test_broken_files_fail_clearly(
    db: Database, settings: Settings, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ImportFailed, match=message):
        import_forms(db, options(settings), _write(tmp_path, name, data), TEACHERS)
    assert _state(db) == ([], 0, [])


def test_bad_timestamp_and_class_are_problems(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        STUDENT_HEADER,
        ["вчора", "7-А", "Частково", "не отримую", "Так"],
        ["14.02.2025 10:00", "!!", "Частково", "", ""],
    ]
    with pytest.raises(ImportFailed) as failure:
        import_forms(
            db, options(settings), _write(tmp_path, "s.csv", _csv(rows).encode()), STUDENTS
        )
    problems = [str(p) for p in failure.value.problems]
    assert problems == [
        "row 2, column 'Позначка часу': not a date: 'вчора'",
        "row 3, column 'Клас': not a class name (e.g. 7-А): '!!'",
    ]


def test_unknown_survey(db: Database, settings: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", _csv(TEACHERS_ROWS).encode())
    with pytest.raises(ImportFailed, match="unknown survey 'nope'"):
        import_forms(db, options(settings), path, "nope")


def test_without_timestamps_the_label_is_the_file_name(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [[T_UNDERSTAND, "Клас"], ["Частково", "7-А"], ["Здебільшого", ""]]
    path = _write(tmp_path, "вчителі-весна.csv", _csv(rows).encode())
    result = import_forms(db, options(settings), path, TEACHERS)
    assert (result.wave, result.responses, result.classes) == ("вчителі-весна", 2, ("7-А",))
    assert result.warnings == ("2 row(s) without a timestamp: only the others date the wave",)


# ------------------------------------------------------------------ the right survey only


def test_a_parents_export_under_the_teachers_survey_is_refused_naming_the_parents(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "answers.csv", _csv(parents_export()).encode())
    with pytest.raises(ImportFailed) as failure:
        import_forms(db, options(settings), path, TEACHERS)
    message = str(failure.value)
    assert failure.value.lines() == [message]  # one line, no row list
    assert message == (
        "this file looks like survey 'assessment-parents', not 'assessment-teachers' "
        "(7 of its 7 question columns match 'assessment-parents', 1 matches "
        "'assessment-teachers'); nothing was imported"
    )
    assert _state(db) == ([], 0, [])  # no wave, no response, no class
    # under its own survey the same file imports, with the parents' 8 of 19
    result = import_forms(db, options(settings), path, PARENTS)
    assert (result.survey, result.responses, result.unknown_columns) == (PARENTS, 19, ())
    report = build_report(db, options(settings), [PARENTS])
    understanding = next(g for g in report.gaps if g.construct == "criteria_understanding")
    assert understanding.positive == {"teacher": None, "student": None, "parent": 42.1}


def test_the_survey_is_checked_before_already_imported(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "answers.csv", _csv(parents_export()).encode())
    import_forms(db, options(settings), path, PARENTS)
    before = _state(db)
    # the same bytes under the wrong survey: not "already imported as ...", but the wrong survey
    with pytest.raises(ImportFailed, match="looks like survey 'assessment-parents', not 'assess"):
        import_forms(db, options(settings), path, TEACHERS)
    assert _state(db) == before
    again = import_forms(db, options(settings), path, PARENTS)
    assert again.duplicate and again.survey == PARENTS


def test_a_file_mostly_of_other_questions_is_refused(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["Timestamp", T_UNDERSTAND, "Ваш улюблений предмет?", "Скільки годин ви спите?", "Хобі"],
        ["2025/02/14 10:15:00 AM EET", "Частково", "математика", "8", "шахи"],
    ]
    path = _write(tmp_path, "mixed.csv", _csv(rows).encode())
    with pytest.raises(ImportFailed) as failure:
        import_forms(db, options(settings), path, TEACHERS)
    assert failure.value.lines() == [
        "this file does not look like survey 'assessment-teachers': only 1 of its 4 question "
        "columns match it; nothing was imported"
    ]
    assert _state(db) == ([], 0, [])


def test_option_texts_decide_between_surveys_with_the_same_title(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    survey, problems = parse_survey(
        """
id: pupils-quick
title: Швидке опитування
audience: [student]
questions:
  - {id: q1, number: 1, title: "Я розумію що таке критерії оцінювання.", kind: single,
     options: [так, ні, не впевнений]}
"""
    )
    assert survey is not None, problems
    with db.write() as session:
        sync_survey(session, survey)
    rows = [["Timestamp", T_UNDERSTAND], ["2025/02/14 10:15:00 AM EET", "так"]]
    rows += [["2025/02/14 10:16:00 AM EET", "не впевнений"], ["2025/02/14 10:17 AM EET", "ні"]]
    path = _write(tmp_path, "quick.csv", _csv(rows).encode())
    # the title is the teachers' question 7 too, but "так"/"ні" are not its options
    with pytest.raises(ImportFailed, match="looks like survey 'pupils-quick', not 'assessment-t"):
        import_forms(db, options(settings), path, TEACHERS)
    assert import_forms(db, options(settings), path, "pupils-quick").responses == 3


def test_stored_order_follows_random_ids_not_the_files_order(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """A file lists responses in the order people submitted; what is stored must not: every
    table is in the order of the responses' random ids, and that order is not the file's."""
    rows = parents_export(40)
    text_column = len(rows[0]) - 1  # q8, the free-text question: it names the file's row
    for i, row in enumerate(rows[1:]):
        row[text_column] = f"рядок {i:02d}"
    path = _write(tmp_path, "parents.csv", _csv(rows).encode())
    result = import_forms(db, options(settings), path, PARENTS)
    assert result.responses == 40
    with db.read() as session:
        stored = [r for (r,) in session.execute(text("SELECT id FROM responses"))]
        texts = session.execute(
            text("SELECT response_id, text FROM answers WHERE text IS NOT NULL")
        ).all()
    assert stored == sorted(stored)  # storage order is id order
    by_id = dict(texts)  # type: ignore[arg-type]
    file_rows = [int(by_id[r].removeprefix("рядок ")) for r in stored]
    assert sorted(file_rows) == list(range(40))
    assert file_rows != list(range(40)) and file_rows != list(range(39, -1, -1))


def test_an_import_leaves_foreign_keys_checked_for_the_next_writer(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """The bulk write turns SQLite's per-row foreign key checks off; the connection it used
    goes back to the pool with them on, after success and after failure."""
    if not db.is_sqlite:
        pytest.skip("a SQLite connection setting")
    path = _write(tmp_path, "students.csv", _csv(STUDENT_ROWS).encode())
    import_forms(db, options(settings), path, STUDENTS)
    with pytest.raises(RuntimeError), db.bulk_write():
        raise RuntimeError("disk full")
    with contextlib.ExitStack() as stack:  # every pooled connection at once
        for _ in range(db.engine.pool.checkedin() + 1):  # type: ignore[attr-defined]
            session = stack.enter_context(db.read())
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA cache_size")).scalar() == -2000
