"""The demo: simulated families answer through the real engine; counts come out right.

One run, through the `classpulse demo` command (a demo run is the slowest thing in the suite):
what it prints is what the summary says, and the database it leaves is checked row by row.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.context import AppContext
from bot.settings import Settings
from storage.db import Database
from storage.models import Answer, Completion, Draft, Response


def _table_rows(output: str, survey: str) -> list[tuple[int, int]]:
    """(responses, registered) of the summary table's rows for one survey."""
    rows = []
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 5 and cells[0] == survey and cells[3].isdigit():
            rows.append((int(cells[3]), int(cells[4])))
    return rows


def test_demo_command_answers_every_survey_through_the_engine(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # The smallest school that still has every role: 7 teachers are the 6 classes' class
    # teachers and one more; 6 families put the parent who does not answer (the 7th registered)
    # in a class whose parents did answer, so the summary table counts them.
    result = CliRunner().invoke(
        main,
        ["demo", "--families", "6", "--teachers", "7", "--out", str(out), "--seed", "7"],
        obj=AppContext(settings=settings),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "assessment-teachers: 7 responses" in lines
    assert "assessment-students: 5 responses" in lines
    assert "assessment-parents: 6 responses" in lines
    # It ends with the director asking for a report in the console.
    console = result.output.split("(try it: classpulse chat --as director):\n", 1)[1]
    console = console.split("=" * 72 + "\n", 1)[1]
    assert console.startswith("> /report\nЗвіт за яким опитуванням?")
    # "1": the whole review first, as the school's own довідка (every questionnaire, the gaps).
    assert "⏳ Готую довідку за всіма анкетами" in console and "📋 Довідка: усі анкети" in console
    assert "Відповіли:" in console
    parents = _table_rows(result.output, "assessment-parents")
    assert sum(r for r, _ in parents) == 6
    assert sum(n for _, n in parents) == 7  # one registered parent did not answer
    assert (out / "demo.db").exists()
    db = Database(f"sqlite:///{out / 'demo.db'}")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 18
        assert session.scalar(select(func.count()).select_from(Completion)) == 18
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
        # teachers' q7: the report's 25 "У повній мірі" and 6 "Здебільшого" of 31, scaled to 7
        # (5.65 and 1.35), exactly
        q7 = session.execute(
            select(Answer.option_index, func.count())
            .where(Answer.question_id == "q7", Answer.wave_id == 1)
            .group_by(Answer.option_index)
        ).all()
        assert dict(q7) == {0: 6, 1: 1}
    db.dispose()
