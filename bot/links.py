"""Deep links into the messengers (no messenger library needed to build them)."""

from __future__ import annotations

from urllib.parse import quote


def telegram_deep_link(username: str, payload: str) -> str:
    """`https://t.me/<bot>?start=<payload>`; payload is [A-Za-z0-9_-], at most 64 chars."""
    return f"https://t.me/{username.lstrip('@')}?start={quote(payload, safe='')}"


def viber_deep_link(bot_uri: str, code: str) -> str:
    """`viber://pa?chatURI=<uri>&context=<code>`: opens the bot chat with `context` set."""
    return f"viber://pa?chatURI={quote(bot_uri, safe='')}&context={quote(code, safe='')}"
