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


_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def describe_cron(expr: str, lang: str) -> str:
    """A crontab expression in words, e.g. `0 8 * * mon` -> "щопонеділка о 08:00"; what has no
    simple wording is shown as the expression itself."""
    from bot.texts import t

    try:
        minute, hour, day, month, weekdays = expr.split()
        if (day, month) != ("*", "*"):
            raise ValueError(expr)
        if (minute, hour, weekdays) == ("*", "*", "*"):
            return t(lang, "cron_every_minute")
        if hour == "*" and weekdays == "*":
            return t(lang, "cron_hourly", minute=f"{int(minute):02d}")
        at = f"{int(hour):02d}:{int(minute):02d}"
        if not (0 <= int(hour) < 24 and 0 <= int(minute) < 60):
            raise ValueError(expr)
        if weekdays == "*":
            return t(lang, "cron_daily", time=at)
        names = _crontab_weekdays(weekdays).split(",")
        if len(names) == 7:
            return t(lang, "cron_daily", time=at)
        days = ", ".join(t(lang, f"cron_day_{_DAY_KEYS.index(n)}") for n in names)
        return t(lang, "cron_weekly", days=days, time=at)
    except ValueError:
        return t(lang, "cron_other", expr=expr)
