"""`classpulse survey check` and the shipped questionnaires."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from storage.survey_schema import bundled_surveys_dir, load_survey_file, parse_survey

GOOD = """\
id: demo
title: Demo
audience: [parent]
questions:
  - id: q1
    number: 1
    title: First
    kind: single
    options: [Так, Ні]
"""


def problems(text: str) -> list[str]:
    survey, found = parse_survey(text, "s.yaml")
    assert survey is None
    return [str(p) for p in found]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: single", "kind: slider"), "s.yaml:5: question 'q1': unknown kind 'slider'"),
        (("options: [Так, Ні]", "options: []"), "s.yaml:5: question 'q1': options are empty"),
        (("options: [Так, Ні]", f"options: [Так, {'д' * 101}]"), "button label longer than 100"),
        (("title: Demo\n", ""), "s.yaml:1: title is missing"),
        (("audience: [parent]", "audience: [martian]"), "unknown audience role 'martian'"),
        (("id: q1\n", "id: q1\n    colour: red\n"), "unknown key 'colour' in a question"),
        (("kind: single", "kind: single\n    required: maybe"), "required must be true or false"),
    ],
)
def test_each_problem_is_reported_with_its_line(change: tuple[str, str], expected: str) -> None:
    found = problems(GOOD.replace(*change))
    assert any(expected in p for p in found), found


def test_duplicate_ids_and_show_if_problems() -> None:
    text = GOOD + (
        "  - id: q1\n    number: 2\n    title: Again\n    kind: text\n"
        "  - id: q3\n    number: 3\n    title: Forward\n    kind: text\n"
        "    show_if: {question: q9, options: [Так]}\n"
        "  - id: q4\n    number: 4\n    title: Bad option\n    kind: text\n"
        "    show_if: {question: q1, options: [Може]}\n"
    )
    found = problems(text)
    assert "s.yaml:10: duplicate question id 'q1'" in found
    assert any("s.yaml:18:" in p and "'q9', which is not an earlier question" in p for p in found)
    assert any("s.yaml:23:" in p and "show_if option 'Може'" in p for p in found)


def test_malformed_yaml_is_one_clear_problem() -> None:
    found = problems("id: [unclosed\n")
    assert len(found) == 1 and found[0].startswith("s.yaml:2: not valid YAML:"), found


def test_show_if_hides_a_question() -> None:
    text = GOOD + (
        "  - id: q2\n    number: 2\n    title: Why not?\n    kind: text\n"
        "    show_if: {question: q1, options: [Ні]}\n"
    )
    survey, found = parse_survey(text, "s.yaml")
    assert survey is not None and not found
    assert not survey.questions[1].visible({"q1": 0})
    assert survey.questions[1].visible({"q1": 1})


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("kind: single", "kind: slider"), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["survey", "check", str(bad)], obj=object())
    assert result.exit_code == 1
    assert f"{bad}:5: question 'q1': unknown kind 'slider'" in result.output
    shipped = sorted(str(p) for p in bundled_surveys_dir().glob("*.yaml"))
    result = runner.invoke(main, ["survey", "check", *shipped], obj=object())
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == 3


# ---------------------------------------------------------------- the spec, letter for letter
SPEC = Path(__file__).parent / "data" / "questionnaires.md"
SCALES = {
    "scale A": ["У повній мірі", "Здебільшого", "Частково", "Зовсім ні"],
    "scale B": ["Так, завжди", "Переважно так", "Іноді", "Ніколи"],
}
SECTIONS = {
    "Teachers": "assessment-teachers",
    "Students": "assessment-students",
    "Parents": "assessment-parents",
}


def spec_tables() -> dict[str, list[tuple[int, str, str, list[str], str]]]:
    tables: dict[str, list[tuple[int, str, str, list[str], str]]] = {}
    current = None
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\w+) —", line)
        if heading:
            current = SECTIONS.get(heading.group(1))
            tables[current or ""] = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current and len(cells) == 5 and cells[0].isdigit():
            number, title, kind, options, construct = cells
            if options in SCALES:
                parsed = SCALES[options]
            elif options.startswith("free text"):
                parsed = []
            else:
                parsed = [o.strip() for o in options.split(" · ")]
            tables[current].append((int(number), title, kind, parsed, construct))
    return {k: v for k, v in tables.items() if k}


def test_shipped_yaml_matches_the_spec_letter_for_letter() -> None:
    tables = spec_tables()
    assert set(tables) == set(SECTIONS.values())
    for slug, rows in tables.items():
        survey = load_survey_file(bundled_surveys_dir() / f"{slug}.yaml")
        shipped = [
            (q.number, q.title, q.kind, list(q.options), q.construct) for q in survey.questions
        ]
        assert shipped == rows, slug
