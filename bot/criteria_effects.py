"""The storage side of the criteria chat flow: the world's `cr_*` readers and the appliers of
the flow's effects. Both run inside the event's transaction."""

from __future__ import annotations

import logging
from typing import Any

from bot.criteria import (
    NoticeFile,
    PublishError,
    coverage,
    coverage_class_ids,
    may_answer,
    publish_notice,
    publishable_class_ids,
    same_subject,
)
from bot.criteria_ui import (
    AUDIENCE_ROLES,
    CriteriaConfig,
    Plan,
    answer_reply,
    channel_file_ref,
    relay_reply,
)
from bot.effects import EffectContext, EffectFailed, applies
from bot.engine.core import Send
from bot.engine.criteria import (
    Acknowledge,
    AnswerQuestion,
    AskQuestion,
    PublishCriteria,
    family_role,
)
from bot.events import Outgoing
from bot.world import DbWorld, reader
from storage.models import SCHOOL_WIDE_ROLES, STAFF_ROLES
from storage.repositories import criteria as repo
from storage.repositories import people, school
from storage.repositories.criteria import NoticeInfo, QuestionInfo
from storage.repositories.people import PersonInfo

logger = logging.getLogger(__name__)


def _person(world: DbWorld) -> PersonInfo:
    person = world.person()
    assert person is not None  # the engine only calls these for registered people
    return person


# ---------------------------------------------------------------- readers
@reader("cr_config")
def _config(world: DbWorld) -> CriteriaConfig:
    settings = world.settings
    return CriteriaConfig(
        tuple(settings.subjects), settings.criteria_max_file_mb, settings.criteria_show_names
    )


@reader("cr_publishable")
def _publishable(world: DbWorld) -> list[tuple[int, str]]:
    ids = publishable_class_ids(world.session, _person(world))
    names = school.class_names(world.session, ids)
    return sorted(((cid, names[cid]) for cid in ids if cid in names), key=lambda x: x[1])


@reader("cr_plan")
def _plan(world: DbWorld, class_ids: list[int], audience: str, subject: str) -> Plan:
    names = school.class_names(world.session, class_ids)
    roles = AUDIENCE_ROLES[audience]
    counts = {
        names[cid]: len({r.person_id for r in people.recipients(world.session, [cid], roles)})
        for cid in class_ids
        if cid in names
    }
    replaces = tuple(
        sorted(names[cid] for cid in names if same_subject(world.session, cid, subject))
    )
    return Plan(counts, replaces)


@reader("cr_notice")
def _notice(world: DbWorld, notice_id: int) -> NoticeInfo | None:
    return repo.get_notice(world.session, notice_id)


@reader("cr_current")
def _current(world: DbWorld, class_id: int, subject: str) -> NoticeInfo | None:
    found = same_subject(world.session, class_id, subject)
    return found[-1] if found else None


@reader("cr_acknowledged")
def _acknowledged(world: DbWorld, notice_id: int) -> bool:
    delivery = repo.get_delivery(world.session, notice_id, _person(world).id)
    return delivery is not None and delivery.acknowledged_at is not None


@reader("cr_for_person")
def _for_person(world: DbWorld) -> list[tuple[NoticeInfo, bool]]:
    """Current notices the person may read, and whether they acknowledged each."""
    person = _person(world)
    class_ids = None if person.is_school_wide else person.class_ids()
    result = []
    for notice in repo.current_notices(world.session, class_ids):
        staff_here = notice.class_id in person.class_ids(STAFF_ROLES)
        if person.is_school_wide or staff_here or family_role(person, notice) is not None:
            result.append((notice, _acknowledged(world, notice.id)))
    return result


@reader("cr_question")
def _question(world: DbWorld, question_id: int) -> QuestionInfo | None:
    return repo.get_question(world.session, question_id)


@reader("cr_may_answer")
def _may_answer(world: DbWorld, notice_id: int) -> bool:
    notice = repo.get_notice(world.session, notice_id)
    return notice is not None and may_answer(_person(world), notice)


@reader("cr_relay_question")
def _relay_question(world: DbWorld, reply_to_ref: str) -> int | None:
    # The Telegram adapter gives "chat_id:message_id"; the outbox may hold either form.
    candidates = sorted({reply_to_ref, reply_to_ref.rsplit(":", 1)[-1]})
    return repo.question_for_relay(world.session, world.channel, world.external_id, candidates)


@reader("cr_coverage")
def _coverage(world: DbWorld) -> tuple[list[Any], dict[int, list[str]]] | None:
    class_ids = coverage_class_ids(world.session, _person(world))
    if class_ids is None:
        return None
    allowed = set(class_ids)
    rows = [r for r in coverage(world.session) if r.class_id in allowed]
    names: dict[int, list[str]] = {}
    if world.settings.criteria_show_names:
        names = {r.notice_id: repo.not_acknowledged_names(world.session, r.notice_id) for r in rows}
    return rows, names


# ---------------------------------------------------------------- appliers
def _person_of(ctx: EffectContext) -> PersonInfo:
    person = people.person_info(ctx.session, ctx.person_id) if ctx.person_id else None
    if person is None:
        raise EffectFailed("not_registered")
    return person


@applies(PublishCriteria)
def _publish(effect: PublishCriteria, ctx: EffectContext) -> None:
    person = _person_of(ctx)
    if not set(effect.class_ids) <= set(publishable_class_ids(ctx.session, person)):
        raise EffectFailed("cr_publish_failed")
    file = None
    if effect.file:
        f = effect.file
        path = channel_file_ref(ctx.channel, str(f["ref"]))
        file = NoticeFile(str(f["name"]), str(f["mime"]), int(f["size"]), path)
    try:
        result = publish_notice(
            ctx.session,
            class_ids=list(effect.class_ids),
            subject=effect.subject,
            audience=effect.audience,
            text=effect.text,
            file=file,
            author_id=person.id,
            now=ctx.now,
            settings=ctx.settings,
        )
    except PublishError as exc:
        key = "cr_no_recipients_now" if exc.key == "cr_no_recipients" else "cr_publish_failed"
        raise EffectFailed(key) from exc
    logger.info(
        "criteria notices %s published to %d people",
        [n.notice_id for n in result.notices],
        result.recipients,
    )


@applies(Acknowledge)
def _acknowledge(effect: Acknowledge, ctx: EffectContext) -> None:
    person = _person_of(ctx)
    repo.acknowledge(ctx.session, effect.notice_id, person.id, effect.role, ctx.now)


def _question_targets(ctx: EffectContext, notice: NoticeInfo) -> list[int]:
    """Who answers: the author; else the class teachers; else the director/administration."""
    candidates = [
        [notice.author_id] if notice.author_id is not None else [],
        repo.class_teachers(ctx.session, notice.class_id),
        people.staff_with_school_role(ctx.session, SCHOOL_WIDE_ROLES),
    ]
    for group in candidates:
        reachable = [pid for pid in group if people.reachable_identities(ctx.session, pid)]
        if reachable:
            return reachable
    return []


@applies(AskQuestion)
def _ask(effect: AskQuestion, ctx: EffectContext) -> None:
    asker = _person_of(ctx)
    notice = repo.get_notice(ctx.session, effect.notice_id)
    if notice is None:
        raise EffectFailed("stale_button")
    targets = _question_targets(ctx, notice)
    if not targets:
        raise EffectFailed("cr_no_one_to_ask")
    question_id = repo.add_question(ctx.session, notice.id, asker.id, effect.text, ctx.now)
    languages = repo.languages(ctx.session, targets)
    for teacher_id in targets:
        reply = relay_reply(
            languages.get(teacher_id, "uk"),
            question_id,
            notice.subject,
            notice.class_name,
            asker.display_name,
            effect.role,
            effect.text,
        )
        # Relays wait out quiet hours: a question is not worth waking a teacher at night.
        ctx.outgoing.append(
            Send(
                Outgoing(
                    teacher_id, reply, kind="relay", urgent=False, key=repo.relay_key(question_id)
                )
            )
        )
    logger.info("criteria question %d relayed to %d staff", question_id, len(targets))


@applies(AnswerQuestion)
def _answer(effect: AnswerQuestion, ctx: EffectContext) -> None:
    teacher = _person_of(ctx)
    question = repo.get_question(ctx.session, effect.question_id)
    notice = repo.get_notice(ctx.session, question.notice_id) if question else None
    if question is None or notice is None or not may_answer(teacher, notice):
        raise EffectFailed("cr_answer_not_yours")
    if question.asker_id is None:
        raise EffectFailed("cr_asker_gone")
    repo.answer_question(ctx.session, question.id, effect.text, ctx.now)
    language = repo.languages(ctx.session, [question.asker_id]).get(question.asker_id, "uk")
    reply = answer_reply(
        language,
        notice.id,
        notice.subject,
        notice.class_name,
        teacher.display_name,
        question.text,
        effect.text,
    )
    ctx.outgoing.append(Send(Outgoing(question.asker_id, reply, kind="relay", urgent=False)))
    logger.info("criteria question %d answered", question.id)
