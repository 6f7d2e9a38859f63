"""Coverage numbers on a fixture: the service, `/coverage` in chat, and the CLI."""

from __future__ import annotations

import json
from datetime import datetime

from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.criteria.service import coverage
from bot.settings import Settings
from storage.repositories import receipts
from tests.criteria_fixtures import CriteriaSchool, Families, module_fixtures, populate


def fill(cs: CriteriaSchool) -> Families:
    """7-А Математика: 4 recipients, all delivered, 1 seen, 3 understood, 2 questions (1
    answered). 7-А Фізика: queued, not yet sent. 7-Б Математика: 1 recipient, nothing yet."""
    fam = populate(cs)
    for subject in ("Математика",):
        _publish(fam, subject, "7-А")
    cs.deliver()
    maths_ref = fam.parents[0].last_ref
    with cs.db.write() as session:
        receipts.record_receipt(session, "memory", maths_ref, "maria", "seen", cs.now)
    for member in (fam.parents[0], fam.parents[1], fam.students[0]):
        member.press("Зрозуміло")
    for member, question in ((fam.students[1], "Що таке рубрика?"), (fam.parents[1], "А тести?")):
        member.press("Маю питання")
        member.send(question)
    cs.deliver()
    fam.teacher.press("Відповісти")  # the last relayed question: "А тести?"
    fam.teacher.send("Так, тести теж за критеріями.")
    _publish(fam, "Фізика", "7-А")  # not delivered
    fam.other_teacher.send("/criteria_new")
    for label in ("Далі", "Математика", "Батькам"):
        fam.other_teacher.press(label)
    fam.other_teacher.send("Критерії для 7-Б.")
    fam.other_teacher.press("Без файлу")
    fam.other_teacher.press("Надіслати")
    return fam


filled, db_url, cs, fam = module_fixtures(fill)


def _publish(fam: Families, subject: str, class_name: str) -> None:
    t = fam.teacher
    t.send("/criteria_new")
    t.press("Далі")
    t.press(subject)
    t.press("Учням і батькам")
    t.send(f"Критерії з предмета {subject}.")
    t.press("Без файлу")
    t.press("Надіслати")


def test_coverage_numbers(cs: CriteriaSchool, fam: Families) -> None:
    with cs.db.read() as session:
        rows = {(r.class_name, r.subject): r for r in coverage(session)}
    maths = rows[("7-А", "Математика")]
    assert (maths.recipients, maths.delivered, maths.seen, maths.acknowledged) == (4, 4, 1, 3)
    assert (maths.questions, maths.answered) == (2, 1)
    assert maths.acknowledged_pct == 75.0 and maths.delivered_pct == 100.0
    physics = rows[("7-А", "Фізика")]
    assert (physics.recipients, physics.delivered, physics.acknowledged) == (4, 0, 0)
    other = rows[("7-Б", "Математика")]
    assert (other.recipients, other.delivered, other.audience) == (1, 0, "parents")
    with cs.db.read() as session:
        assert [r.subject for r in coverage(session, cs.class_ids["7-Б"])] == ["Математика"]


def test_class_teacher_sees_percentages_not_names(cs: CriteriaSchool, fam: Families) -> None:
    text = fam.class_teacher.send("/coverage")[0].text
    assert "Клас 7-А:" in text and "7-Б" not in text
    assert "• Математика: отримали 4 з 4; «Зрозуміло» — 75%; питань 2, з відповіддю 1" in text
    assert "; переглянули 1" in text
    assert "Фізика: отримали 0 з 4; «Зрозуміло» — 0%" in text
    assert "Sofia" not in text and "Petro" not in text


def test_names_only_when_the_school_allows(cs: CriteriaSchool, fam: Families) -> None:
    cs.service.settings = cs.settings.model_copy(update={"criteria_show_names": True})
    text = fam.class_teacher.send("/coverage")[0].text
    assert "Ще не позначили «Зрозуміло»: Sofia" in text


def test_who_may_see_coverage(cs: CriteriaSchool, fam: Families) -> None:
    assert "класні керівники" in fam.teacher.send("/coverage")[0].text
    assert "класні керівники" in fam.parents[0].send("/coverage")[0].text
    director = cs.join("dir", None, "director")
    text = director.send("/coverage")[0].text
    assert "Клас 7-А:" in text and "Клас 7-Б:" in text
    menu = [b.label for b in director.send("/menu")[0].flat_buttons()]
    assert "📊 Охоплення" in menu
    assert "📊 Охоплення" not in [b.label for b in fam.teacher.send("/menu")[0].flat_buttons()]


def test_cli_coverage_table_and_json(
    cs: CriteriaSchool, fam: Families, settings: Settings, now: datetime
) -> None:
    app = AppContext(settings=settings, clock=lambda: now)
    result = CliRunner().invoke(main, ["criteria", "coverage", "--class", "7-А"], obj=app)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "class",
        "subject",
        "recipients",
        "delivered",
        "seen",
        "understood",
        "questions",
    ]
    assert lines[1].split() == ["7-А", "Математика", "4", "4", "1", "3", "(75%)", "1/2"]
    result = CliRunner().invoke(main, ["criteria", "coverage", "--json"], obj=app)
    data = json.loads(result.output)
    assert len(data) == 3
    assert data[0]["acknowledged_pct"] == 75.0 and data[0]["questions"] == 2
