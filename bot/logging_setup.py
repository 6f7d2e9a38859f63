"""Logging that never carries a token, a secret or an answer's content.

- Every handler's output is redacted as a whole (`RedactingFormatter`): the message, and the
  traceback too (an exception's text may hold a token, e.g. PTB's InvalidToken).
- Libraries that log payloads below INFO (telegram.* logs whole updates, with what a person
  answered; httpx logs URLs with the bot token) are kept at or above a floor, whatever
  LOG_LEVEL says.
- The same message repeated (a flood of failing connections) is written at most
  `RATE_BURST` times a minute, then counted (`RateLimitFilter`).
"""

from __future__ import annotations

import logging
import re
import threading
import time

# Telegram tokens (123456:AA...), `auth_token` fields in JSON bodies (viberbot logs whole payloads),
# and X-Viber-Auth-Token headers.
_SECRET_PATTERNS = [
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"),
    re.compile(r"(auth_token['\"]?\s*[:=]\s*['\"]?)[^'\",\s}]+", re.IGNORECASE),
    re.compile(r"(X-Viber-Auth-Token['\"]?\s*[:=]\s*['\"]?)[^'\",\s}]+", re.IGNORECASE),
    re.compile(r"(secret_token['\"]?\s*[:=]\s*['\"]?)[^'\",\s}]+", re.IGNORECASE),
    re.compile(r"(/bot)\d{5,}:[A-Za-z0-9_-]+"),
]
_known_secrets: set[str] = set()
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def register_secret(value: str) -> None:
    """Anything equal to `value` is masked in every log record from now on."""
    if value and len(value) >= 8:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in _known_secrets:
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites the final message of a record with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """The whole formatted record (message and traceback) with secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


RATE_WINDOW = 60.0
RATE_BURST = 5


class RateLimitFilter(logging.Filter):
    """At most RATE_BURST records of one (logger, template) per RATE_WINDOW seconds; the next
    record after a quiet window says how many were left out."""

    def __init__(self, window: float = RATE_WINDOW, burst: int = RATE_BURST) -> None:
        super().__init__()
        self.window = window
        self.burst = burst
        self._seen: dict[tuple[str, str], tuple[float, int, int]] = {}  # start, shown, dropped
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            start, shown, dropped = self._seen.get(key, (now, 0, 0))
            if now - start >= self.window:
                if dropped:
                    record.msg = f"{record.msg} (and {dropped} more like it left out)"
                start, shown, dropped = now, 0, 0
            if shown >= self.burst:
                self._seen[key] = (start, shown, dropped + 1)
                return False
            self._seen[key] = (start, shown + 1, dropped)
            if len(self._seen) > 10_000:
                self._seen.clear()
        return True


# Our own loggers; every other logger is a library's.
OWN_LOGGERS = frozenset({"bot", "storage", "analytics", "scripts", "__main__"})
_SCALARS = (int, float, bool, type(None))
MASKED = "…"


def _mask(value: object) -> object:
    """A library's log argument: numbers and short names pass; containers and objects (a
    request's parameters, an update, a statement's parameters, a row, a URL) do not."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, str) and len(value) <= 64 and "{" not in value:
        return value
    return MASKED


class PayloadFilter(logging.Filter):
    """A library's record never carries a payload, whatever its level (an operator may turn
    any logger to DEBUG). telegram.Bot writes each request's parameters and the answer (the
    updates, with what a person typed), sqlalchemy the statements' parameters and rows,
    viberbot whole payloads in its message text: their arguments are masked (`_mask`) and
    a message text is cut where a payload ("{" or "[") starts. Our own records pass: they
    never log an answer's content (tests/test_debug_logs.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in OWN_LOGGERS:
            return True
        args = record.args
        if isinstance(args, dict):
            record.args = {k: _mask(v) for k, v in args.items()}
        elif isinstance(args, tuple) and args:
            record.args = tuple(_mask(a) for a in args)
        if isinstance(record.msg, str):
            cut = min(
                (i for i in (record.msg.find("{"), record.msg.find("[")) if i >= 0), default=-1
            )
            if cut >= 0 and not (isinstance(args, dict | tuple) and args):
                record.msg = record.msg[:cut] + MASKED
        else:
            record.msg = MASKED if not isinstance(record.msg, _SCALARS) else record.msg
        return True


def prepare_handler(handler: logging.Handler) -> None:
    """What every handler of ours does: no payload from a library, secrets masked in the whole
    record (traceback too), a flood of one message cut to a few a minute."""
    if not isinstance(handler.formatter, RedactingFormatter):
        handler.setFormatter(RedactingFormatter(FORMAT))
    # In this order: the rate limit keys on a message's template (RedactingFilter replaces it
    # with the formatted text: after it, every record was new and none was ever held back);
    # payloads are masked before anything formats the message.
    ours = (RateLimitFilter, PayloadFilter, RedactingFilter)
    found = {kind: next((f for f in handler.filters if isinstance(f, kind)), None) for kind in ours}
    others = [f for f in handler.filters if not isinstance(f, ours)]
    handler.filters = [found[kind] or kind() for kind in ours] + others


# Loggers of libraries and the lowest level they may log at. telegram.* logs every update
# (with the text a person sent) at DEBUG; httpx and httpcore log request URLs (with the bot
# token) and headers; uvicorn, apscheduler and asyncio are only noisy below INFO.
LIBRARY_FLOORS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "hpack": logging.WARNING,
    "uvicorn": logging.INFO,
    "apscheduler": logging.INFO,
    "asyncio": logging.INFO,
    "viber": logging.WARNING,
    "urllib3": logging.WARNING,
    "requests": logging.WARNING,
}


def install_redaction(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format=FORMAT, force=False)
    install_redaction()
    root = logging.getLogger()
    for handler in root.handlers:
        prepare_handler(handler)
    wanted = logging.getLevelName(level) if isinstance(level, str) else level
    wanted = wanted if isinstance(wanted, int) else logging.INFO
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, wanted))
    # Alembic narrates every plugin and migration at INFO; `db upgrade` says the result itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # viberbot logs whole payloads (with the auth token) at DEBUG and ERROR.
    install_redaction(logging.getLogger("viber.bot.api"))
