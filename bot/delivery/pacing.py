"""Send pacing: GCRA gates (a token bucket expressed as "theoretical arrival time").

A gate with burst 1 spaces sends exactly `interval` apart, so a full second never holds more
than the rate allows; that is the burst AIORateLimiter's leaky bucket lets through (about 60
in its first second against a 30/s rule). Times are plain float seconds from the sender's clock,
so tests drive the pacing with a fake clock and never sleep.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.delivery.contract import ChannelLimits

# Pace a little under the published limits: requests leave evenly spaced but arrive with
# network jitter, and a strict server counts arrivals.
SAFETY = 0.95
SLOW_FACTOR = 0.5  # the overall rate after a 429, until the slow-down ends
MIN_SLOW_SECONDS = 10.0
# Seconds a shared slot may be missed by, at the moment its request leaves, and still be used.
# Slots are one interval apart (35 ms at 28.5/s) and a strict server counts 30 in any second:
# 31 arrivals normally span 30 intervals (1.053 s), so all lateness together (this grace, the
# event loop, the HTTP stack, the network) must stay under 53 ms between any two sends 30
# slots apart. A slot missed by more is dropped: sent late it lands in the next slot, which
# may be another process's.
SLOT_GRACE = 0.01


class Gate:
    """GCRA: at most `burst` back to back, then one per `interval` seconds."""

    def __init__(self, interval: float, burst: int = 1) -> None:
        self.interval = interval
        self.burst = max(burst, 1)
        self.tolerance = (self.burst - 1) * interval
        self.tat = float("-inf")  # theoretical arrival time of the next send

    def ready_at(self, now: float, spare: int = 0) -> float:
        """The earliest time a send may go out and still leave `spare` sends of the burst
        (at most burst - 1) for what comes after it."""
        keep = min(max(spare, 0), self.burst - 1) * self.interval
        return max(now, self.tat - self.tolerance + keep)

    def reserve(self, now: float) -> float:
        """Book the next slot; returns when it is (>= now)."""
        at = self.ready_at(now)
        self.tat = max(self.tat, now) + self.interval
        return at

    def block_until(self, when: float) -> None:
        """The platform said wait (429 retry_after): nothing before `when`."""
        self.tat = max(self.tat, when + self.tolerance)


@dataclass
class ChannelPacer:
    """The overall gate of one channel plus one gate per chat, from its published limits."""

    limits: ChannelLimits
    safety: float = SAFETY
    slowed_until: float = float("-inf")
    _global: Gate = field(init=False)
    _chats: dict[str, Gate] = field(default_factory=dict, init=False)
    # Overall slots booked in the shared budget (bot/delivery/budget.py): no request before
    # its slot. Empty without a shared budget.
    _slots: deque[float] = field(default_factory=deque, init=False)
    _shared: bool = field(default=False, init=False)
    # Replies claimed and waiting for an overall slot: broadcasts give their slots up to them.
    replies_waiting: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._global = Gate(self._global_interval(1.0))

    def _global_interval(self, factor: float) -> float:
        rate = max(self.limits.per_second * self.safety * factor, 1e-6)
        return 1.0 / rate

    @property
    def rate(self) -> float:
        return 1.0 / self._global.interval

    @property
    def interval(self) -> float:
        """Seconds between two overall slots at the current pace."""
        return self._global.interval

    def next_global(self, now: float) -> float:
        """Book the next overall slot and return its time."""
        if now >= self.slowed_until and self._global.interval != self._global_interval(1.0):
            self._global.interval = self._global_interval(1.0)
        if self._slots:
            # A booked slot is the time, exactly: the local gate must not push it later (a
            # request sent after its slot falls into the next one, maybe another process's).
            at = self._slots.popleft()
            self._global.tat = max(self._global.tat, at + self._global.interval)
            return at
        return self._global.reserve(now)

    def use_slots(self, slots: list[float]) -> None:
        """Overall slots booked (by every process together) for one claim. Both lanes of a
        channel share the pacer: a lane's booking adds to the other's, never replaces it."""
        self._slots = deque(sorted([*self._slots, *slots]))
        self._shared = True

    def out_of_slots(self, now: float) -> bool:
        """With a shared budget: no slot left that is not already past (by SLOT_GRACE)."""
        if not self._shared:
            return False
        while self._slots and self._slots[0] < now - SLOT_GRACE:
            self._slots.popleft()
        return not self._slots

    def missed(self, slot: float, now: float) -> bool:
        """With a shared budget: `slot` is past by more than SLOT_GRACE at `now` (the sender
        woke late, or waited for a free connection); its requests must wait for another."""
        return self._shared and now > slot + SLOT_GRACE

    def slow_down(self, now: float, seconds: float) -> None:
        """A 429: halve the overall rate for a while (at least MIN_SLOW_SECONDS)."""
        self.slowed_until = max(self.slowed_until, now + max(seconds, MIN_SLOW_SECONDS))
        self._global.interval = self._global_interval(SLOW_FACTOR)

    def chat(self, recipient: str, is_group: bool) -> Gate:
        gate = self._chats.get(recipient)
        if gate is None:
            if is_group:
                interval = 60.0 / max(self.limits.group_per_minute, 1) / self.safety
                gate = Gate(interval, 1)
            else:
                interval = self.limits.per_chat_interval / self.safety
                gate = Gate(interval, self.limits.per_chat_burst)
            self._chats[recipient] = gate
        return gate

    def forget_idle(self, now: float) -> None:
        """Drop gates that no longer hold anything back (a broadcast touches thousands)."""
        if len(self._chats) > 1000:
            self._chats = {k: g for k, g in self._chats.items() if g.tat > now}
