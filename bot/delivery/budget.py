"""The send budget shared by every sender process on one database.

Each process paces itself (bot/delivery/pacing.py); alone, two processes would each send
30 msg/s and together draw 429s. `SharedBudget` keeps the pace in the database
(storage/repositories/budget.py) and works inside the sender's claim transaction:

1. `open` locks the channel's budget row (claims of all processes are booked one after
   another) and raises the local per-chat gates to what other processes booked for the
   candidates' chats;
2. the sender chooses its rows with those gates, as it always did;
3. `book` reserves one overall slot per request from the shared pace (`tat`, one `interval`
   apart), hands them to the pacer (which sends no request before its slot), and writes the
   chats' new gates back.

So all processes together keep the overall rate, and a chat's 1/s (a group's 20/min) holds
whichever process sends to it. A slot a process does not use is lost, never given twice, and
a request never leaves more than SLOT_GRACE after its slot (bot/delivery/pacing.py): sent
later it would land in the next slot, often another process's, and a strict server counts
both (the benchmark's one 429 per run came from that: a slot used up to 50 ms late, and the
local gate then pushing every later slot of the claim as late).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.delivery.pacing import ChannelPacer, Gate
from storage.repositories import budget as repo

# The first slot of a booking is this far after the booking: the claim's transaction still has
# to commit and hand its rows back, and a slot already past when they arrive is dropped.
LEAD_SECONDS = 0.03
PRUNE_EVERY = 200  # bookings between clean-ups of chats' rows
IDLE_CHAT_SECONDS = 120.0


@dataclass
class Booking:
    channel: str
    pacer: ChannelPacer
    channel_tat: float
    shared: dict[str, float]  # the chats' tats as stored


@dataclass
class SharedBudget:
    _bookings: int = field(default=0, init=False)

    def open(
        self,
        session: Session,
        channel: str,
        pacer: ChannelPacer,
        chats: list[tuple[str, bool]],
        now: float,
    ) -> Booking:
        """Lock the channel's pace (until the transaction ends) and `sync` `chats`."""
        booking = Booking(channel, pacer, repo.lock_channel(session, channel), {})
        self.sync(session, booking, chats)
        return booking

    def sync(self, session: Session, booking: Booking, chats: list[tuple[str, bool]]) -> None:
        """Raise the local gates of `chats` (recipient, is_group) to what is stored."""
        keys = sorted({recipient for recipient, _ in chats} - set(booking.shared))
        booking.shared.update(repo.chat_tats(session, booking.channel, keys))
        for recipient, is_group in chats:
            tat = booking.shared.get(recipient)
            if tat is not None:
                gate = booking.pacer.chat(recipient, is_group)
                gate.tat = max(gate.tat, tat)

    def book(
        self,
        session: Session,
        booking: Booking,
        chosen: list[tuple[str, bool]],
        requests: int,
        now: float,
    ) -> None:
        """Reserve `requests` overall slots and the gates of the chosen rows' chats. `now` is
        the time of booking (not of the claim's start: a slot must still be ahead)."""
        pacer = booking.pacer
        interval = 1.0 / pacer.rate
        start = max(now + LEAD_SECONDS, booking.channel_tat)
        slots = [start + i * interval for i in range(requests)]
        pacer.use_slots(slots)
        tats: dict[str, float] = {}
        if slots:
            tats[repo.CHANNEL_KEY] = slots[-1] + interval
        latest = slots[-1] if slots else now
        for recipient, is_group in chosen:
            local = pacer.chat(recipient, is_group)
            gate = Gate(local.interval)
            gate.tolerance = local.tolerance
            gate.tat = max(local.tat, tats.get(recipient, float("-inf")))
            gate.reserve(latest)  # the latest this request can go out: never too early
            tats[recipient] = gate.tat
        repo.save(session, booking.channel, tats)
        self._bookings += 1
        if self._bookings % PRUNE_EVERY == 0:
            repo.prune(session, booking.channel, now - IDLE_CHAT_SECONDS)
