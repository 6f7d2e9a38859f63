"""Opening and closing survey waves, and queuing the invitations that go with an opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.orm import Session

from bot.channels.capabilities import BotIdentity, capabilities
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import Button, Reply
from bot.settings import Settings
from bot.texts import t
from bot.usage.cost import Estimate, OverLimit, check
from storage.repositories import people, responses, school, surveys, waves
from storage.repositories.outbox import NewMessage, enqueue_many
from storage.repositories.waves import WaveInfo
from storage.survey_schema import SurveyError, bundled_surveys_dir, load_survey_file


class WaveError(Exception):
    """A wave cannot be opened or closed as asked; the message says why, in one line."""


class WaveClash(WaveError):
    """The survey already has an open or scheduled wave for some of the classes asked for."""

    def __init__(self, slug: str, clashing: list[WaveInfo], class_names: list[str]) -> None:
        self.slug = slug
        self.clashing = clashing
        self.class_names = class_names
        first = clashing[0]
        super().__init__(
            f"survey '{slug}' already has {first.status} wave {first.label} for "
            f"{', '.join(class_names)}: close it first (`classpulse survey close {slug}"
            f" --wave {first.label}`) or pass --new-wave to run another one"
        )


class WaveChoice(WaveError):
    """Several waves could be meant; the caller must name one (`--wave LABEL`)."""

    def __init__(self, slug: str, candidates: list[WaveInfo]) -> None:
        self.slug = slug
        self.candidates = candidates
        labels = ", ".join(w.label for w in candidates)
        super().__init__(
            f"survey '{slug}' has {len(candidates)} open waves ({labels}): "
            "say which with --wave LABEL"
        )


class WaveAlreadyClosed(WaveError):
    """Nothing to close: the survey's current wave is already closed."""

    def __init__(self, wave: WaveInfo) -> None:
        self.wave = wave
        super().__init__(f"wave {wave.label} of {wave.slug} was already closed")


@dataclass(frozen=True)
class OpenedWave:
    wave: WaveInfo
    invitations: int
    # Class groups not invited because the bot's chat link is unknown yet; they are invited
    # when the running bot reports its identity (`invite_waiting_groups`).
    groups_waiting: int = 0
    cost: Estimate | None = None  # paid messages on billed channels, when settings were given


def sync_surveys(session: Session, directory: Path | None = None) -> list[str]:
    """Store every questionnaire of `surveys/` (new versions for edited files)."""
    synced = []
    for path in sorted((directory or bundled_surveys_dir()).glob("*.yaml")):
        try:
            definition = load_survey_file(path)
        except SurveyError as exc:
            first = exc.problems[0] if exc.problems else exc
            raise WaveError(
                f"{' '.join(str(first).split())} "
                f"(`classpulse survey check {path}` lists every problem)"
            ) from None
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
    allow_overlap: bool = False,
    tz: tzinfo | None = None,
) -> WaveInfo:
    """A new scheduled wave. Refused (WaveClash) while the survey has an open or scheduled wave
    for any of these classes, unless `allow_overlap`: one person, one current wave per survey.
    The default label is the opening month in `tz` (the school's time zone)."""
    survey = surveys.latest_survey(session, slug)
    if survey is None:
        raise WaveError(f"no survey with id '{slug}' (see `classpulse survey list`)")
    if not class_ids:
        raise WaveError("a wave needs at least one class")
    if closes_at is not None and closes_at <= (opens_at or now):
        raise WaveError("the closing time must be after the opening time")
    if not allow_overlap:
        wanted = set(class_ids)
        clashing = [w for w in current_waves(session, slug) if wanted & set(w.class_ids)]
        if clashing:
            shared = sorted({c for w in clashing for c in w.class_ids} & wanted)
            names = school.class_names(session, shared)
            raise WaveClash(slug, clashing, [names[c] for c in shared])
    start = opens_at or now
    label = label or waves.next_label(session, slug, start.astimezone(tz) if tz else start)
    if waves.find_wave(session, slug, label) is not None:
        raise WaveError(f"survey '{slug}' already has a wave '{label}'")
    return waves.create_wave(
        session, survey.id, label, class_ids, opens_at=opens_at, closes_at=closes_at
    )


def current_waves(session: Session, slug: str) -> list[WaveInfo]:
    """A survey's open and scheduled waves. Imported waves are history: never current."""
    return [
        w
        for w in waves.waves_of(session, slug)
        if w.source != "import" and w.status in ("open", "scheduled")
    ]


def wave_to_close(session: Session, slug: str, label: str | None = None) -> WaveInfo:
    """The wave `survey close` means: the one named, else the survey's one open wave.

    Several open waves: WaveChoice (name one). None open: the single scheduled one (closing it
    cancels it), else WaveAlreadyClosed for the newest bot wave. Imported waves are never chosen.
    """
    every = waves.waves_of(session, slug)
    if not every:
        raise WaveError(f"survey '{slug}' has no waves (see `classpulse survey list`)")
    if label is not None:
        named = [w for w in every if w.label == label]
        if not named:
            labels = ", ".join(w.label for w in every)
            raise WaveError(f"survey '{slug}' has no wave '{label}' (waves: {labels})")
        wave = named[-1]
        if wave.source == "import":
            raise WaveError(f"wave {label} of {slug} is imported history; it is never open")
        if wave.status == "closed":
            raise WaveAlreadyClosed(wave)
        return wave
    own = [w for w in every if w.source != "import"]
    for status in ("open", "scheduled"):
        found = [w for w in own if w.status == status]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise WaveChoice(slug, found)
    if not own:
        raise WaveError(f"survey '{slug}' has only imported waves; none is open")
    raise WaveAlreadyClosed(own[-1])


def local_time(when: datetime, tz: tzinfo) -> str:
    """`2026-12-20 23:59 EET`: a stored (UTC) time as the school reads it, zone shown."""
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def invitation_reply(lang: str, wave: WaveInfo) -> Reply:
    return Reply(
        text=t(lang, "survey_invitation", title=wave.title),
        buttons=((Button(t(lang, "btn_start_survey"), encode(ButtonKind.START_SURVEY, wave.id)),),),
    )


def reminder_reply(lang: str, wave: WaveInfo, settings: Settings) -> Reply:
    """A reminder to someone who has not finished the survey (a job's, or a class teacher's)."""
    closes = ""
    if wave.closes_at is not None:
        local = wave.closes_at.astimezone(settings.tz)
        closes = t(lang, "closes_on", date=local.strftime("%d.%m.%Y %H:%M"))
    return Reply(
        text=t(lang, "survey_reminder", title=wave.title, closes=closes),
        buttons=((Button(t(lang, "btn_take_survey"), encode(ButtonKind.START_SURVEY, wave.id)),),),
    )


def open_wave(
    session: Session,
    wave_id: int,
    now: datetime,
    me: BotIdentity | None = None,
    *,
    settings: Settings | None = None,
) -> OpenedWave:
    """Open a wave and queue one invitation per member account (never twice: keyed rows).

    Bound class groups get an invitation with a link to the bot's chat, which needs the bot's
    identity (`me`, bot/members/identity.py); without it they are counted in `groups_waiting`.
    With `settings`, the invitations' cost on billed channels is estimated, and a wave whose
    invitations would pass the monthly limit of paid messages is not opened (WaveError).
    """
    wave = waves.get_wave(session, wave_id)
    if wave is None:
        raise WaveError(f"wave {wave_id} does not exist")
    if wave.source == "import":
        raise WaveError(f"wave '{wave.label}' of '{wave.slug}' is imported history")
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
    link = me.group_chat_link if me else ""
    if link:
        return OpenedWave(wave, count + _group_invitations(session, wave, now, link), cost=cost)
    return OpenedWave(wave, count, groups_waiting=_bound_groups(session, wave), cost=cost)


def _is_local(channel: str) -> bool:
    # Demo and console users see the menu themselves; nothing to deliver to them.
    return capabilities(channel).local


def _group_invitations(session: Session, wave: WaveInfo, now: datetime, link: str) -> int:
    from bot.members.groups import queue_group_invitations

    return queue_group_invitations(session, wave, link, now)


def _bound_groups(session: Session, wave: WaveInfo) -> int:
    from storage.repositories import groups

    return len(groups.bindings_for_classes(session, list(wave.class_ids)))


def invite_waiting_groups(session: Session, me: BotIdentity, now: datetime) -> int:
    """Invite the bound class groups of every open wave (idempotent: keyed rows). Called when
    the running bot reports its identity, so that waves opened while it was unknown reach
    their groups."""
    link = me.group_chat_link
    if not link:
        return 0
    return sum(
        _group_invitations(session, wave, now, link)
        for wave in waves.list_waves(session, "open")
        if wave.source != "import"
    )


# The closing run makes the final report at once; the catch-up job only takes it over after
# this (a crash, a failed render), so the two rarely render the same report.
FINAL_REPORT_GRACE = timedelta(minutes=2)


def close_wave(session: Session, wave_id: int, now: datetime, *, owe_report: bool = True) -> bool:
    """Close a wave and delete its drafts (they can no longer be submitted). False if it was
    already closed. With `owe_report`, the final report is owed from this transaction on:
    the scheduler's catch-up makes it if the closing run does not get to."""
    changed = waves.set_status(session, wave_id, "closed", now)
    responses.delete_drafts(session, wave_id)
    if changed and owe_report:
        waves.set_final_report_due(session, wave_id, now + FINAL_REPORT_GRACE)
    return changed
