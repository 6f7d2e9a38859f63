"""Logging that never carries a token, a secret or an answer's content."""

from __future__ import annotations

import logging
import re

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


def install_redaction(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=False
    )
    install_redaction()
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic narrates every plugin and migration at INFO; `db upgrade` says the result itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # viberbot logs whole payloads (with the auth token) at DEBUG and ERROR.
    install_redaction(logging.getLogger("viber.bot.api"))
