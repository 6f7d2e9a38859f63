"""Answering a survey: intro, one question per message, back, skip, review, submit.

The draft (stored per person and wave) is the source of truth for the position, so a press on
an old message, a second device or a duplicate delivery is recognised and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import Ctx, OpenWave, SaveDraft, Step, Submit
from bot.engine.events import Button, EventKind, Reply
from storage.survey_schema import MAX_TEXT_ANSWER, Question, SurveyDef

REVIEW_ANSWER_CHARS = 200
# An answer's echo and the next question share one message up to this length (Telegram: 4096).
IN_PLACE_CHARS = 3500


@dataclass
class Session:
    """One survey in progress, as loaded for an event."""

    open_wave: OpenWave
    survey: SurveyDef
    answers: dict[str, Any]
    position: int
    has_draft: bool

    @property
    def wave_id(self) -> int:
        return self.open_wave.wave.id

    def visible(self) -> list[int]:
        return [i for i, q in enumerate(self.survey.questions) if q.visible(self.answers)]

    def next_from(self, start: int) -> int:
        for i in self.visible():
            if i >= start:
                return i
        return len(self.survey.questions)

    def previous_before(self, index: int) -> int | None:
        earlier = [i for i in self.visible() if i < index]
        return earlier[-1] if earlier else None

    def first_unanswered(self, start: int = 0) -> int:
        for i in self.visible():
            q = self.survey.questions[i]
            if i >= start and q.required and not _answered(self.answers.get(q.id)):
                return i
        return len(self.survey.questions)

    def in_review(self) -> bool:
        return self.position >= len(self.survey.questions)

    def save(self, position: int | None = None) -> SaveDraft:
        if position is not None:
            self.position = position
        return SaveDraft(self.wave_id, self.open_wave.class_id, dict(self.answers), self.position)


def _answered(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _load(ctx: Ctx, wave_id: int) -> Session | Step:
    """The survey session for `wave_id`, or a Step that explains why there is none."""
    match = next((w for w in ctx.world.open_waves() if w.wave.id == wave_id), None)
    if match is None:
        if ctx.world.completed(wave_id):
            return ctx.menu(ctx.t("survey_done_already"))
        wave = ctx.world.wave(wave_id)
        if wave is None or wave.status != "open":
            return ctx.menu(ctx.t("survey_closed"))
        return ctx.menu(ctx.t("survey_not_for_you"))
    survey = ctx.world.survey(match.wave.survey_id)
    draft = ctx.world.draft(wave_id)
    if draft is None:
        return Session(match, survey, {}, -1, False)
    position = min(max(draft.position, 0), len(survey.questions))
    return Session(match.answered_for(draft.class_id), survey, dict(draft.answers), position, True)


def _label(ctx: Ctx, question: Question, value: Any) -> str:
    if not _answered(value):
        return ctx.t("skipped")
    if question.kind == "text":
        text = str(value)
        return text if len(text) <= REVIEW_ANSWER_CHARS else text[:REVIEW_ANSWER_CHARS] + "…"
    values = value if isinstance(value, list) else [value]
    return "; ".join(question.options[i] for i in values if 0 <= i < len(question.options))


def question_reply(ctx: Ctx, s: Session, index: int, prefix: str = "") -> Reply:
    q = s.survey.questions[index]
    visible = s.visible()
    number = visible.index(index) + 1 if index in visible else 1
    lines = [ctx.t("progress", n=number, total=len(visible)), "", f"{q.number}. {q.title}"]
    if q.kind == "multi":
        lines.append(ctx.t("multi_hint"))
    if q.kind == "text":
        lines.append(ctx.t("text_hint", limit=MAX_TEXT_ANSWER))
    if prefix:
        lines.insert(0, prefix + "\n")
    current = s.answers.get(q.id)
    rows: list[tuple[Button, ...]] = []
    if q.kind == "single":
        for oi, option in enumerate(q.options):
            mark = "• " if current == oi else ""
            rows.append((Button(mark + option, encode(ButtonKind.ANSWER, s.wave_id, index, oi)),))
    elif q.kind == "multi":
        chosen = set(current) if isinstance(current, list) else set()
        for oi, option in enumerate(q.options):
            mark = "✓ " if oi in chosen else ""
            rows.append((Button(mark + option, encode(ButtonKind.TOGGLE, s.wave_id, index, oi)),))
        rows.append((Button(ctx.t("btn_done"), encode(ButtonKind.DONE, s.wave_id, index)),))
    nav: list[Button] = []
    if s.previous_before(index) is not None:
        nav.append(Button(ctx.t("btn_back"), encode(ButtonKind.BACK, s.wave_id, index)))
    if not q.required:
        nav.append(Button(ctx.t("btn_skip"), encode(ButtonKind.SKIP, s.wave_id, index)))
    if nav:
        rows.append(tuple(nav))
    return Reply(text="\n".join(lines), buttons=tuple(rows), position=f"{s.wave_id}:{index}")


def review_reply(ctx: Ctx, s: Session) -> Reply:
    lines = [ctx.t("review_title"), ""]
    edit_buttons: list[Button] = []
    for index in s.visible():
        q = s.survey.questions[index]
        lines.append(f"{q.number}. {q.title}\n   → {_label(ctx, q, s.answers.get(q.id))}")
        edit_buttons.append(
            Button(ctx.t("btn_edit_q", n=q.number), encode(ButtonKind.EDIT, s.wave_id, index))
        )
    lines += ["", ctx.t("review_footer")]
    rows: list[tuple[Button, ...]] = [
        (Button(ctx.t("btn_submit"), encode(ButtonKind.SUBMIT, s.wave_id)),)
    ]
    rows += [tuple(edit_buttons[i : i + 4]) for i in range(0, len(edit_buttons), 4)]
    last = s.previous_before(len(s.survey.questions))
    if last is not None:
        rows.append(
            (
                Button(
                    ctx.t("btn_back"), encode(ButtonKind.BACK, s.wave_id, len(s.survey.questions))
                ),
            )
        )
    n = len(s.survey.questions)
    return Reply(text="\n".join(lines), buttons=tuple(rows), position=f"{s.wave_id}:{n}")


def _show_current(ctx: Ctx, s: Session, prefix: str = "") -> Reply:
    if s.in_review():
        reply = review_reply(ctx, s)
        if prefix:
            reply = Reply(text=f"{prefix}\n\n{reply.text}", buttons=reply.buttons)
        return reply
    return question_reply(ctx, s, s.position, prefix)


def _survey_state(ctx: Ctx, s: Session, review: bool = False) -> Any:
    return ctx.state.to("survey", wave=s.wave_id, review=review)


def _echo(ctx: Ctx, s: Session, index: int) -> list[Reply]:
    """Replace the answered question's message with the choice, so the chat stays readable
    and its buttons are gone. A typed answer comes without the question's message: it is
    found by the position it showed."""
    ref = ctx.event.message_ref
    if ctx.event.kind is EventKind.TEXT:
        ref = ctx.world.message_showing(f"{s.wave_id}:{index}")
    if not ref:
        return []
    q = s.survey.questions[index]
    text = f"{q.number}. {q.title}\n\n{ctx.t('chosen', answer=_label(ctx, q, s.answers.get(q.id)))}"
    return [Reply(text=text, edit_ref=ref)]


def _in_place(ctx: Ctx, s: Session, index: int) -> str:
    """The message to turn into the next question, or "" to send the next question anew.

    A press on the message that shows the answered question (the chat's current question) is
    answered in that message: it becomes the answer's echo followed by the next question, one
    edit instead of an edit and a new message (Telegram counts both against its limits, and
    20 people answering at once would need more requests than the bot may send). A typed answer
    sends the next question anew: the person's own message stands below the question."""
    ref = ctx.event.message_ref
    if ctx.event.kind is not EventKind.BUTTON or not ref:
        return ""
    return ref if ctx.world.message_showing(f"{s.wave_id}:{index}") == ref else ""


def _advance(ctx: Ctx, s: Session, index: int) -> Step:
    review = bool(ctx.state.data.get("review"))
    target = s.first_unanswered(index + 1) if review else s.next_from(index + 1)
    effect = s.save(target)
    step = ctx.step(_survey_state(ctx, s, review=review and target < len(s.survey.questions)))
    echo = _echo(ctx, s, index)
    current = _show_current(ctx, s)
    ref = _in_place(ctx, s, index)
    both = f"{echo[0].text}\n\n{current.text}" if echo else ""
    if ref and both and len(both) <= IN_PLACE_CHARS:
        step.replies.append(replace(current, text=both, edit_ref=ref))
    else:
        step.replies.extend(echo)
        step.replies.append(current)
    step.effects.append(effect)
    return step


# ---------------------------------------------------------------- handlers
def _question_arg(ctx: Ctx) -> int:
    assert ctx.payload is not None
    return ctx.payload.int_arg(1)


def start_survey(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    return start_survey_for(ctx, ctx.payload.int_arg(0))


def start_survey_for(ctx: Ctx, wave_id: int, class_id: int | None = None) -> Step:
    """Start a survey, or resume it where the draft stopped."""
    loaded = _load(ctx, wave_id)
    if isinstance(loaded, Step):
        return loaded
    s = loaded
    if not s.has_draft:
        parent_classes = [c for c, role in s.open_wave.choices if role == "parent"]
        if class_id is None and len(parent_classes) > 1:
            return _ask_class(ctx, s, parent_classes)
        if class_id is not None:
            s.open_wave = s.open_wave.answered_for(class_id)
    step = ctx.step(_survey_state(ctx, s))
    if not s.has_draft:
        step.effects.append(s.save(s.next_from(0)))
        step.say(
            ctx.t(
                "survey_intro",
                title=s.survey.title,
                intro=s.survey.intro,
                count=len(s.visible()),
            )
        )
    step.replies.append(_show_current(ctx, s))
    return step


def _ask_class(ctx: Ctx, s: Session, class_ids: list[int | None]) -> Step:
    person = ctx.person
    names = {m.class_id: m.class_name for m in person.memberships} if person else {}
    buttons = tuple(
        (Button(names.get(c, "?"), encode(ButtonKind.CHOOSE_CLASS, s.wave_id, c)),)
        for c in class_ids
        if c is not None
    )
    return ctx.step().say(ctx.t("which_class", title=s.survey.title), buttons)


def start_for_class(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    wave_id, class_id = ctx.payload.int_arg(0), ctx.payload.int_arg(1)
    match = next((w for w in ctx.world.open_waves() if w.wave.id == wave_id), None)
    if match is not None and all(c != class_id for c, _ in match.choices):
        return ctx.fallback("bad_button")
    return start_survey_for(ctx, wave_id, class_id)


def _guard(ctx: Ctx, index: int | None, allow_review: bool = False) -> tuple[Session, int] | Step:
    """Load the session and check that the pressed question is the current one.

    `index` None means the press belongs to the review screen.
    """
    assert ctx.payload is not None
    loaded = _load(ctx, ctx.payload.int_arg(0))
    if isinstance(loaded, Step):
        return loaded
    s = loaded
    if not s.has_draft:
        return ctx.fallback("stale")
    expected = len(s.survey.questions) if index is None else index
    if index is not None and index >= len(s.survey.questions) and not allow_review:
        return ctx.fallback("bad_button")
    if expected != s.position:
        step = ctx.step(_survey_state(ctx, s))
        step.replies.append(_show_current(ctx, s, prefix=ctx.t("question_passed")))
        return step
    return s, expected


def answer_single(ctx: Ctx) -> Step:
    guarded = _guard(ctx, _question_arg(ctx))
    if isinstance(guarded, Step):
        return guarded
    s, index = guarded
    assert ctx.payload is not None
    q, option = s.survey.questions[index], ctx.payload.int_arg(2)
    if q.kind != "single" or option >= len(q.options):
        return ctx.fallback("bad_button")
    s.answers[q.id] = option
    return _advance(ctx, s, index)


def toggle_multi(ctx: Ctx) -> Step:
    guarded = _guard(ctx, _question_arg(ctx))
    if isinstance(guarded, Step):
        return guarded
    s, index = guarded
    assert ctx.payload is not None
    q, option = s.survey.questions[index], ctx.payload.int_arg(2)
    if q.kind != "multi" or option >= len(q.options):
        return ctx.fallback("bad_button")
    chosen = set(s.answers.get(q.id) or [])
    chosen.symmetric_difference_update({option})
    s.answers[q.id] = sorted(chosen)
    step = ctx.step(_survey_state(ctx, s, review=bool(ctx.state.data.get("review"))))
    step.effects.append(s.save())
    reply = question_reply(ctx, s, index)
    step.replies.append(
        Reply(
            text=reply.text,
            buttons=reply.buttons,
            edit_ref=ctx.event.message_ref,
            keyboard_only=bool(ctx.event.message_ref),
            position=reply.position,
        )
    )
    return step


def done_multi(ctx: Ctx) -> Step:
    guarded = _guard(ctx, _question_arg(ctx))
    if isinstance(guarded, Step):
        return guarded
    s, index = guarded
    q = s.survey.questions[index]
    if q.kind != "multi":
        return ctx.fallback("bad_button")
    if q.required and not _answered(s.answers.get(q.id)):
        return ctx.step().say(ctx.t("multi_need_one"))
    return _advance(ctx, s, index)


def skip(ctx: Ctx) -> Step:
    guarded = _guard(ctx, _question_arg(ctx))
    if isinstance(guarded, Step):
        return guarded
    s, index = guarded
    q = s.survey.questions[index]
    if q.required:
        return ctx.step().say(ctx.t("required_no_skip"))
    s.answers.pop(q.id, None)
    return _advance(ctx, s, index)


def back(ctx: Ctx) -> Step:
    guarded = _guard(ctx, _question_arg(ctx), allow_review=True)
    if isinstance(guarded, Step):
        return guarded
    s, index = guarded
    previous = s.previous_before(index)
    if previous is None:
        previous = index
    step = ctx.step(_survey_state(ctx, s))
    step.effects.append(s.save(previous))
    step.replies.append(question_reply(ctx, s, previous))
    return step


def edit_from_review(ctx: Ctx) -> Step:
    guarded = _guard(ctx, None)
    if isinstance(guarded, Step):
        return guarded
    s, _ = guarded
    assert ctx.payload is not None
    index = ctx.payload.int_arg(1)
    if index not in s.visible():
        return ctx.fallback("bad_button")
    return _revisit(ctx, s, index)


def _revisit(ctx: Ctx, s: Session, index: int, prefix: str = "") -> Step:
    """From the review back to one question; answering it returns to the review."""
    step = ctx.step(_survey_state(ctx, s, review=True))
    step.effects.append(s.save(index))
    step.replies.append(question_reply(ctx, s, index, prefix=prefix))
    return step


def submit(ctx: Ctx) -> Step:
    guarded = _guard(ctx, None)
    if isinstance(guarded, Step):
        return guarded
    s, _ = guarded
    missing = s.first_unanswered()
    if missing < len(s.survey.questions):
        return _revisit(ctx, s, missing, prefix=ctx.t("review_missing"))
    visible_ids = {s.survey.questions[i].id for i in s.visible()}
    answers = {k: v for k, v in s.answers.items() if k in visible_ids and _answered(v)}
    step = ctx.step(ctx.state.to("idle"))
    if ctx.event.message_ref:  # the review, as it was sent, without its buttons
        step.replies.append(Reply(text=review_reply(ctx, s).text, edit_ref=ctx.event.message_ref))
    step.say(ctx.t("submitted"))
    step.effects.append(
        Submit(
            s.wave_id, s.open_wave.wave.survey_id, s.open_wave.class_id, s.open_wave.role, answers
        )
    )
    step.follow_up = "menu"
    return step


def _parse_numbers(text: str, limit: int) -> list[int] | None:
    parts = text.replace(",", " ").replace(";", " ").split()
    if not parts or not all(p.isdigit() and 1 <= int(p) <= limit for p in parts):
        return None
    return sorted({int(p) - 1 for p in parts})


def typed_input(ctx: Ctx) -> Step:
    """Text while a question is open: a text answer, or an option number (old clients)."""
    wave_id = ctx.state.data.get("wave")
    if not isinstance(wave_id, int):
        return ctx.menu()
    loaded = _load(ctx, wave_id)
    if isinstance(loaded, Step):
        return loaded
    s = loaded
    if not s.has_draft:
        return ctx.menu()
    if s.in_review():
        step = ctx.step()
        step.replies.append(review_reply(ctx, s))
        return step
    index = s.position
    q = s.survey.questions[index]
    text = ctx.event.text if ctx.event.kind is EventKind.TEXT else ""
    if q.kind == "text":
        if ctx.event.kind is not EventKind.TEXT:
            return ctx.step().say(ctx.t("text_expected"))
        if len(text) > MAX_TEXT_ANSWER:
            return ctx.step().say(ctx.t("text_too_long", count=len(text), limit=MAX_TEXT_ANSWER))
        if not text.strip():
            return ctx.step().say(ctx.t("text_empty"))
        s.answers[q.id] = text.strip()
        return _advance(ctx, s, index)
    numbers = _parse_numbers(text, len(q.options)) if text else None
    if numbers is None or (q.kind == "single" and len(numbers) != 1):
        step = ctx.step()
        step.replies.append(
            question_reply(ctx, s, index, prefix=ctx.t("choose_with_buttons", max=len(q.options)))
        )
        return step
    s.answers[q.id] = numbers[0] if q.kind == "single" else numbers
    return _advance(ctx, s, index)
