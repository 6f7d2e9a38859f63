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

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from analytics.forms_match import (
    FIT_SAMPLE,
    ColumnMatch,
    OptionMatcher,
    SurveyFit,
    match_columns,
    survey_fit,
)
from analytics.forms_reader import Cell, Export, FormsFileError, open_export
from analytics.forms_timestamps import (
    is_timestamp_title,
    month_first,
    parse_timestamp,
    school_year,
)
from analytics.options import AnalyticsOptions
from storage.db import Database
from storage.repositories.imports import (
    AnswerPart,
    bulk_add_answers,
    wave_for_import_hash,
    wave_labels,
)
from storage.repositories.school import ClassNameError, add_classes, normalise_class_name
from storage.repositories.surveys import latest_survey, list_surveys, survey_def, sync_survey
from storage.repositories.waves import create_wave
from storage.survey_schema import (
    MAX_TEXT_ANSWER,
    Question,
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
    code: str = ""  # the kind, for callers that say it in another language: date, class, option

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "header"
        column = self.column if len(self.column) <= 40 else self.column[:39] + "…"
        value = f": '{self.value}'" if self.value else ""
        return f"{where}, column '{column}': {self.message}{value}"


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written. `code` and `params` say the same as
    `message` for callers that say it in another language (the chat, bot/staff/)."""

    def __init__(
        self,
        message: str,
        problems: list[ImportProblem] | None = None,
        *,
        code: str = "failed",
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.code = code
        self.params = params or {}

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
    undated_rows: int = 0  # rows without a timestamp (also in `warnings`)

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


def _column_name(index: int, title: str) -> str:
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters} '{title}'"


@dataclass
class _Column:
    """One question column as small integer codes: codes[r] is the index of row r's cell among
    the column's distinct cells. A file repeats the same few cells, so each distinct cell is
    matched to options once, and no row's strings are kept."""

    index: int
    question: Question
    codes: array[int] = field(default_factory=lambda: array("I"))
    distinct: dict[Cell, int] = field(default_factory=dict)


@dataclass
class _Coded:
    """What one pass over the file keeps: per row its number, timestamp cell and class code,
    per question column its codes; and the cells `survey_fit` samples."""

    columns: list[_Column]
    numbers: array[int] = field(default_factory=lambda: array("I"))
    stamps: list[Cell] = field(default_factory=list)
    classes: array[int] = field(default_factory=lambda: array("I"))
    class_cells: dict[Cell, int] = field(default_factory=dict)
    samples: dict[int, list[str]] = field(default_factory=dict)  # column -> non-empty cells


def _code_rows(export: Export, columns: ColumnMatch) -> _Coded:
    """Read every row once into codes (see _Column)."""
    coded = _Coded([_Column(i, q) for i, q in sorted(columns.questions.items())])
    width = len(export.header)
    samples: dict[int, list[str]] = {i: [] for i in range(width)}
    hungry = list(range(width))  # columns with fewer than FIT_SAMPLE sampled cells
    stamp_col, class_col = columns.timestamp, columns.class_column
    stamps, classes, class_cells = coded.stamps, coded.classes, coded.class_cells
    coders = [(c.index, c.codes.append, c.distinct) for c in coded.columns]
    numbers = coded.numbers.append
    for number, row in export.rows:
        numbers(number)
        if stamp_col is not None:
            stamps.append(row[stamp_col])
        if class_col is not None:
            cell = row[class_col]
            code = class_cells.get(cell)
            if code is None:
                code = class_cells[cell] = len(class_cells)
            classes.append(code)
        for index, append, distinct in coders:
            cell = row[index]
            code = distinct.get(cell)
            if code is None:
                code = distinct[cell] = len(distinct)
            append(code)
        if hungry:
            for index in hungry:
                cell = row[index]
                if cell is not None and str(cell).strip():
                    samples[index].append(str(cell))
            hungry = [i for i in hungry if len(samples[i]) < FIT_SAMPLE]
    coded.samples = samples
    return coded


def _sample_rows(coded: _Coded, width: int) -> list[list[str | None]]:
    """The sampled cells as rows: `survey_fit` reads the same cells as from the whole file."""
    depth = max((len(cells) for cells in coded.samples.values()), default=0)
    return [
        [cells[r] if r < len(cells) else None for cells in (coded.samples[i] for i in range(width))]
        for r in range(depth)
    ]


@dataclass
class _Decoded:
    """The coded file read against the survey: per column and distinct cell, the answer rows;
    per row the class; the problems and "other" values in row order."""

    parts: list[list[tuple[AnswerPart, ...]]]  # per column (by question id), per distinct cell
    codes: list[array[int]]  # per column (same order)
    classes: list[str | None]  # per class code
    moments: list[datetime]
    problems: list[ImportProblem] = field(default_factory=list)
    others: list[ImportProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _cell_parts(
    question: Question, matcher: OptionMatcher, cell: Cell
) -> tuple[tuple[AnswerPart, ...], tuple[str, ...]]:
    """The answer rows of one cell, and its parts matching no option."""
    if cell is None:
        return (), ()
    text = cell if isinstance(cell, str) else str(cell)
    if not text.strip():
        return (), ()
    if question.kind == "text":
        return ((question.id, 0, None, text.strip()[:MAX_TEXT_ANSWER]),), ()
    parsed = matcher.parse(text)
    parts: list[AnswerPart] = [
        (question.id, n, index, None) for n, index in enumerate(parsed.indexes)
    ]
    if question.allow_other and parsed.rest:
        parts.append((question.id, len(parts), None, ", ".join(parsed.rest)[:MAX_TEXT_ANSWER]))
    if question.kind != "multi":
        parts = parts[:1]
    return tuple(parts), parsed.rest


def _decode(coded: _Coded, header: list[str], columns: ColumnMatch) -> _Decoded:
    """Match each distinct cell once; list problems by row only when there are any."""
    stamp_col, class_col = columns.timestamp, columns.class_column
    # (row index, position in the row, problem): sorted, they are in the file's order.
    problems: list[tuple[int, int, ImportProblem]] = []
    others: list[tuple[int, int, ImportProblem]] = []
    moments: list[datetime] = []
    if stamp_col is not None:
        us_order = month_first(coded.stamps, header[stamp_col])
        for r, cell in enumerate(coded.stamps):
            moment = parse_timestamp(cell, us_order)
            if moment is not None:
                moments.append(moment)
            elif cell not in (None, ""):
                problems.append(
                    (
                        r,
                        0,
                        ImportProblem(
                            coded.numbers[r], header[stamp_col], str(cell), "not a date", "date"
                        ),
                    )
                )
    class_names: list[str | None] = [None] * len(coded.class_cells)
    bad_classes: set[int] = set()
    for cell, code in coded.class_cells.items():
        if isinstance(cell, str) and cell.strip():
            try:
                class_names[code] = normalise_class_name(cell)
            except ClassNameError:
                bad_classes.add(code)
    if bad_classes and class_col is not None:
        class_cells = list(coded.class_cells)  # in code order
        for r, code in enumerate(coded.classes):
            if code in bad_classes:
                cell = class_cells[code]
                problem = ImportProblem(
                    coded.numbers[r],
                    header[class_col],
                    str(cell),
                    "not a class name (e.g. 7-А)",
                    "class",
                )
                problems.append((r, 1, problem))
    by_id = sorted(coded.columns, key=lambda c: c.question.id)
    parts: list[list[tuple[AnswerPart, ...]]] = []
    for column in by_id:
        matcher = OptionMatcher(column.question)
        cells = list(column.distinct)  # in code order
        decoded = [_cell_parts(column.question, matcher, cell) for cell in cells]
        parts.append([answer for answer, _ in decoded])
        rests = {code: rest for code, (_, rest) in enumerate(decoded) if rest}
        if not rests:
            continue
        target = others if column.question.allow_other else problems
        title = header[column.index]
        for r, code in enumerate(column.codes):
            for part in rests.get(code, ()):
                problem = ImportProblem(
                    coded.numbers[r], title, part, "matches no option", "option"
                )
                target.append((r, 2 + column.index, problem))
    return _Decoded(
        parts=parts,
        codes=[c.codes for c in by_id],
        classes=class_names,
        moments=moments,
        problems=[p for _, _, p in sorted(problems, key=lambda x: x[:2])],
        others=[p for _, _, p in sorted(others, key=lambda x: x[:2])],
    )


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
            raise ImportFailed(
                f"survey '{slug}' is broken: {exc}", code="survey_broken", params={"survey": slug}
            ) from None
    raise ImportFailed(f"unknown survey '{slug}'", code="unknown_survey", params={"survey": slug})


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


def _check_survey(
    db: Database,
    export: Export,
    samples: list[list[str | None]],
    survey: SurveyDef,
    timestamp: int | None,
) -> None:
    """Raise ImportFailed (one line) unless the file clearly is `survey`: no other known survey
    fits it better, and most of its question columns carry `survey`'s titles."""

    def fit(candidate: SurveyDef) -> SurveyFit:
        return survey_fit(export.header, samples, candidate.id, candidate.questions, timestamp)

    own = fit(survey)
    others = [fit(s) for slug, s in _known_surveys(db).items() if slug != survey.id]
    best = max(others, key=lambda f: f.found, default=None)
    if best is not None and best.found > own.found:
        raise ImportFailed(
            f"this file looks like survey '{best.survey_id}', not '{survey.id}' "
            f"({best.found} of its {best.columns} question columns match '{best.survey_id}', "
            f"{own.found} {'matches' if own.found == 1 else 'match'} '{survey.id}'); "
            "nothing was imported",
            code="other_survey",
            params={"survey": survey.id, "other": best.survey_id},
        )
    if own.titled == 0:
        hint = (
            " (the file was read as Windows-1251: if its titles look garbled, save it as UTF-8 CSV)"
            if export.encoding == "cp1251"
            else ""
        )
        raise ImportFailed(
            f"no column matches a question of survey '{survey.id}'{hint}; first columns: "
            + ", ".join(f"'{t[:40]}'" for t in export.header[:4]),
            code="no_columns_cp1251" if hint else "no_columns",
            params={"survey": survey.id},
        )
    if not own.clear:
        raise ImportFailed(
            f"this file does not look like survey '{survey.id}': only {own.titled} of its "
            f"{own.columns} question columns match it; nothing was imported",
            code="not_this_survey",
            params={"survey": survey.id, "found": own.titled, "columns": own.columns},
        )


# Called inside the import's transaction with (session, wave id, wave label, responses), so
# that what the caller records of the import (the chat's audit entry) stands or falls with it.
OnWrite = Callable[[Session, int, str, int], None]


def import_forms(
    db: Database,
    options: AnalyticsOptions,
    path: Path,
    survey_slug: str,
    wave_label: str | None = None,
    on_write: OnWrite | None = None,
) -> ImportResult:
    """Load a Forms export into a new closed wave of `survey_slug`; see the module docstring."""
    try:
        export = open_export(path)
        survey, needs_sync = _survey(db, survey_slug)
        timestamp = _timestamp_column(export.header)
        columns = match_columns(export.header, survey.questions, timestamp)
        coded = _code_rows(export, columns)
    except FormsFileError as exc:
        raise ImportFailed(str(exc), code=f"file_{exc.code}") from None
    # Which survey the file is comes first: "already imported" must not answer for a file
    # given under the wrong survey.
    _check_survey(db, export, _sample_rows(coded, len(export.header)), survey, timestamp)
    with db.read() as session:
        earlier = wave_for_import_hash(session, export.digest)
    if earlier is not None:
        return ImportResult(earlier.survey_slug, earlier.label, duplicate=True)
    if not coded.numbers:
        raise ImportFailed("the file has column titles but no responses", code="no_responses")
    rows = _decode(coded, export.header, columns)
    if rows.problems:
        raise ImportFailed(
            f"{len(rows.problems)} problem(s) in {path.name}; nothing was imported:",
            rows.problems,
            code="problems",
        )
    moments = rows.moments
    label = _label(moments, path, wave_label)
    count = len(coded.numbers)
    if len(moments) < count:
        rows.warnings.append(
            f"{count - len(moments)} row(s) without a timestamp: only the others date the wave"
        )
    role = survey.audience[0]
    class_names = sorted({c for c in rows.classes if c})
    tz = options.tz
    with db.bulk_write() as session:
        # Checked again inside the transaction: another import may have won the race.
        if wave_for_import_hash(session, export.digest) is not None:
            raise ImportFailed("this file is being imported by someone else right now", code="busy")
        if label in wave_labels(session, survey.id):
            raise ImportFailed(
                f"survey '{survey.id}' already has a wave '{label}'; choose another with --wave",
                code="label_taken",
                params={"survey": survey.id, "wave": label},
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
            import_hash=export.digest,
        )
        by_code = [(classes.get(c) if c else None, role) for c in rows.classes]
        groups = [by_code[c] for c in coded.classes] if by_code else [(None, role)] * count
        pairs = list(zip(rows.codes, rows.parts, strict=True))

        def answers(i: int) -> list[AnswerPart]:
            return [part for codes, parts in pairs for part in parts[codes[i]]]

        count, answer_count = bulk_add_answers(
            session, survey_id=survey_id, wave_id=wave.id, groups=groups, answers=answers
        )
        if on_write is not None:
            on_write(session, wave.id, label, count)
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
        undated_rows=len(coded.numbers) - len(moments),
    )
