"""The appliers of the criteria flow's effects, inside the event's transaction."""

from __future__ import annotations

import logging

from bot.channels.capabilities import channel_file_ref
from bot.conversation.effects import EffectContext, EffectFailed
from bot.criteria.flows import (
    Acknowledge,
    AnswerQuestion,
    AskQuestion,
    PublishCriteria,
)
from bot.criteria.rendering import (
    answer_reply,
    relay_reply,
)
from bot.criteria.service import (
    NoticeFile,
    PublishError,
    may_answer,
    publish_notice,
    publishable_class_ids,
)
from bot.engine.core import Send
from bot.engine.events import Outgoing
from storage.models import SCHOOL_WIDE_ROLES
from storage.repositories import criteria as repo
from storage.repositories import people
from storage.repositories.criteria import NoticeInfo
from storage.repositories.people import PersonInfo

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- appliers
def _person_of(ctx: EffectContext) -> PersonInfo:
    person = people.person_info(ctx.session, ctx.person_id) if ctx.person_id else None
    if person is None:
        raise EffectFailed("not_registered")
    return person


def publish(effect: PublishCriteria, ctx: EffectContext) -> None:
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
        known = {"cr_no_recipients": "cr_no_recipients_now", "cr_over_limit": "cr_over_limit_now"}
        key = known.get(exc.key, "cr_publish_failed")
        raise EffectFailed(key) from exc
    logger.info(
        "criteria notices %s published to %d people",
        [n.notice_id for n in result.notices],
        result.recipients,
    )


def acknowledge(effect: Acknowledge, ctx: EffectContext) -> None:
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


def ask(effect: AskQuestion, ctx: EffectContext) -> None:
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


def answer(effect: AnswerQuestion, ctx: EffectContext) -> None:
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
