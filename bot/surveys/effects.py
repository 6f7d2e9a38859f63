"""Appliers of the survey effects: save a draft, submit a response."""

from __future__ import annotations

from bot.conversation.effects import EffectContext, EffectFailed
from bot.engine.core import SaveDraft, Submit
from storage.repositories import reminders, responses


def save_draft(effect: SaveDraft, ctx: EffectContext) -> None:
    assert ctx.person_id is not None
    responses.save_draft(
        ctx.session,
        effect.wave_id,
        ctx.person_id,
        effect.class_id,
        effect.answers,
        effect.position,
        ctx.now,
    )


def submit(effect: Submit, ctx: EffectContext) -> None:
    assert ctx.person_id is not None
    stored = responses.submit(
        ctx.session,
        survey_id=effect.survey_id,
        wave_id=effect.wave_id,
        person_id=ctx.person_id,
        class_id=effect.class_id,
        role=effect.role,
        answers=effect.answers,
    )
    if not stored:
        raise EffectFailed("survey_done_already")
    # A reminder waiting for the person's best hour (Viber) is not sent to who has answered.
    reminders.drop_pending_reminders(ctx.session, effect.wave_id, ctx.person_id)
