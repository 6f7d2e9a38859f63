"""The demo: simulated families answer through the real engine; counts come out right."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.context import AppContext
from bot.demo.run import run_demo
from bot.settings import Settings
from storage.db import Database
from storage.models import Answer, Completion, Draft, Response


def test_demo_answers_every_survey_through_the_engine(settings: Settings, tmp_path: Path) -> None:
    lines: list[str] = []
    summary = run_demo(settings, families=8, out=tmp_path / "out", seed=7, echo=lines.append)
    assert summary["totals"] == {
        "assessment-teachers": 31,
        "assessment-students": 7,
        "assessment-parents": 8,
    }
    assert "assessment-parents: 8 responses" in lines
    # It ends with the director asking for a report in the console.
    console = "\n".join(summary["console"])
    assert console.startswith("> /report\nЗвіт за яким опитуванням?")
    assert "⏳ Готую звіт" in console and "📊 Звіт: «" in console
    assert "Відповіли:" in console
    parents = [r for r in summary["rows"] if r["survey"] == "assessment-parents"]
    assert sum(r["responses"] for r in parents) == 8
    assert sum(r["registered"] for r in parents) == 9  # one registered parent did not answer
    db = Database(f"sqlite:///{tmp_path / 'out' / 'demo.db'}")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 46
        assert session.scalar(select(func.count()).select_from(Completion)) == 46
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
        # teachers' q7: the report's 25 "У повній мірі" and 6 "Здебільшого", exactly
        q7 = session.execute(
            select(Answer.option_index, func.count())
            .where(Answer.question_id == "q7", Answer.wave_id == 1)
            .group_by(Answer.option_index)
        ).all()
        assert dict(q7) == {0: 25, 1: 6}
    db.dispose()


def test_demo_command(settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["demo", "--families", "3", "--out", str(tmp_path / "d")],
        obj=AppContext(settings=settings),
    )
    assert result.exit_code == 0, result.output
    assert "assessment-parents: 3 responses" in result.output
    assert (tmp_path / "d" / "demo.db").exists()
