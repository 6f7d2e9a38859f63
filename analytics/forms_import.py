"""Import a Google Forms responses export as a closed wave (source "import") of a survey.

    result = import_forms(db, options, Path("teachers.csv"), "assessment-teachers")

All or nothing: the file is read and checked completely first, then written in one transaction;
any problem raises ImportFailed and leaves the database as it was.

A file lands only in the survey it clearly is: most of its question columns must carry that
survey's question titles with valid option texts, and no other known survey (stored or bundled)
may fit it better; otherwise a one-line error names the survey it looks like. This is checked
first, so a file is never reported "already imported" under a survey it is not. The same file
(by SHA-256 of its bytes) imported again changes nothing and says so (`result.duplicate`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from analytics.forms_match import ColumnMatch, OptionMatcher, SurveyFit, match_columns, survey_fit
from analytics.forms_reader import FormsFileError, Table, read_table
from analytics.forms_timestamps import (
    is_timestamp_title,
    month_first,
    parse_timestamp,
    school_year,
)
from analytics.options import AnalyticsOptions
from storage.db import Database
from storage.repositories.imports import (
    NewResponse,
    bulk_add_responses,
    wave_for_import_hash,
    wave_labels,
)
from storage.repositories.school import ClassNameError, add_classes, normalise_class_name
from storage.repositories.surveys import latest_survey, list_surveys, survey_def, sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import (
    MAX_TEXT_ANSWER,
    SurveyDef,
    SurveyError,
    bundled_surveys_dir,
    load_survey_file,
)

MAX_LISTED = 30


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # spreadsheet row; the header is row 1
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "header"
        column = self.column if len(self.column) <= 40 else self.column[:39] + "…"
        value = f": '{self.value}'" if self.value else ""
        return f"{where}, column '{column}': {self.message}{value}"


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written."""

    def __init__(self, message: str, problems: list[ImportProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def lines(self) -> list[str]:
        out = [self.message]
        out += [f"  {p}" for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            out.append(f"  … and {len(self.problems) - MAX_LISTED} more")
        return out


@dataclass(frozen=True)
class ImportResult:
    survey: str
    wave: str
    responses: int = 0
    answers: int = 0
    duplicate: bool = False
    unknown_columns: tuple[str, ...] = ()
    missing_questions: tuple[str, ...] = ()
    kept_as_other: tuple[ImportProblem, ...] = ()
    warnings: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """What the CLI prints."""
        if self.duplicate:
            return [
                f"This file was already imported as {self.survey} wave {self.wave}; "
                "nothing changed."
            ]
        out = [
            f"Imported {self.responses} responses ({self.answers} answers) into {self.survey} "
            f"wave {self.wave} (closed, source import)."
        ]
        if self.classes:
            out.append("Classes: " + ", ".join(self.classes))
        if self.unknown_columns:
            out.append("Columns matching no question (ignored):")
            out += [f"  {c}" for c in self.unknown_columns]
        if self.missing_questions:
            out.append("Questions without a column: " + ", ".join(self.missing_questions))
        if self.kept_as_other:
            out.append("Values matching no option, kept as 'other':")
            out += [f"  {p}" for p in self.kept_as_other[:MAX_LISTED]]
        out += self.warnings
        return out


@dataclass
class _Rows:
    responses: list[tuple[datetime | None, str | None, dict[str, Any]]] = field(
        default_factory=list
    )
    problems: list[ImportProblem] = field(default_factory=list)
    others: list[ImportProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _column_name(index: int, title: str) -> str:
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters} '{title}'"


def _read_rows(table: Table, survey: SurveyDef, columns: ColumnMatch) -> _Rows:
    out = _Rows()
    stamp_col = columns.timestamp
    stamps = [row[stamp_col] for row in table.rows] if stamp_col is not None else []
    us_order = month_first(stamps, table.header[stamp_col]) if stamp_col is not None else False
    matchers = {i: OptionMatcher(q) for i, q in columns.questions.items()}
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        moment = None
        if stamp_col is not None:
            moment = parse_timestamp(row[stamp_col], us_order)
            if moment is None and row[stamp_col] not in (None, ""):
                out.problems.append(
                    ImportProblem(
                        number, table.header[stamp_col], str(row[stamp_col]), "not a date"
                    )
                )
        class_name = None
        if columns.class_column is not None:
            raw_class = row[columns.class_column]
            if isinstance(raw_class, str) and raw_class.strip():
                try:
                    class_name = normalise_class_name(raw_class)
                except ClassNameError:
                    out.problems.append(
                        ImportProblem(
                            number,
                            table.header[columns.class_column],
                            raw_class,
                            "not a class name (e.g. 7-А)",
                        )
                    )
        answers: dict[str, Any] = {}
        for index, matcher in matchers.items():
            cell = row[index]
            if cell is None:
                continue
            text = cell if isinstance(cell, str) else str(cell)
            if not text.strip():
                continue
            question = matcher.question
            if question.kind == "text":
                answers[question.id] = text.strip()[:MAX_TEXT_ANSWER]
                continue
            parsed = matcher.parse(text)
            for part in parsed.rest:
                problem = ImportProblem(number, table.header[index], part, "matches no option")
                (out.others if question.allow_other else out.problems).append(problem)
            value: list[Any] = list(parsed.indexes)
            if question.allow_other and parsed.rest:
                value.append({"other": ", ".join(parsed.rest)[:MAX_TEXT_ANSWER]})
            if not value:
                continue
            answers[question.id] = value if question.kind == "multi" else value[0]
        out.responses.append((moment, class_name, answers))
    return out


def _label(moments: list[datetime], path: Path, given: str | None) -> str:
    if given:
        return given.strip()
    if moments:
        first, last = school_year(min(moments)), school_year(max(moments))
        return first if first == last else f"{first[:4]}-{last[5:]}"
    return path.stem[:80]


def _survey(db: Database, slug: str) -> tuple[SurveyDef, bool]:
    """The survey's latest stored definition, or the bundled YAML (second value: needs sync)."""
    with db.read() as session:
        row = latest_survey(session, slug)
        if row is not None:
            return survey_def(session, row.id), False
    path = bundled_surveys_dir() / f"{slug}.yaml"
    if path.exists():
        try:
            return load_survey_file(path), True
        except SurveyError as exc:
            raise ImportFailed(f"survey '{slug}' is broken: {exc}") from None
    raise ImportFailed(f"unknown survey '{slug}'")


def _timestamp_column(header: list[str]) -> int | None:
    return next((i for i, title in enumerate(header) if is_timestamp_title(title)), None)


def _known_surveys(db: Database) -> dict[str, SurveyDef]:
    """Every survey a file could be: the stored ones (latest version) and the bundled ones."""
    with db.read() as session:
        known = {row.slug: survey_def(session, row.id) for row in list_surveys(session)}
    for path in sorted(bundled_surveys_dir().glob("*.yaml")):
        if path.stem not in known:
            try:
                known[path.stem] = load_survey_file(path)
            except SurveyError:
                continue  # a broken bundled file is reported when it is asked for by name
    return known


def _check_survey(db: Database, table: Table, survey: SurveyDef, timestamp: int | None) -> None:
    """Raise ImportFailed (one line) unless the file clearly is `survey`: no other known survey
    fits it better, and most of its question columns carry `survey`'s titles."""

    def fit(candidate: SurveyDef) -> SurveyFit:
        return survey_fit(table.header, table.rows, candidate.id, candidate.questions, timestamp)

    own = fit(survey)
    others = [fit(s) for slug, s in _known_surveys(db).items() if slug != survey.id]
    best = max(others, key=lambda f: f.found, default=None)
    if best is not None and best.found > own.found:
        raise ImportFailed(
            f"this file looks like survey '{best.survey_id}', not '{survey.id}' "
            f"({best.found} of its {best.columns} question columns match '{best.survey_id}', "
            f"{own.found} {'matches' if own.found == 1 else 'match'} '{survey.id}'); "
            "nothing was imported"
        )
    if own.titled == 0:
        hint = (
            " (the file was read as Windows-1251: if its titles look garbled, save it as UTF-8 CSV)"
            if table.encoding == "cp1251"
            else ""
        )
        raise ImportFailed(
            f"no column matches a question of survey '{survey.id}'{hint}; first columns: "
            + ", ".join(f"'{t[:40]}'" for t in table.header[:4])
        )
    if not own.clear:
        raise ImportFailed(
            f"this file does not look like survey '{survey.id}': only {own.titled} of its "
            f"{own.columns} question columns match it; nothing was imported"
        )


def import_forms(
    db: Database,
    options: AnalyticsOptions,
    path: Path,
    survey_slug: str,
    wave_label: str | None = None,
) -> ImportResult:
    """Load a Forms export into a new closed wave of `survey_slug`; see the module docstring."""
    try:
        table, data = read_table(path)
    except FormsFileError as exc:
        raise ImportFailed(str(exc)) from None
    survey, needs_sync = _survey(db, survey_slug)
    timestamp = _timestamp_column(table.header)
    # Which survey the file is comes first: "already imported" must not answer for a file
    # given under the wrong survey.
    _check_survey(db, table, survey, timestamp)
    digest = hashlib.sha256(data).hexdigest()
    with db.read() as session:
        earlier = wave_for_import_hash(session, digest)
    if earlier is not None:
        return ImportResult(earlier.survey_slug, earlier.label, duplicate=True)
    columns = match_columns(table.header, survey.questions, timestamp)
    if not table.rows:
        raise ImportFailed("the file has column titles but no responses")
    rows = _read_rows(table, survey, columns)
    if rows.problems:
        raise ImportFailed(
            f"{len(rows.problems)} problem(s) in {path.name}; nothing was imported:",
            rows.problems,
        )
    moments = [m for m, _, _ in rows.responses if m is not None]
    label = _label(moments, path, wave_label)
    if len(moments) < len(rows.responses):
        rows.warnings.append(
            f"{len(rows.responses) - len(moments)} row(s) without a timestamp: only the "
            "others date the wave"
        )
    role = survey.audience[0]
    class_names = sorted({c for _, c, _ in rows.responses if c})
    tz = options.tz
    with db.write() as session:
        # Checked again inside the transaction: another import may have won the race.
        if wave_for_import_hash(session, digest) is not None:
            raise ImportFailed("this file is being imported by someone else right now")
        if label in wave_labels(session, survey.id):
            raise ImportFailed(
                f"survey '{survey.id}' already has a wave '{label}'; choose another with --wave"
            )
        survey_id = (
            sync_survey(session, survey).id if needs_sync else latest_survey(session, survey.id).id  # type: ignore[union-attr]
        )
        classes = {c.name: c.id for c in add_classes(session, options.school_name, class_names)}
        wave = create_wave(
            session,
            survey_id,
            label,
            list(classes.values()),
            status="closed",
            opens_at=min(moments).replace(tzinfo=tz) if moments else None,
            closes_at=max(moments).replace(tzinfo=tz) if moments else None,
            source="import",
            import_hash=digest,
        )
        responses = [
            NewResponse(classes.get(class_name) if class_name else None, role, answers)
            for _, class_name, answers in rows.responses
        ]
        count, answer_count = bulk_add_responses(
            session, survey_id=survey_id, wave_id=wave.id, responses=responses
        )
    matched = {q.id for q in columns.questions.values()}
    return ImportResult(
        survey=survey.id,
        wave=label,
        responses=count,
        answers=answer_count,
        unknown_columns=tuple(_column_name(i, t) for i, t in columns.unknown),
        missing_questions=tuple(str(q.number) for q in survey.questions if q.id not in matched),
        kept_as_other=tuple(rows.others),
        warnings=tuple(rows.warnings),
        classes=tuple(class_names),
    )
