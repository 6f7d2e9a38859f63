"""What messages cost on a billed channel (Viber's commercial model), and counting them.

A channel with `paid_outside_session` (bot/channels/capabilities.py) charges for every message
the bot sends outside a *session*: the 24 hours after the subscriber last wrote or pressed a
button. Inside a session messages are free; so is the welcome message.

- `subscriber_wrote`: ChatService calls it for every message, press or command a person sends,
  so the session end is known when we send.
- `usage_hook(settings)`: the outbox sender's after-sent hook; classifies each sent message as
  `session` or `initiated` at the moment it is sent and counts it per school day.
- `estimate(...)`: before a broadcast, how many paid messages it will cost, in money, and
  whether it would pass the monthly limit (`check` raises `OverLimit` then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.channels.capabilities import BILLED_CHANNELS, capabilities
from bot.delivery.contract import Delivery, Result
from bot.settings import Settings
from storage.repositories import usage as repo

SESSION_LENGTH = timedelta(hours=24)


def subscriber_wrote(session: Session, channel: str, external_id: str, now: datetime) -> None:
    """The subscriber sent something: a free session runs for the next 24 hours."""
    if capabilities(channel).paid_outside_session:
        repo.open_session(session, channel, external_id, now + SESSION_LENGTH)


def in_session(session: Session, channel: str, external_id: str, now: datetime) -> bool:
    ends = repo.session_ends(session, channel, [external_id]).get(external_id)
    return ends is not None and ends > now


# When nothing is known of a subscriber: early evening, when families read their messages.
DEFAULT_HOUR = 18
# Ended sessions are kept this long: the hour a subscriber last wrote is their best hour.
SESSION_MEMORY = timedelta(days=35)


def best_time(
    now: datetime, session_ends: datetime | None, settings: Settings, deadline: datetime | None
) -> datetime:
    """When a reminder to a subscriber of a billed channel goes: at once inside their open
    session (free); else at the hour of day they last wrote (their session's start), or at
    DEFAULT_HOUR, the next time it comes outside quiet hours; at once when that would be less
    than two hours before `deadline` (the wave closing)."""
    if session_ends is not None and session_ends > now:
        return now
    tz = settings.tz
    local = now.astimezone(tz)
    hours = [DEFAULT_HOUR]
    if session_ends is not None:
        hours.insert(0, (session_ends - SESSION_LENGTH).astimezone(tz).hour)
    for hour in hours:
        at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        if at < local:
            at += timedelta(days=1)
        if not settings.in_quiet_hours(at):
            break
    else:
        return now  # the queue holds it to the end of quiet hours anyway
    when = at.astimezone(now.tzinfo)
    if deadline is not None and when > deadline - timedelta(hours=2):
        return now
    return when


def usage_hook(settings: Settings) -> Callable[[Session, Delivery, Result, datetime], None]:
    """After-sent hook: count a sent message as session (free) or initiated (paid)."""

    def count_sent(session: Session, delivery: Delivery, result: Result, now: datetime) -> None:
        if not capabilities(delivery.channel).paid_outside_session or result.parts <= 0:
            return
        free = in_session(session, delivery.channel, delivery.recipient, now)
        billing = repo.SESSION if free else repo.INITIATED
        day = now.astimezone(settings.tz).date()
        repo.add_usage(session, delivery.channel, day, billing, result.parts)

    return count_sent


def month_start(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Estimate:
    """What a broadcast will cost on the billed channels."""

    paid: int  # chatbot-initiated messages
    free: int  # messages inside an open session
    price: float  # per paid message
    currency: str
    used_this_month: int  # paid messages already sent this month
    limit: int  # 0: none
    label: str = ""  # the billed channel, as people name it
    limit_setting: str = ""  # the setting that holds the limit

    @property
    def cost(self) -> float:
        return round(self.paid * self.price, 2)

    @property
    def over_limit(self) -> bool:
        return self.limit > 0 and self.paid > 0 and self.used_this_month + self.paid > self.limit

    @property
    def left(self) -> int:
        return max(self.limit - self.used_this_month, 0)

    def money(self) -> str:
        return f"{self.cost:.2f} {self.currency}"

    def params(self) -> dict[str, str | int]:
        """The placeholders of the cost texts (cr_preview_cost, cr_over_limit)."""
        return {
            "label": self.label,
            "paid": self.paid,
            "free": self.free,
            "money": self.money(),
            "limit": self.limit,
            "used": self.used_this_month,
        }

    def summary(self) -> str:
        """One line for the CLI: what the broadcast costs."""
        month = f"; this month {self.used_this_month} of {self.limit} used" if self.limit else ""
        return (
            f"{self.label}: {self.paid} paid (chatbot-initiated) messages, about "
            f"{self.money()}; {self.free} free inside open sessions{month}"
        )

    def refusal(self) -> str:
        """One line for the CLI and the log: why the broadcast was stopped."""
        return (
            f"not sent: it needs {self.paid} paid {self.label} messages ({self.money()}), and "
            f"{self.used_this_month} of the monthly limit of {self.limit} are used "
            f"({self.left} left); raise {self.limit_setting} or wait for next month"
        )


class OverLimit(Exception):
    """A non-urgent broadcast would pass the monthly limit of paid messages."""

    def __init__(self, estimate: Estimate) -> None:
        super().__init__(
            f"{estimate.paid} paid messages would pass the monthly limit of {estimate.limit} "
            f"({estimate.used_this_month} used)"
        )
        self.estimate = estimate


def estimate(
    session: Session,
    recipients: Iterable[tuple[str, str]],
    now: datetime,
    settings: Settings,
    parts: int = 1,
) -> Estimate:
    """Cost of sending `parts` messages to each (channel, external id) now. Only billed
    channels count; a session that ends within the hour counts as ended (the broadcast takes
    time, and a wrong "free" is worse than a wrong "paid")."""
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in recipients:
        if channel in BILLED_CHANNELS:
            by_channel.setdefault(channel, []).append(external_id)
    paid = free = used = limit = 0
    price = 0.0
    billed = sorted(BILLED_CHANNELS)
    caps = capabilities(billed[0]) if billed else capabilities("")
    today = now.astimezone(settings.tz).date()
    horizon = now + timedelta(hours=1)
    for channel, ids in by_channel.items():
        ids = list(dict.fromkeys(ids))
        ends = repo.session_ends(session, channel, ids)
        open_ = sum(1 for i in ids if i in ends and ends[i] > horizon)
        free += open_ * parts
        paid += (len(ids) - open_) * parts
        price = max(price, settings.message_price(channel))
        limit = max(limit, settings.monthly_message_limit(channel))
        used += repo.total(session, channel, repo.INITIATED, month_start(today), today)
    if not by_channel:
        price = settings.message_price(caps.name)
        limit = settings.monthly_message_limit(caps.name)
    return Estimate(
        paid, free, price, settings.viber_currency, used, limit, caps.label, caps.limit_setting
    )


def check(
    session: Session,
    recipients: Iterable[tuple[str, str]],
    now: datetime,
    settings: Settings,
    parts: int = 1,
) -> Estimate:
    """The estimate, or OverLimit when the broadcast would pass the monthly limit."""
    found = estimate(session, recipients, now, settings, parts)
    if found.over_limit:
        raise OverLimit(found)
    return found


@dataclass(frozen=True)
class UsageReport:
    days: list[repo.DayUsage]  # this month, by day
    month_session: int
    month_initiated: int
    price: float
    currency: str
    limit: int
    label: str = ""

    @property
    def month_cost(self) -> float:
        return round(self.month_initiated * self.price, 2)


def usage_report(session: Session, settings: Settings, now: datetime) -> UsageReport:
    """This month's messages on the billed channels, by day."""
    today = now.astimezone(settings.tz).date()
    start = month_start(today)
    merged: dict[date, list[int]] = {}
    price, limit, label = 0.0, 0, ""
    for channel in sorted(BILLED_CHANNELS):
        label = label or capabilities(channel).label
        for row in repo.usage_by_day(session, channel, start, today):
            counts = merged.setdefault(row.day, [0, 0])
            counts[0] += row.session
            counts[1] += row.initiated
        price = max(price, settings.message_price(channel))
        limit = max(limit, settings.monthly_message_limit(channel))
    days = [repo.DayUsage(d, s, i) for d, (s, i) in sorted(merged.items())]
    return UsageReport(
        days,
        sum(d.session for d in days),
        sum(d.initiated for d in days),
        price,
        settings.viber_currency,
        limit,
        label,
    )
