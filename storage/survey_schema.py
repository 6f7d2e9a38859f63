"""Questionnaire definitions: parse YAML, validate with `file:line: message`, hash the content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("single", "multi", "text")
AUDIENCES = ("student", "parent", "teacher", "class_teacher", "director", "admin")
# Viber's hard limit for a button's Text is 250 characters; a label past 100 no longer reads as a
# button on a phone in either messenger, so we stop there.
MAX_BUTTON_LABEL = 100
MAX_TEXT_ANSWER = 2000
MAX_QUESTIONS = 60
MAX_OPTIONS = 20
_QUESTION_KEYS = {
    "id",
    "number",
    "title",
    "kind",
    "options",
    "required",
    "show_if",
    "construct",
    "positive",
    "allow_other",
}
_SURVEY_KEYS = {
    "id",
    "title",
    "audience",
    "intro",
    "questions",
    "scales",
}  # scales: YAML anchors only


@dataclass(frozen=True)
class ShowIf:
    question: str
    options: tuple[int, ...]


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    title: str
    kind: str
    options: tuple[str, ...] = ()
    required: bool = True
    show_if: ShowIf | None = None
    construct: str | None = None
    positive: tuple[int, ...] = ()
    allow_other: bool = False

    def visible(self, answers: dict[str, Any]) -> bool:
        """Whether this question is shown, given the answers so far (option indexes)."""
        if self.show_if is None:
            return True
        given = answers.get(self.show_if.question)
        chosen = set(given) if isinstance(given, list) else {given}
        return bool(chosen & set(self.show_if.options))


@dataclass(frozen=True)
class SurveyDef:
    id: str
    title: str
    audience: tuple[str, ...]
    intro: str
    questions: tuple[Question, ...]
    content_hash: str = ""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("content_hash")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], content_hash: str = "") -> SurveyDef:
        questions = []
        for q in data["questions"]:
            show_if = q.get("show_if")
            questions.append(
                Question(
                    id=q["id"],
                    number=q["number"],
                    title=q["title"],
                    kind=q["kind"],
                    options=tuple(q.get("options") or ()),
                    required=q.get("required", True),
                    show_if=ShowIf(show_if["question"], tuple(show_if["options"]))
                    if show_if
                    else None,
                    construct=q.get("construct"),
                    positive=tuple(q.get("positive") or ()),
                    allow_other=q.get("allow_other", False),
                )
            )
        return cls(
            id=data["id"],
            title=data["title"],
            audience=tuple(data["audience"]),
            intro=data.get("intro", ""),
            questions=tuple(questions),
            content_hash=content_hash,
        )


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SurveyError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# libyaml's parser when PyYAML has it (its wheels do): six times faster on a questionnaire, and
# questionnaires are parsed at every start, sync, check and Forms import. Same marks and errors.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that remembers the line of every mapping (key `__line__`)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def default_positive(options: tuple[str, ...]) -> tuple[int, ...]:
    """First two options of a four-option scale; the first of three (Так · Не знаю · Ні)."""
    if len(options) == 4:
        return (0, 1)
    if len(options) == 3:
        return (0,)
    return ()


@dataclass
class _Checker:
    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))


def _str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _parse_question(raw: Any, check: _Checker, earlier: dict[str, Question]) -> Question | None:
    if not isinstance(raw, dict):
        check.add(0, "a question must be a mapping")
        return None
    line = int(raw.get("__line__") or 0)
    for key in raw:
        if key != "__line__" and key not in _QUESTION_KEYS:
            check.add(line, f"unknown key '{key}' in a question")
    qid = raw.get("id")
    if not _str(qid) or len(str(qid)) > 20 or not str(qid).replace("_", "").isalnum():
        check.add(line, "question id must be short letters/digits/underscores (at most 20)")
        return None
    if qid in earlier:
        check.add(line, f"duplicate question id '{qid}'")
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        check.add(line, f"question '{qid}': number must be a positive integer")
        number = 0
    title = raw.get("title")
    if not _str(title):
        check.add(line, f"question '{qid}': title is missing")
        title = ""
    kind = raw.get("kind")
    if kind not in KINDS:
        check.add(line, f"question '{qid}': unknown kind '{kind}' (expected one of {KINDS})")
        return None
    options_raw = raw.get("options")
    options: tuple[str, ...] = ()
    if kind == "text":
        if options_raw:
            check.add(line, f"question '{qid}': a text question has no options")
    else:
        if not isinstance(options_raw, list) or not options_raw:
            check.add(line, f"question '{qid}': options are empty")
        else:
            cleaned = []
            for option in options_raw:
                if not _str(option):
                    check.add(line, f"question '{qid}': an option is empty or not text")
                    continue
                text = str(option).strip()
                if len(text) > MAX_BUTTON_LABEL:
                    check.add(
                        line,
                        f"question '{qid}': button label longer than {MAX_BUTTON_LABEL} "
                        f"characters: '{text[:30]}…'",
                    )
                cleaned.append(text)
            if len(set(cleaned)) != len(cleaned):
                check.add(line, f"question '{qid}': duplicate options")
            if len(cleaned) > MAX_OPTIONS:
                check.add(line, f"question '{qid}': more than {MAX_OPTIONS} options")
            options = tuple(cleaned)
    required = raw.get("required", kind != "text")
    if not isinstance(required, bool):
        check.add(line, f"question '{qid}': required must be true or false")
        required = True
    positive: tuple[int, ...] = ()
    if "positive" in raw:
        labels = raw["positive"]
        if not isinstance(labels, list):
            check.add(line, f"question '{qid}': positive must be a list of option labels")
        else:
            idx = []
            for label in labels:
                if label in options:
                    idx.append(options.index(label))
                else:
                    check.add(line, f"question '{qid}': positive option '{label}' is not an option")
            positive = tuple(idx)
    elif kind == "single":
        positive = default_positive(options)
    show_if = None
    if "show_if" in raw:
        cond = raw["show_if"]
        cond_line = int(cond.get("__line__") or line) if isinstance(cond, dict) else line
        if not isinstance(cond, dict) or not _str(cond.get("question")):
            check.add(cond_line, f"question '{qid}': show_if needs 'question' and 'options'")
        else:
            target = earlier.get(cond["question"])
            if target is None:
                check.add(
                    cond_line,
                    f"question '{qid}': show_if points to '{cond['question']}', which is not an "
                    "earlier question",
                )
            else:
                wanted = cond.get("options")
                if not isinstance(wanted, list) or not wanted:
                    check.add(cond_line, f"question '{qid}': show_if options are empty")
                else:
                    indexes = []
                    for label in wanted:
                        if label in target.options:
                            indexes.append(target.options.index(label))
                        else:
                            check.add(
                                cond_line,
                                f"question '{qid}': show_if option '{label}' is not an option of "
                                f"'{target.id}'",
                            )
                    show_if = ShowIf(target.id, tuple(indexes))
    construct = raw.get("construct")
    if construct is not None and not _str(construct):
        check.add(line, f"question '{qid}': construct must be text")
        construct = None
    allow_other = raw.get("allow_other", False)
    if not isinstance(allow_other, bool):
        check.add(line, f"question '{qid}': allow_other must be true or false")
        allow_other = False
    return Question(
        id=str(qid),
        number=number,
        title=str(title).strip(),
        kind=kind,
        options=options,
        required=required,
        show_if=show_if,
        construct=construct,
        positive=positive,
        allow_other=allow_other,
    )


def parse_survey(text: str, file: str = "<string>") -> tuple[SurveyDef | None, list[Problem]]:
    """Parse and validate one questionnaire. Returns the definition (if usable) and problems."""
    check = _Checker(file)
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        check.add(line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None, check.problems
    if not isinstance(raw, dict):
        check.add(1, "a questionnaire must be a mapping with id, title, audience and questions")
        return None, check.problems
    line = int(raw.get("__line__") or 1)
    for key in raw:
        if key != "__line__" and key not in _SURVEY_KEYS:
            check.add(line, f"unknown key '{key}'")
    sid = raw.get("id")
    if not _str(sid) or len(str(sid)) > 60:
        check.add(line, "id is missing (at most 60 characters)")
    if not _str(raw.get("title")):
        check.add(line, "title is missing")
    audience = raw.get("audience")
    if not isinstance(audience, list) or not audience:
        check.add(line, "audience must be a non-empty list of roles")
        audience = []
    for role in audience:
        if role not in AUDIENCES:
            check.add(line, f"unknown audience role '{role}'")
    questions_raw = raw.get("questions")
    if not isinstance(questions_raw, list) or not questions_raw:
        check.add(line, "questions are missing")
        return None, check.problems
    if len(questions_raw) > MAX_QUESTIONS:
        check.add(line, f"more than {MAX_QUESTIONS} questions")
    earlier: dict[str, Question] = {}
    for item in questions_raw:
        question = _parse_question(item, check, earlier)
        if question is not None and question.id not in earlier:
            earlier[question.id] = question
    if check.problems:
        return None, check.problems
    survey = SurveyDef(
        id=str(sid),
        title=str(raw["title"]).strip(),
        audience=tuple(audience),
        intro=str(raw.get("intro") or "").strip(),
        questions=tuple(earlier.values()),
    )
    digest = hashlib.sha256(
        json.dumps(survey.to_json(), ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    return SurveyDef(**{**survey.__dict__, "content_hash": digest}), []


def load_survey_file(path: Path) -> SurveyDef:
    """Read one YAML file; raise SurveyError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyError([Problem(str(path), 1, f"cannot read file: {exc}")]) from None
    survey, problems = parse_survey(text, str(path))
    if survey is None:
        raise SurveyError(problems)
    return survey


def bundled_surveys_dir() -> Path:
    """The `surveys/` folder shipped with the project."""
    return Path(__file__).resolve().parent.parent / "surveys"
