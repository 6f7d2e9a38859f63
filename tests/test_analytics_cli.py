"""`classpulse report` and `classpulse import-forms` through click, as an operator runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from storage.db import Database
from tests.analytics_fixtures import parents_export, seed_school

FORMS_CSV = (
    "Timestamp,7. Я розумію що таке критерії оцінювання. Виберіть лише один варіант.\r\n"
    "2025/02/14 10:15:00 AM EET,У повній мірі\r\n"
    "2025/02/14 10:16:00 AM EET,Здебільшого\r\n"
)


def _run(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), obj=AppContext(settings=settings))
    return result.exit_code, result.stdout, result.stderr


def test_report_json_to_stdout(db: Database, settings: Settings) -> None:
    seed_school(db)
    code, out, _ = _run(settings, "report", "--all", "--format", "json", "--out", "-")
    assert code == 0
    data = json.loads(out)
    assert [s["respondents"] for s in data["surveys"]] == [31, 71, 80]
    assert data["gaps"][0]["construct"] == "criteria_understanding"


def test_report_text_for_one_survey(db: Database, settings: Settings) -> None:
    seed_school(db)
    code, out, _ = _run(settings, "report", "--survey", "assessment-students")
    assert code == 0
    assert "Анкета для здобувачів освіти (2024-2025, імпорт з Google Forms): 71 відповідь" in out
    assert "Частка позитивних відповідей:" in out  # one role: shares instead of gaps
    assert "Інформування про критерії оцінювання (учні): 28,4 %" in out


def test_report_files(db: Database, settings: Settings, tmp_path: Path) -> None:
    # `--format all --out DIR` (every file of the report) is run through click once, in
    # tests/test_analytics_reports.py, whose tests open the files it writes.
    seed_school(db)
    code, out, _ = _run(
        settings, "report", "--all", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")
    )
    assert code == 0
    assert out.strip() == f"wrote {tmp_path / 'r.xlsx'} (3 surveys, 182 responses)"
    assert (tmp_path / "r.xlsx").read_bytes().startswith(b"PK")  # a zip: what XLSX is


def test_report_errors_are_one_line(db: Database, settings: Settings) -> None:
    code, _, err = _run(settings, "report")
    assert (code, err.strip()) == (1, "error: give --survey ID (repeatable) or --all")
    code, _, err = _run(settings, "report", "--all")
    assert (code, err.strip()) == (1, "error: no waves yet")
    seed_school(db)
    code, _, err = _run(settings, "report", "--all", "--format", "docx")
    assert (code, err.strip()) == (1, "error: --format docx needs --out FILE")


def test_import_forms_then_again(db: Database, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "teachers.csv"
    path.write_text(FORMS_CSV, encoding="utf-8")
    code, out, _ = _run(settings, "import-forms", str(path), "--survey", "assessment-teachers")
    assert code == 0
    assert out.splitlines()[0] == (
        "Imported 2 responses (2 answers) into assessment-teachers wave 2024-2025 "
        "(closed, source import)."
    )
    code, out, _ = _run(settings, "import-forms", str(path), "--survey", "assessment-teachers")
    assert code == 0
    assert "already imported" in out and "nothing changed" in out


def test_import_forms_broken_file_exits_1_without_traceback(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x00\x01\x02binary\x00")
    code, out, err = _run(settings, "import-forms", str(path), "--survey", "assessment-teachers")
    assert code == 1
    assert err.startswith("error: this is not a CSV or XLSX file")
    assert "Traceback" not in out + err
    bad_value = tmp_path / "value.csv"
    bad_value.write_text(FORMS_CSV + "2025/02/14 10:17:00 AM EET,Не знаю\r\n", encoding="utf-8")
    code, _, err = _run(settings, "import-forms", str(bad_value), "--survey", "assessment-teachers")
    assert code == 1
    assert err.splitlines()[0] == "error: 1 problem(s) in value.csv; nothing was imported:"
    assert "row 4" in err and "'Не знаю'" in err


def test_import_forms_under_the_wrong_survey_is_one_line(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "answers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(parents_export())
    code, out, err = _run(settings, "import-forms", str(path), "--survey", "assessment-teachers")
    assert code == 1
    assert err.splitlines() == [
        "error: this file looks like survey 'assessment-parents', not 'assessment-teachers' "
        "(7 of its 7 question columns match 'assessment-parents', 1 matches "
        "'assessment-teachers'); nothing was imported"
    ]
    assert "Imported" not in out
    code, out, _ = _run(settings, "import-forms", str(path), "--survey", "assessment-parents")
    assert code == 0 and out.startswith("Imported 19 responses")
