"""Last year's Google Forms export imported in chat (/staff → "📥 Імпорт з Google Forms"; memory
channel, real engine, database and importer): the director's import, what it says, what it
stores and logs, and every way it is refused without changing anything."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import EventKind, FileRef, IncomingEvent, Reply
from bot.files.store import files_dir
from bot.settings import Settings
from bot.staff import forms_effects
from bot.texts import t
from storage.db import Database
from storage.models import Membership, StaffAudit
from storage.repositories import staff
from storage.repositories.responses import response_count
from storage.repositories.waves import list_waves
from tests.analytics_fixtures import parents_export
from tests.criteria_fixtures import CriteriaSchool
from tests.dialog import assert_dialog, press
from tests.staff_fixtures import build_staff_school, open_survey, person_id, submit

PARENTS = "assessment-parents"


@pytest.fixture
def cs(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    return build_staff_school(db, settings.model_copy(update={"min_group_size": 1}), now)


def export(rows: list[list[str]] | None = None) -> bytes:
    """The parents' form as Google Forms downloads it (19 parents of 7-А, February 2025)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows or parents_export())
    return out.getvalue().encode()


def waves_and_responses(cs: CriteriaSchool) -> list[tuple[str, str, str, int]]:
    with cs.db.read() as session:
        return [
            (w.slug, w.label, w.source, response_count(session, w.id)) for w in list_waves(session)
        ]


def audit(cs: CriteriaSchool) -> list[tuple[str, str]]:
    with cs.db.read() as session:
        rows = session.execute(select(StaffAudit.action, StaffAudit.detail)).all()
    return [(a, d) for a, d in rows]


def leftovers(cs: CriteriaSchool) -> list[Path]:
    """Whatever an import left on disk (it must leave nothing of the file)."""
    folder = files_dir(cs.settings) / "imports"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def to_file_step(user: object, wave: str | None = None) -> None:
    assert_dialog(
        user,  # type: ignore[arg-type]
        [
            ("/staff", ["Працівники школи"]),
            (press("Імпорт з Google Forms"), ["До якої анкети належить файл?"]),
            (press("Анкета для батьків"), ["як назвати хвилю?", "2024-2025"]),
            (
                press("За замовчуванням") if wave is None else wave,
                ["Надішліть файл CSV", "до 20 МБ", "Анкета: «Анкета для батьків»"],
            ),
        ],
    )


def said(replies: list[object]) -> str:
    return "\n---\n".join(r.text for r in replies)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the import
def test_director_imports_last_years_export_and_the_report_compares_years(
    cs: CriteriaSchool,
) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    text = said(director.send_file("Відповіді 2025.csv", export()))
    assert "⏳ Імпортую «Відповіді 2025.csv» до «Анкета для батьків»…" in text
    assert (
        "✅ Імпортовано 19 відповідей до «Анкета для батьків», хвиля 2024-2025 "
        "(закрита, з Google Forms)"
    ) in text
    assert "Класи: 7-А" in text
    assert waves_and_responses(cs) == [(PARENTS, "2024-2025", "import", 19)]
    assert leftovers(cs) == []  # the file is gone once imported
    assert audit(cs) == [("import_forms", f"{PARENTS} 2024-2025: 19 responses")]
    # The change log says it in words.
    assert_dialog(
        director,
        [
            ("/staff", ["Працівники школи"]),
            (
                press("Журнал змін"),
                [
                    "Director · імпорт з Google Forms · «Анкета для батьків» 2024-2025: "
                    "19 відповідей"
                ],
            ),
        ],
    )
    # This year's wave: the report puts last year's beside it.
    for i in range(3):
        cs.join(f"p{i}", "7-А", "parent")
    wave = open_survey(cs, PARENTS, ["7-А"])
    for i in range(3):
        submit(cs, wave, f"p{i}", "7-А")
    director.send("/report")
    labels = [b.label for b in director.buttons()]
    assert any("2024-2025" in label for label in labels)  # last year's, reportable too
    text = said(director.press("остання"))
    assert "Зміни від попередньої хвилі:" in text
    assert "(2024-2025 → 2026-03)" in text


def test_a_typed_wave_name_and_one_already_taken(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director, wave="весна 2025")
    text = said(director.send_file("a.csv", export()))
    assert "хвиля весна 2025" in text
    to_file_step(director, wave="весна 2025")
    other = export(parents_export(rows=5))  # another file, the same wave name
    text = said(director.send_file("b.csv", other))
    assert "В анкеті «Анкета для батьків» уже є хвиля «весна 2025»" in text
    assert "Нічого не імпортовано" in text
    assert waves_and_responses(cs) == [(PARENTS, "весна 2025", "import", 19)]


def test_the_same_file_twice_is_already_imported_and_nothing_is_duplicated(
    cs: CriteriaSchool,
) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    director.send_file("answers.csv", export())
    to_file_step(director)
    text = said(director.send_file("answers (1).csv", export()))
    assert "Цей файл уже імпортовано (хвиля 2024-2025). Нічого не змінено." in text
    assert waves_and_responses(cs) == [(PARENTS, "2024-2025", "import", 19)]
    assert len(audit(cs)) == 1
    assert leftovers(cs) == []


# ---------------------------------------------------------------- refusals
def test_a_class_teacher_is_refused_naming_who_may(cs: CriteriaSchool) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    refusal = "Команда /staff доступна лише для таких ролей: адміністрація, директор"
    # An old or tampered button is checked against the permission table too.
    replies = teacher.press_payload(encode(ButtonKind.FORMS, "start", 0))
    assert refusal in said(replies)
    replies = teacher.press_payload(encode(ButtonKind.FORMS, "survey", 0))
    assert refusal in said(replies)
    assert waves_and_responses(cs) == []


def test_a_broken_file_is_explained_in_ukrainian_and_nothing_is_stored(
    cs: CriteriaSchool,
) -> None:
    director = cs.join("director", None, "director")
    rows = parents_export()
    column = next(i for i, title in enumerate(rows[0]) if title.startswith("5."))
    rows[3][column] = "Можливо"  # no option of question 5
    rows[5][0] = "вчора"  # not a date
    to_file_step(director)
    text = said(director.send_file("answers.csv", export(rows)))
    assert "❌ У файлі 2 проблеми:" in text
    assert "рядок 4, стовпець «5." in text and "«Можливо» — немає такого варіанта відповіді" in text
    assert "рядок 6, стовпець «Позначка часу»: «вчора» — не дата" in text
    assert "Нічого не імпортовано, у базі нічого не змінено." in text
    assert waves_and_responses(cs) == [] and audit(cs) == []
    assert leftovers(cs) == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "Це не CSV і не XLSX файл."),
        ("old.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "Старий формат Excel (.xls)"),
        ("empty.csv", b"   \r\n", "Файл порожній."),
        (
            "teachers.csv",
            "Позначка часу,Ваше ім'я,Улюблений колір\r\n01.02.2025 10:00:00,А,синій\r\n".encode(),
            "Жоден стовпець файлу не відповідає питанням анкети «Анкета для батьків»",
        ),
        (
            "cp1251.csv",
            "Timestamp;Колонка\r\n01.02.2025 10:00:00;так\r\n".encode("cp1251"),
            "кодуванні Windows-1251",
        ),
    ],
)
def test_files_that_are_not_the_export_are_refused_in_words(
    cs: CriteriaSchool, name: str, data: bytes, expected: str
) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    text = said(director.send_file(name, data))
    assert expected in text
    assert "Нічого не імпортовано" in text
    assert waves_and_responses(cs) == []
    assert leftovers(cs) == []


def test_the_file_step_keeps_waiting_with_a_hint(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    assert_dialog(director, [("ось файл", ["Чекаю на файл", "CSV-файл з Google Forms"])])
    text = said(director.send_file("Критерії.pdf", b"%PDF-1.4", "application/pdf"))
    assert "«Критерії.pdf» — не CSV і не XLSX" in text
    # Still waiting: the export now is imported.
    text = said(director.send_file("answers.csv", export()))
    assert "✅ Імпортовано 19 відповідей" in text


def test_a_file_over_the_cap_is_refused_before_and_after_fetching(
    cs: CriteriaSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    # The messenger says how big it is: refused at once, the step kept.
    big = FileRef("huge.csv", "text/csv", 21 * 1024 * 1024, "never-fetched")
    replies = cs.channel.service.handle(
        IncomingEvent(cs.channel.name, director.user_id, EventKind.FILE, file=big)
    )
    assert "Файл «huge.csv» більший за 20 МБ" in said(replies)
    # A messenger that does not say (or says wrong): the fetch stops at the cap.
    monkeypatch.setattr(forms_effects, "MAX_FILE_BYTES", 1000)
    text = said(director.send_file("answers.csv", export()))
    assert "Файл «answers.csv» більший за 20 МБ" in text
    assert waves_and_responses(cs) == [] and leftovers(cs) == []


def test_cancel_at_every_step(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    assert_dialog(
        director,
        [
            ("/staff", ["Працівники школи"]),
            (press("Імпорт з Google Forms"), ["До якої анкети"]),
            (press("Скасувати"), ["Скасовано."]),
            ("/staff", ["Працівники школи"]),
            (press("Імпорт з Google Forms"), ["До якої анкети"]),
            (press("Анкета для батьків"), ["як назвати хвилю?"]),
            (press("Скасувати"), ["Скасовано."]),
        ],
    )
    to_file_step(director)
    assert_dialog(director, [("/cancel", ["Скасовано."])])
    text = said(director.send_file("answers.csv", export()))
    assert "Імпортую" not in text  # no longer waiting for a file
    assert waves_and_responses(cs) == []


def test_a_channel_that_cannot_hand_over_files_says_so(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    to_file_step(director)
    cs.channel.service.file_sources.pop(cs.channel.name)
    text = said(director.send_file("answers.csv", export()))
    assert "бот зараз не може отримати файл" in text
    assert waves_and_responses(cs) == []


def test_an_xlsx_from_google_sheets_is_imported_too(cs: CriteriaSchool) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in parents_export(rows=6):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    director = cs.join("director", None, "director")
    to_file_step(director)
    text = said(director.send_file("Відповіді.xlsx", out.getvalue(), "application/vnd.ms-excel"))
    assert "✅ Імпортовано 6 відповідей до «Анкета для батьків», хвиля 2024-2025" in text
    assert waves_and_responses(cs) == [(PARENTS, "2024-2025", "import", 6)]


def stored_request(cs: CriteriaSchool) -> int:
    """The director's import of the parents' export, stored as the chat stores it (its job not
    run yet: a crash, or another process)."""
    with cs.db.write() as session:
        return staff.add_forms_import_request(
            session,
            person_id=person_id(cs, "director"),
            channel=cs.channel.name,
            external_id="director",
            language="uk",
            survey_slug=PARENTS,
            wave_label=None,
            file_ref="export",
            file_name="Відповіді 2025.csv",
            now=cs.now,
        )


def fetch_export(ref: str, dest: Path, max_bytes: int) -> Path:
    """The messenger's copy of the export, as a channel's file source writes it."""
    dest.write_bytes(export())
    return dest


def test_two_processes_on_one_request_import_it_once_and_answer_once(cs: CriteriaSchool) -> None:
    """A restarted bot takes up a stored request that another process is still importing (a
    district on PostgreSQL): both do the work, and only the one that finishes the request
    keeps its import and answers. Here the second one runs whole while the first fetches."""
    cs.join("director", None, "director")
    request_id = stored_request(cs)
    second: list[list[Reply]] = []
    fetching: list[str] = []

    def fetch(ref: str, dest: Path, max_bytes: int) -> Path:
        fetching.append(ref)
        if len(fetching) == 1:  # the first process is fetching: the second takes the request
            run = forms_effects.run_forms_import
            second.append(run(request_id, fetch, cs.db, cs.settings, cs.now))
        return fetch_export(ref, dest, max_bytes)

    first = forms_effects.run_forms_import(request_id, fetch, cs.db, cs.settings, cs.now)
    assert first == []  # it found the request finished: its import was rolled back
    assert ["✅ Імпортовано 19 відповідей" in r.text for r in second[0]] == [True]
    assert waves_and_responses(cs) == [(PARENTS, "2024-2025", "import", 19)]
    assert audit(cs) == [("import_forms", f"{PARENTS} 2024-2025: 19 responses")]
    assert leftovers(cs) == []


def test_a_stored_import_of_someone_no_longer_allowed_is_refused_and_answered(
    cs: CriteriaSchool,
) -> None:
    """A request taken up after a restart is checked again: the director was made a plain
    teacher meanwhile, so nothing is imported and they are told why."""
    cs.join("director", None, "director")
    director_id = person_id(cs, "director")
    request_id = stored_request(cs)
    with cs.db.write() as session:
        session.execute(
            update(Membership).where(Membership.person_id == director_id).values(role="teacher")
        )

    replies = forms_effects.run_forms_import(request_id, fetch_export, cs.db, cs.settings, cs.now)
    assert [r.text for r in replies] == [t("uk", "st_forbidden_now")]
    assert waves_and_responses(cs) == []
    with cs.db.read() as session:
        assert staff.get_forms_import_request(session, request_id) is None
