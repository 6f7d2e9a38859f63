"""Opening and closing survey waves, and queuing the invitations that go with an opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.capabilities import capabilities, telegram_chat_link
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import Button, Reply
from bot.settings import Settings
from bot.texts import t
from bot.usage.cost import Estimate, OverLimit, check
from storage.repositories import people, surveys, waves
from storage.repositories.outbox import NewMessage, enqueue_many
from storage.repositories.waves import WaveInfo
from storage.survey_schema import SurveyError, bundled_surveys_dir, load_survey_file


class WaveError(Exception):
    """A wave cannot be opened or closed as asked; the message says why, in one line."""


@dataclass(frozen=True)
class OpenedWave:
    wave: WaveInfo
    invitations: int
    cost: Estimate | None = None  # paid messages on billed channels, when settings were given


def sync_surveys(session: Session, directory: Path | None = None) -> list[str]:
    """Store every questionnaire of `surveys/` (new versions for edited files)."""
    synced = []
    for path in sorted((directory or bundled_surveys_dir()).glob("*.yaml")):
        try:
            definition = load_survey_file(path)
        except SurveyError as exc:
            raise WaveError(f"{path.name} has problems:\n{exc}") from None
        surveys.sync_survey(session, definition)
        synced.append(definition.id)
    return synced


def create_wave(
    session: Session,
    slug: str,
    class_ids: list[int],
    now: datetime,
    *,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    label: str | None = None,
) -> WaveInfo:
    survey = surveys.latest_survey(session, slug)
    if survey is None:
        raise WaveError(f"no survey with id '{slug}' (see `classpulse survey list`)")
    if not class_ids:
        raise WaveError("a wave needs at least one class")
    if closes_at is not None and closes_at <= (opens_at or now):
        raise WaveError("the closing time must be after the opening time")
    label = label or waves.next_label(session, slug, opens_at or now)
    if waves.find_wave(session, slug, label) is not None:
        raise WaveError(f"survey '{slug}' already has a wave '{label}'")
    return waves.create_wave(
        session, survey.id, label, class_ids, opens_at=opens_at, closes_at=closes_at
    )


def invitation_reply(lang: str, wave: WaveInfo) -> Reply:
    return Reply(
        text=t(lang, "survey_invitation", title=wave.title),
        buttons=((Button(t(lang, "btn_start_survey"), encode(ButtonKind.START_SURVEY, wave.id)),),),
    )


def open_wave(
    session: Session,
    wave_id: int,
    now: datetime,
    telegram_username: str = "",
    *,
    settings: Settings | None = None,
) -> OpenedWave:
    """Open a wave and queue one invitation per member account (never twice: keyed rows).

    With the bot's Telegram username, bound class groups get an invitation with a deep link.
    With `settings`, the invitations' cost on billed channels is estimated, and a wave whose
    invitations would pass the monthly limit of paid messages is not opened (WaveError).
    """
    wave = waves.get_wave(session, wave_id)
    if wave is None:
        raise WaveError(f"wave {wave_id} does not exist")
    if wave.status == "closed":
        raise WaveError(f"wave '{wave.label}' of '{wave.slug}' is already closed")
    waves.set_status(session, wave_id, "open", now)
    wave = waves.get_wave(session, wave_id)
    assert wave is not None
    messages = [
        NewMessage(
            channel=r.channel,
            recipient=r.external_id,
            payload={"reply": invitation_reply(r.language, wave).to_json()},
            idempotency_key=f"inv:{wave.id}:{r.person_id}:{r.channel}:{r.external_id}",
            person_id=r.person_id,
            kind="invitation",
            urgent=False,
        )
        for r in people.recipients(session, list(wave.class_ids), wave.audience)
        if not _is_local(r.channel)
    ]
    cost = None
    if settings is not None:
        try:
            cost = check(session, [(m.channel, m.recipient) for m in messages], now, settings)
        except OverLimit as exc:
            raise WaveError(exc.estimate.refusal()) from None
    count = enqueue_many(session, messages, now)
    if telegram_username:
        count += _group_invitations(session, wave, now, telegram_username)
    return OpenedWave(wave, count, cost)


def _is_local(channel: str) -> bool:
    # Demo and console users see the menu themselves; nothing to deliver to them.
    return capabilities(channel).local


def _group_invitations(session: Session, wave: WaveInfo, now: datetime, username: str) -> int:
    from bot.members.groups import queue_group_invitations

    return queue_group_invitations(session, wave, telegram_chat_link(username), now)


def close_wave(session: Session, wave_id: int, now: datetime) -> bool:
    """Close a wave; drafts stay (they can no longer be submitted). False if already closed."""
    return waves.set_status(session, wave_id, "closed", now)
