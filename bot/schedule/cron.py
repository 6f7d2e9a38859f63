"""DIGEST_CRON as a crontab user means it, for APScheduler 3.

APScheduler 3 numbers weekdays 0 = Monday; crontab numbers them 0 (or 7) = Sunday. Numbers in
the weekday field become an explicit list of names, which mean the same to both.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from bot.settings import Settings

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 = Sunday


def _weekday_number(token: str) -> int:
    token = token.strip().lower()
    return _WEEKDAYS.index(token[:3]) if token[:3] in _WEEKDAYS else int(token) % 7


def _crontab_weekdays(field: str) -> str:
    """Crontab weekdays as names: APScheduler 3 reads numbers as 0 = Monday, crontab as
    0 (or 7) = Sunday, so `DIGEST_CRON=0 8 * * 1` would otherwise run on Tuesdays."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        else:
            start, _, end = span.partition("-")
            first = _weekday_number(start)
            # `5-7`, `mon-sun`: Sunday ends a range as 7.
            last = (
                (7 if end.strip().lower() in ("7", "sun") else _weekday_number(end))
                if end
                else first
            )
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    if not days:
        raise ValueError(f"no weekday in '{field}'")
    return ",".join(_WEEKDAYS[d] for d in sorted(days, key=lambda d: (d + 6) % 7))


def crontab_trigger(expr: str, settings: Settings) -> CronTrigger:
    """A standard five-field crontab expression in TIMEZONE; ValueError names DIGEST_CRON."""
    try:
        minute, hour, day, month, weekdays = expr.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekdays),
            timezone=settings.tz,
        )
    except ValueError as exc:
        raise ValueError(f"DIGEST_CRON '{expr}' is not a cron expression: {exc}") from None
