"""Assessment criteria in chat: the teacher's publishing wizard, "understood" and questions for
families, the teacher's answer, `/criteria` to read again, and `/coverage` for class teachers.

Pure like every flow: reads go through the world's `criteria` view (`CriteriaView`, read from
the database by bot/criteria/reader.py); the effects' appliers live in bot/criteria/effects.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from bot.criteria.rendering import (
    AUDIENCE_ROLES,
    AUDIENCES,
    MAX_NOTICE_TEXT,
    MAX_QUESTION,
    MAX_SUBJECT,
    CriteriaConfig,
    NoticeView,
    Plan,
    audience_name,
    file_mime,
    file_too_big,
    match_subject,
    megabytes,
    notice_body,
    notice_reply,
    percent,
)
from bot.engine.buttons import ButtonKind, encode
from bot.engine.core import Ctx, Step, World
from bot.engine.events import Button, EventKind, Reply
from bot.texts import role_name
from storage.records import SCHOOL_WIDE_ROLES, STAFF_ROLES, NoticeInfo, PersonInfo, QuestionInfo

if TYPE_CHECKING:
    from bot.criteria.service import CoverageRow

WIZARD = "cr_new"
ASKING = "cr_ask"
ANSWERING = "cr_answer"
MAX_ANSWER = 3000
SUBJECTS_PER_ROW = 2


# ---------------------------------------------------------------- effects
@dataclass(frozen=True)
class PublishCriteria:
    class_ids: tuple[int, ...]
    subject: str
    audience: str
    text: str
    file: dict[str, Any] | None  # name, mime, size, ref (a channel file reference)


@dataclass(frozen=True)
class Acknowledge:
    notice_id: int
    role: str


@dataclass(frozen=True)
class AskQuestion:
    notice_id: int
    role: str
    text: str


@dataclass(frozen=True)
class AnswerQuestion:
    question_id: int
    text: str


# ---------------------------------------------------------------- helpers
class CriteriaView(Protocol):
    """What the criteria flow reads, for the person of the current event."""

    def config(self) -> CriteriaConfig: ...

    def publishable(self) -> list[tuple[int, str]]:
        """(class id, name) the person may publish to."""
        ...

    def plan(self, class_ids: list[int], audience: str, subject: str) -> Plan: ...

    def notice(self, notice_id: int) -> NoticeInfo | None: ...

    def current(self, class_id: int, subject: str) -> NoticeInfo | None: ...

    def acknowledged(self, notice_id: int) -> bool: ...

    def for_person(self) -> list[tuple[NoticeInfo, bool]]: ...

    def question(self, question_id: int) -> QuestionInfo | None: ...

    def may_answer(self, notice_id: int) -> bool: ...

    def relay_question(self, reply_to_ref: str) -> int | None: ...

    def coverage(self) -> tuple[list[CoverageRow], dict[int, list[str]]] | None: ...

    def shown(self, notice: NoticeInfo) -> NoticeView:
        """The notice as the person's channel shows it: a channel that receives files only by
        URL gets a fresh link to its file (links are stored hashed: none can be shown again)."""
        ...


class CriteriaWorld(World, Protocol):
    criteria: CriteriaView


def _view(ctx: Ctx) -> CriteriaView:
    return cast(CriteriaWorld, ctx.world).criteria


def _config(ctx: Ctx) -> CriteriaConfig:
    return _view(ctx).config()


def _notice(ctx: Ctx, notice_id: int) -> NoticeInfo | None:
    return _view(ctx).notice(notice_id)


def family_role(person: PersonInfo, notice: NoticeInfo) -> str | None:
    """The person's role the notice is addressed to, if it is addressed to them at all."""
    wanted = AUDIENCE_ROLES.get(notice.audience, ())
    for m in person.memberships:
        if m.class_id == notice.class_id and m.role in wanted:
            return m.role
    return None


def _is_staff(person: PersonInfo) -> bool:
    return bool(person.roles & set(STAFF_ROLES))


def _refresh(ctx: Ctx, reply: Reply) -> Reply:
    """Update the pressed message's keyboard in place where the channel can."""
    return Reply(
        text=reply.text,
        buttons=reply.buttons,
        edit_ref=ctx.event.message_ref,
        keyboard_only=bool(ctx.event.message_ref),
    )


def _text_or_none(ctx: Ctx) -> str | None:
    return ctx.event.text.strip() if ctx.event.kind is EventKind.TEXT else None


# ---------------------------------------------------------------- menu
def menu_buttons(ctx: Ctx) -> list[Button]:
    person = ctx.person
    if person is None:
        return []
    buttons = [Button(ctx.t("btn_cr_list"), encode(ButtonKind.MENU, "cr_list"))]
    if _is_staff(person):
        buttons.insert(0, Button(ctx.t("btn_cr_new"), encode(ButtonKind.MENU, "cr_new")))
    if person.roles & {"class_teacher", *SCHOOL_WIDE_ROLES}:
        buttons.append(Button(ctx.t("btn_cr_coverage"), encode(ButtonKind.MENU, "cr_cov")))
    return buttons


# ---------------------------------------------------------------- the publishing wizard
def _wizard(ctx: Ctx, **changes: Any) -> Any:
    data = dict(ctx.state.data) if ctx.state.mode == WIZARD else {}
    data.update(changes)
    return ctx.state.to(WIZARD, **data)


def _classes_reply(ctx: Ctx, chosen: list[int]) -> Reply:
    options: list[tuple[int, str]] = _view(ctx).publishable()
    rows: list[tuple[Button, ...]] = []
    for class_id, name in options:
        mark = "✓ " if class_id in chosen else ""
        rows.append((Button(mark + name, encode(ButtonKind.CRITERIA_CLASS, class_id)),))
    rows = [tuple(b for r in rows[i : i + 3] for b in r) for i in range(0, len(rows), 3)]
    rows.append((Button(ctx.t("btn_cr_next"), encode(ButtonKind.CRITERIA_STEP, "next")),))
    rows.append((Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),))
    return Reply(ctx.t("cr_choose_classes"), buttons=tuple(rows))


def start_wizard(ctx: Ctx) -> Step:
    person = ctx.person
    assert person is not None
    if not _is_staff(person):
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cr_not_staff"))
    options: list[tuple[int, str]] = _view(ctx).publishable()
    if not options:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cr_no_classes"))
    chosen = [options[0][0]] if len(options) == 1 else []
    step = ctx.step(ctx.state.to(WIZARD, stage="classes", classes=chosen))
    step.replies.append(_classes_reply(ctx, chosen))
    return step


def start_wizard_item(ctx: Ctx) -> Step:
    return start_wizard(ctx)


def _in_stage(ctx: Ctx, *stages: str) -> bool:
    return ctx.state.mode == WIZARD and ctx.state.data.get("stage") in stages


def toggle_class(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if not _in_stage(ctx, "classes"):
        return ctx.fallback("stale")
    class_id = ctx.payload.int_arg(0)
    allowed = {cid for cid, _ in _view(ctx).publishable()}
    if class_id not in allowed:
        return ctx.fallback("bad_button")
    chosen = set(ctx.state.data.get("classes") or [])
    chosen.symmetric_difference_update({class_id})
    step = ctx.step(_wizard(ctx, classes=sorted(chosen)))
    step.replies.append(_refresh(ctx, _classes_reply(ctx, sorted(chosen))))
    return step


def _subject_reply(ctx: Ctx) -> Reply:
    subjects = _config(ctx).subjects
    buttons = [Button(s, encode(ButtonKind.CRITERIA_SUBJECT, i)) for i, s in enumerate(subjects)]
    rows = [tuple(buttons[i : i + SUBJECTS_PER_ROW]) for i in range(0, len(buttons), 2)]
    rows.append((Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),))
    return Reply(ctx.t("cr_choose_subject"), buttons=tuple(rows))


def _audience_step(ctx: Ctx, subject: str) -> Step:
    rows = [
        (Button(ctx.t(f"btn_cr_{aud}"), encode(ButtonKind.CRITERIA_STEP, aud)),)
        for aud in AUDIENCES
    ]
    rows.append((Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),))
    buttons = tuple(rows)
    return ctx.step(_wizard(ctx, stage="audience", subject=subject)).say(
        ctx.t("cr_choose_audience", subject=subject), buttons
    )


def choose_subject(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    if not _in_stage(ctx, "subject"):
        return ctx.fallback("stale")
    subjects = _config(ctx).subjects
    index = ctx.payload.int_arg(0)
    if index >= len(subjects):
        return ctx.fallback("bad_button")
    return _audience_step(ctx, subjects[index])


def _ask_text(ctx: Ctx, prefix: str = "") -> Step:
    text = ctx.t("cr_ask_text", limit=MAX_NOTICE_TEXT, mb=_config(ctx).max_file_mb)
    return ctx.step(_wizard(ctx, stage="text")).say(f"{prefix}\n\n{text}" if prefix else text)


def _file_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(ctx.t("btn_cr_no_file"), encode(ButtonKind.CRITERIA_STEP, "nofile")),),
        (Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),),
    )


def _plan(ctx: Ctx, data: dict[str, Any]) -> Plan:
    return _view(ctx).plan(list(data.get("classes") or []), data["audience"], data["subject"])


def _preview(ctx: Ctx, data: dict[str, Any]) -> Step:
    person = ctx.person
    assert person is not None
    plan = _plan(ctx, data)
    audience = audience_name(ctx.lang, data["audience"])
    classes = ", ".join(sorted(plan.recipients))
    state = _wizard(ctx, **{**data, "stage": "preview"})
    if plan.empty:
        text = ctx.t("cr_no_recipients", classes=", ".join(plan.empty), audience=audience)
        cancel = ((Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),),)
        return ctx.step(state).say(text, cancel)
    file = data.get("file") or {}
    view = NoticeView(
        0, data["subject"], classes, person.display_name, data["text"], file.get("name")
    )
    lines = [ctx.t("cr_preview"), "", notice_body(ctx.lang, view, bool(plan.replaces)), "", "———"]
    lines.append(ctx.t("cr_preview_summary", count=plan.total, audience=audience, classes=classes))
    if plan.replaces:
        lines.append(ctx.t("cr_preview_replaces", classes=", ".join(plan.replaces)))
    cost = dict(plan.cost)
    if plan.paid or plan.free:
        lines.append(ctx.t("cr_preview_cost", **cost))
    send = (Button(ctx.t("btn_cr_send"), encode(ButtonKind.CRITERIA_STEP, "send")),)
    if plan.over_limit:  # stopped before it is spent: say why, offer no "send"
        lines.append(ctx.t("cr_over_limit", **cost))
    else:
        lines.append(ctx.t("cr_preview_confirm"))
    buttons = (
        *((send,) if not plan.over_limit else ()),
        (Button(ctx.t("btn_cr_edit_text"), encode(ButtonKind.CRITERIA_STEP, "edit")),),
        (Button(ctx.t("btn_cancel"), encode(ButtonKind.CRITERIA_STEP, "cancel")),),
    )
    return ctx.step(state).say("\n".join(lines), buttons)


def wizard_step(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    word = ctx.payload.str_arg(0)
    if ctx.state.mode != WIZARD:
        return ctx.fallback("stale")
    data = dict(ctx.state.data)
    stage = data.get("stage")
    if word == "cancel":
        return ctx.menu(ctx.t("cancelled"))
    if word == "next" and stage == "classes":
        if not data.get("classes"):
            return ctx.step().say(ctx.t("cr_need_class"))
        step = ctx.step(_wizard(ctx, stage="subject"))
        step.replies.append(_subject_reply(ctx))
        return step
    if word in AUDIENCES and stage == "audience":
        ctx.state = _wizard(ctx, audience=word)
        return _ask_text(ctx)
    if word == "nofile" and stage == "file":
        return _preview(ctx, data)
    if word == "edit" and stage == "preview":
        return _ask_text(ctx)
    if word == "send" and stage == "preview":
        return _send(ctx, data)
    return ctx.fallback("stale")


def _send(ctx: Ctx, data: dict[str, Any]) -> Step:
    allowed = dict(_view(ctx).publishable())
    for class_id in data.get("classes") or []:
        if class_id not in allowed:
            return ctx.menu(ctx.t("cr_forbidden_class", klass=str(class_id)))
    plan = _plan(ctx, data)
    if plan.empty or not plan.total or plan.over_limit:
        return _preview(ctx, data)  # someone left, or the limit was reached: say why
    step = ctx.step(ctx.state.to("idle")).say(
        ctx.t(
            "cr_sent",
            subject=data["subject"],
            count=plan.total,
            classes=", ".join(sorted(plan.recipients)),
        )
    )
    step.effects.append(
        PublishCriteria(
            class_ids=tuple(data["classes"]),
            subject=data["subject"],
            audience=data["audience"],
            text=data["text"],
            file=data.get("file"),
        )
    )
    step.follow_up = "menu"
    return step


def _file_refusal(ctx: Ctx) -> str | None:
    """Why the sent file cannot be attached, or None when it can."""
    file = ctx.event.file
    assert file is not None
    if file_mime(file.name, file.mime) is None:
        return ctx.t("cr_file_type", name=file.name)
    max_mb = _config(ctx).max_file_mb
    if file_too_big(file.size, max_mb):
        return ctx.t("cr_file_too_big", name=file.name, size=megabytes(file.size), mb=max_mb)
    return None


def wizard_input(ctx: Ctx) -> Step:
    data = dict(ctx.state.data)
    stage = data.get("stage")
    text = _text_or_none(ctx)
    if stage == "subject":
        if text is None or not 2 <= len(" ".join(text.split())) <= MAX_SUBJECT:
            step = ctx.step().say(ctx.t("cr_subject_bad", limit=MAX_SUBJECT))
            step.replies.append(_subject_reply(ctx))
            return step
        return _audience_step(ctx, match_subject(text, _config(ctx).subjects))
    if stage in ("text", "file", "preview") and ctx.event.file is not None:
        error = _file_refusal(ctx)
        if error:
            return ctx.step().say(error)
        f = ctx.event.file
        ref = {"name": f.name, "mime": f.mime, "size": f.size, "ref": f.ref}
        data["file"] = ref
        if not data.get("text"):
            ctx.state = _wizard(ctx, file=ref, stage="text")
            return ctx.step(ctx.state).say(
                ctx.t("cr_text_first", name=f.name, limit=MAX_NOTICE_TEXT)
            )
        ctx.state = _wizard(ctx, file=ref)
        return _preview(ctx, data)
    if stage in ("text", "file", "preview") and text is not None:
        if not text:
            return ctx.step().say(ctx.t("cr_text_empty"))
        if len(text) > MAX_NOTICE_TEXT:
            return ctx.step().say(
                ctx.t("cr_text_too_long", length=len(text), limit=MAX_NOTICE_TEXT)
            )
        data["text"] = text
        if data.get("file"):
            ctx.state = _wizard(ctx, text=text)
            return _preview(ctx, data)
        mb = _config(ctx).max_file_mb
        return ctx.step(_wizard(ctx, text=text, stage="file")).say(
            ctx.t("cr_ask_file", mb=mb), _file_buttons(ctx)
        )
    if stage == "classes":
        step = ctx.step()
        step.replies.append(_classes_reply(ctx, list(data.get("classes") or [])))
        return step
    if stage == "audience":
        return _audience_step(ctx, str(data.get("subject", "")))
    return ctx.step().say(ctx.t("cr_text_expected"))


# ---------------------------------------------------------------- families: read, ack, ask
def _visible(ctx: Ctx, notice: NoticeInfo) -> bool:
    person = ctx.person
    assert person is not None
    if person.is_school_wide or family_role(person, notice) is not None:
        return True
    return notice.class_id in person.class_ids(STAFF_ROLES)


def _current_or_redirect(ctx: Ctx, notice_id: int) -> NoticeInfo | Step:
    """The notice if it is current and addressed to the person; else a Step that explains."""
    notice = _notice(ctx, notice_id)
    if notice is None:
        return ctx.fallback("stale")
    person = ctx.person
    assert person is not None
    if not _visible(ctx, notice):
        return ctx.step().say(ctx.t("cr_not_for_you"))
    if notice.superseded_by is not None:
        current: NoticeInfo | None = _view(ctx).current(notice.class_id, notice.subject)
        step = ctx.step().say(ctx.t("cr_replaced"))
        if current is not None:
            step.replies.append(_notice_for(ctx, current))
        return step
    return notice


def _notice_for(ctx: Ctx, notice: NoticeInfo) -> Reply:
    """A notice as this person reads it: with the buttons only if it is addressed to them."""
    person = ctx.person
    assert person is not None
    view = _view(ctx).shown(notice)
    reply = notice_reply(ctx.lang, view, ctx.event.channel)
    if family_role(person, notice) is None:
        body = notice_body(ctx.lang, view, channel=ctx.event.channel)
        return Reply(text=body, file=reply.file)
    return reply


def acknowledge(ctx: Ctx) -> Step:
    assert ctx.payload is not None and ctx.person is not None
    found = _current_or_redirect(ctx, ctx.payload.int_arg(0))
    if isinstance(found, Step):
        return found
    role = family_role(ctx.person, found)
    if role is None:
        return ctx.step().say(ctx.t("cr_not_for_you"))
    if _view(ctx).acknowledged(found.id):
        return ctx.step().say(ctx.t("cr_ack_already"))
    step = ctx.step().say(ctx.t("cr_ack_thanks", subject=found.subject))
    step.effects.append(Acknowledge(found.id, role))
    return step


def ask(ctx: Ctx) -> Step:
    assert ctx.payload is not None and ctx.person is not None
    found = _current_or_redirect(ctx, ctx.payload.int_arg(0))
    if isinstance(found, Step):
        return found
    if family_role(ctx.person, found) is None:
        return ctx.step().say(ctx.t("cr_not_for_you"))
    return ctx.step(ctx.state.to(ASKING, notice=found.id)).say(
        ctx.t("cr_ask_question", subject=found.subject)
    )


def _checked_text(ctx: Ctx, limit: int, empty_key: str) -> str | Step:
    text = _text_or_none(ctx)
    if text is None:
        return ctx.step().say(ctx.t("cr_text_expected"))
    if not text:
        return ctx.step().say(ctx.t(empty_key))
    if len(text) > limit:
        return ctx.step().say(ctx.t("cr_too_long", count=len(text), limit=limit))
    return text


def question_input(ctx: Ctx) -> Step:
    assert ctx.person is not None
    notice_id = ctx.state.data.get("notice")
    notice = _notice(ctx, notice_id) if isinstance(notice_id, int) else None
    role = family_role(ctx.person, notice) if notice is not None else None
    if notice is None or role is None:
        return ctx.menu()
    text = _checked_text(ctx, MAX_QUESTION, "cr_question_empty")
    if isinstance(text, Step):
        return text
    step = ctx.step(ctx.state.to("idle")).say(ctx.t("cr_question_sent"))
    step.effects.append(AskQuestion(notice.id, role, text))
    return step


def list_criteria(ctx: Ctx) -> Step:
    notices: list[tuple[NoticeInfo, bool]] = _view(ctx).for_person()
    if not notices:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cr_list_empty"))
    rows = tuple(
        (
            Button(
                ctx.t(
                    "btn_cr_notice",
                    mark="✅ " if acked else "",
                    subject=n.subject,
                    klass=n.class_name,
                ),
                encode(ButtonKind.VIEW_NOTICE, n.id),
            ),
        )
        for n, acked in notices
    )
    return ctx.step(ctx.state.to("idle")).say(ctx.t("cr_list_title"), rows)


def list_criteria_item(ctx: Ctx) -> Step:
    return list_criteria(ctx)


def view_notice(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    found = _current_or_redirect(ctx, ctx.payload.int_arg(0))
    if isinstance(found, Step):
        return found
    step = ctx.step()
    step.replies.append(_notice_for(ctx, found))
    return step


# ---------------------------------------------------------------- teachers: answer
def _question(ctx: Ctx, question_id: int) -> tuple[QuestionInfo, NoticeInfo] | Step:
    question: QuestionInfo | None = _view(ctx).question(question_id)
    notice = _notice(ctx, question.notice_id) if question is not None else None
    if question is None or notice is None:
        return ctx.fallback("stale")
    if not _view(ctx).may_answer(notice.id):
        return ctx.step().say(ctx.t("cr_answer_not_yours"))
    if question.asker_id is None:
        return ctx.step(ctx.state.to("idle")).say(ctx.t("cr_asker_gone"))
    return question, notice


def reply_pressed(ctx: Ctx) -> Step:
    assert ctx.payload is not None
    found = _question(ctx, ctx.payload.int_arg(0))
    if isinstance(found, Step):
        return found
    question, notice = found
    return ctx.step(ctx.state.to(ANSWERING, question=question.id)).say(
        ctx.t(
            "cr_answer_prompt",
            name=question.asker_name or ctx.t("cr_unnamed"),
            role=role_name(ctx.lang, question.asker_role),
            klass=notice.class_name,
            text=question.text,
        )
    )


def _answer(ctx: Ctx, question_id: int) -> Step:
    found = _question(ctx, question_id)
    if isinstance(found, Step):
        return found
    text = _checked_text(ctx, MAX_ANSWER, "cr_answer_empty")
    if isinstance(text, Step):
        return text
    step = ctx.step(ctx.state.to("idle")).say(ctx.t("cr_answer_sent"))
    step.effects.append(AnswerQuestion(question_id, text))
    return step


def _replied_question(ctx: Ctx) -> int | None:
    if ctx.event.kind is not EventKind.TEXT or not ctx.event.reply_to_ref:
        return None
    found: int | None = _view(ctx).relay_question(ctx.event.reply_to_ref)
    return found


def answer_input(ctx: Ctx) -> Step:
    question_id = _replied_question(ctx) or ctx.state.data.get("question")
    if not isinstance(question_id, int):
        return ctx.menu()
    return _answer(ctx, question_id)


def reply_to_relay(ctx: Ctx) -> Step | None:
    """A teacher's messenger "reply" to a relayed question answers it, whatever the mode."""
    question_id = _replied_question(ctx)
    return _answer(ctx, question_id) if question_id is not None else None


# ---------------------------------------------------------------- coverage
def coverage(ctx: Ctx) -> Step:
    found: tuple[list[CoverageRow], dict[int, list[str]]] | None = _view(ctx).coverage()
    if found is None:
        return ctx.step().say(ctx.t("cr_cov_forbidden"))
    rows, names = found
    if not rows:
        return ctx.step().say(ctx.t("cr_cov_empty"))
    lines = [ctx.t("cr_cov_title")]
    last_class = ""
    for row in rows:
        if row.class_name != last_class:
            lines += ["", ctx.t("cr_cov_class", klass=row.class_name)]
            last_class = row.class_name
        line = ctx.t(
            "cr_cov_row",
            subject=row.subject,
            delivered=row.delivered,
            recipients=row.recipients,
            ack_pct=percent(row.acknowledged, row.recipients),
            questions=row.questions,
            answered=row.answered,
        )
        if row.seen:
            line += ctx.t("cr_cov_seen", seen=row.seen)
        lines.append(line)
        if names.get(row.notice_id):
            lines.append(ctx.t("cr_cov_names", names=", ".join(names[row.notice_id])))
    return ctx.step().say("\n".join(lines))


def coverage_item(ctx: Ctx) -> Step:
    return coverage(ctx)
