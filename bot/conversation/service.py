"""ChatService: one event in, one transaction: dedupe, engine step, effects, state, outbox.

Every channel adapter calls `handle`. For channels delivered through the outbox (Telegram,
Viber) the replies are enqueued in the same transaction as the state they belong to, so a crash
can neither lose a reply nor send one for a state that was never stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from bot import engine
from bot.channels.capabilities import OUTBOX_CHANNELS
from bot.context import utc_now
from bot.conversation.effects import (
    Applier,
    EffectContext,
    EffectFailed,
    Job,
    apply_effects,
    outgoing_messages,
    reply_message,
)
from bot.conversation.world import DbWorld
from bot.criteria.rendering import CriteriaConfig
from bot.engine.core import Routes, Send, State, private_replies
from bot.engine.events import EventKind, GroupEvent, IncomingEvent, Reply
from bot.files.inbound import FetchFile
from bot.members.groups import process_group_event
from bot.routes import APPLIERS, RESUMERS, ROUTES
from bot.settings import Settings
from bot.texts import LANGUAGES, t
from bot.usage.cost import subscriber_wrote
from storage.db import Database
from storage.repositories import conversations, people, receipts
from storage.repositories.outbox import enqueue_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    replies: list[Reply]
    duplicate: bool = False


MERGED_TEXT_LIMIT = 3500
# What a person does themselves (not receipts or platform notices).
USER_KINDS = frozenset({EventKind.TEXT, EventKind.BUTTON, EventKind.COMMAND, EventKind.FILE})


def merge_replies(replies: list[Reply]) -> list[Reply]:
    """Join a plain text with the message that follows it ("Дякуємо!" + the menu, the intro +
    question 1): one message instead of two. Viber charges schools per message."""
    merged: list[Reply] = []
    for reply in replies:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and not (previous.buttons or previous.file or previous.edit_ref)
            and not (reply.file or reply.edit_ref)
            and len(previous.text) + len(reply.text) + 2 <= MERGED_TEXT_LIMIT
        ):
            merged[-1] = replace(reply, text=f"{previous.text}\n\n{reply.text}")
        else:
            merged.append(reply)
    return merged


class ChatService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        outbox_channels: frozenset[str] = OUTBOX_CHANNELS,
        routes: Routes = ROUTES,
        appliers: Mapping[type, Applier] = APPLIERS,
        opens_sessions: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.outbox_channels = outbox_channels
        self.routes = routes
        self.appliers = appliers
        # Where slow jobs (reports) run for outbox channels; tests may run them in place.
        self.background: Callable[[Callable[[], None]], object] = self._in_worker
        self._worker: ThreadPoolExecutor | None = None
        # Called (from the worker's thread) when a slow job has queued its replies: the runtime
        # wakes the outbox sender with it, or they would wait for the sender's next poll.
        self.after_background: Callable[[], None] = lambda: None
        # How files people sent are fetched, per channel: the composition root adds the running
        # adapters' downloads (bot/files/inbound.py); a channel without one cannot hand us files.
        self.file_sources: dict[str, FetchFile] = {}
        # A person writing opens a free messaging session on billed channels (bot/usage/);
        # the answer to merely opening the chat (the welcome) does not.
        self.opens_sessions = opens_sessions

    def add_file_source(self, channel: str, fetch: FetchFile) -> None:
        """A running adapter's way to fetch its channel's files. What a stop or a crash left
        stored to do with such files (a Forms import) is taken up now, in the background."""
        self.file_sources[channel] = fetch
        if channel in self.outbox_channels:
            self.background(partial(self._run_background, partial(self._resume, channel, fetch)))

    def _resume(self, channel: str, fetch: FetchFile) -> None:
        for resume in RESUMERS:
            try:
                resume(self.db, self.settings, channel, fetch, self.clock())
            except Exception:
                logger.exception("taking up %s's stored file work failed", channel)

    def handle(self, event: IncomingEvent) -> list[Reply]:
        return self.handle_full(event).replies

    def handle_full(self, event: IncomingEvent) -> Handled:
        now = self.clock()
        event_key = event.event_id or uuid.uuid4().hex
        jobs: list[Job] = []
        try:
            with self.db.write() as session:
                handled = self._handle(session, event, event_key, now, jobs)
        except EffectFailed as exc:
            # The transaction was rolled back: nothing of this event is stored. Say why.
            return Handled(self._deliver_alone(event, event_key, exc.text_key, now))
        except Exception:
            logger.exception("event from %s could not be handled", event.channel)
            return Handled(self._deliver_alone(event, event_key, "error", now))
        if jobs:
            handled = Handled(handled.replies + self._run_jobs(event, event_key, jobs))
        return handled

    # ------------------------------------------------------------ jobs after the commit
    def _in_worker(self, task: Callable[[], None]) -> object:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="staff-jobs")
        return self._worker.submit(task)

    def _run_jobs(self, event: IncomingEvent, event_key: str, jobs: list[Job]) -> list[Reply]:
        """Run what the effects left for after the commit. Local channels get the replies
        back at once; outbox channels get them queued (slow jobs in the background)."""
        if event.channel not in self.outbox_channels:
            replies: list[Reply] = []
            for job in jobs:
                replies += self._job_replies(event, job)
            return replies
        for number, job in enumerate(jobs):
            task = _JobTask(
                self, event, f"j:{event.channel}:{event.user_id}:{event_key}:{number}", job
            )
            if job.slow:
                self.background(partial(self._run_background, task))
            else:
                task()
        return []

    def _run_background(self, task: Callable[[], None]) -> None:
        try:
            task()
        finally:
            self.after_background()

    def _job_replies(self, event: IncomingEvent, job: Job) -> list[Reply]:
        try:
            return job.run(self.db, self.settings, self.clock())
        except Exception:
            logger.exception("a job of an event from %s failed", event.channel)
            lang = event.language_code[:2] if event.language_code[:2] in LANGUAGES else "uk"
            return [Reply(t(lang, "error"))]

    def _queue_job_replies(
        self, event: IncomingEvent, key: str, replies: list[Reply], person_id: int | None
    ) -> None:
        with self.db.write() as session:
            enqueue_many(
                session,
                [
                    reply_message(event.channel, event.user_id, r, f"{key}:{i}", person_id)
                    for i, r in enumerate(replies)
                ],
                self.clock(),
            )

    def handle_group(self, event: GroupEvent) -> list[Reply]:
        """Something in a class group chat (`/bind`, added, removed, migrated): one transaction,
        the replies queued for the group."""
        return process_group_event(
            self.db, event, self.clock(), self.settings.school_name, self.settings.bot_language
        )

    # ------------------------------------------------------------ internals
    def _world(self, session: Session, event: IncomingEvent, now: datetime, shown: str) -> DbWorld:
        return DbWorld(
            session,
            event.channel,
            event.user_id,
            now,
            school_name=self.settings.school_name,
            default_language=self.settings.bot_language,
            criteria_config=CriteriaConfig(
                tuple(self.settings.subjects),
                self.settings.criteria_max_file_mb,
                self.settings.criteria_show_names,
            ),
            min_group_size=self.settings.min_group_size,
            tz=self.settings.tz,
            settings=self.settings,
            shown=shown,
        )

    def _handle(
        self,
        session: Session,
        event: IncomingEvent,
        event_key: str,
        now: datetime,
        jobs: list[Job],
    ) -> Handled:
        if event.event_id and not conversations.first_delivery(
            session, event.channel, event.event_id, now
        ):
            return Handled([], duplicate=True)
        if event.kind is EventKind.UNREACHABLE:
            people.mark_unreachable(session, event.channel, event.user_id, event.text, now)
            return Handled([])
        if event.kind is EventKind.RECEIPT:
            receipts.record_receipt(
                session, event.channel, event.message_ref, event.user_id, event.text, now
            )
            return Handled([])
        if event.kind is EventKind.DELIVERY_FAILED:
            receipts.bump_counter(session, event.channel, "failed")
            return Handled([])
        people.mark_reachable(session, event.channel, event.user_id)
        if event.kind is EventKind.SUBSCRIBED:
            return Handled([])
        if self.opens_sessions and event.kind in USER_KINDS:
            subscriber_wrote(session, event.channel, event.user_id, now)
        stored, shown = conversations.load_chat(session, event.channel, event.user_id)
        state = State.from_json(stored)
        world = self._world(session, event, now, shown)
        result = engine.step(state, event, world, self.routes)
        # Replies that show answers (or confirm an erasure) are scrubbed once sent.
        sensitive = private_replies(state, result)
        person = world.person()
        ectx = EffectContext(
            session=session,
            channel=event.channel,
            external_id=event.user_id,
            person_id=person.id if person else None,
            now=now,
            event_key=event_key,
            outgoing=[],
            settings=self.settings,
            file_sources=self.file_sources,
        )
        apply_effects(result.effects, ectx, self.appliers)
        jobs += ectx.jobs
        replies, state = list(result.replies), result.state
        if result.follow_up:
            session.flush()
            follow = engine.step(
                state,
                IncomingEvent(
                    event.channel, event.user_id, EventKind.COMMAND, command=result.follow_up
                ),
                self._world(session, event, now, shown),
                self.routes,
            )
            replies += follow.replies
            state = follow.state
        replies = merge_replies(replies)
        conversations.save_state(session, event.channel, event.user_id, state.to_json(), now)
        self._enqueue_outgoing(session, ectx.outgoing, event_key, now)
        if event.channel in self.outbox_channels:
            enqueue_many(
                session,
                [
                    reply_message(
                        event.channel,
                        event.user_id,
                        reply,
                        f"r:{event.channel}:{event.user_id}:{event_key}:{i}",
                        ectx.person_id,
                        sensitive=sensitive,
                    )
                    for i, reply in enumerate(replies)
                ],
                now,
            )
        return Handled(replies)

    def _enqueue_outgoing(
        self, session: Session, outgoing: list[Send], event_key: str, now: datetime
    ) -> None:
        messages = [
            message
            for i, send in enumerate(outgoing)
            for message in outgoing_messages(
                session, send.outgoing, send.outgoing.key or f"o:{event_key}:{i}"
            )
        ]
        enqueue_many(session, messages, now)

    def _deliver_alone(
        self, event: IncomingEvent, event_key: str, text_key: str, now: datetime
    ) -> list[Reply]:
        lang = event.language_code[:2] if event.language_code[:2] in LANGUAGES else "uk"
        reply = Reply(t(lang, text_key))
        if event.channel in self.outbox_channels:
            try:
                with self.db.write() as session:
                    enqueue_many(
                        session,
                        [
                            reply_message(
                                event.channel,
                                event.user_id,
                                reply,
                                f"e:{event.channel}:{event.user_id}:{event_key}",
                                None,
                            )
                        ],
                        now,
                    )
            except Exception:
                logger.exception("could not queue an error reply")
        return [reply]


@dataclass
class _JobTask:
    """One job for an outbox channel: run it, queue its replies for the person."""

    service: ChatService
    event: IncomingEvent
    key: str
    job: Job

    def __call__(self) -> None:
        replies = self.service._job_replies(self.event, self.job)
        try:
            with self.service.db.read() as session:
                person = people.person_for_identity(session, self.event.channel, self.event.user_id)
            self.service._queue_job_replies(
                self.event, self.key, replies, person.id if person else None
            )
        except Exception:
            logger.exception("replies of a job could not be queued")
