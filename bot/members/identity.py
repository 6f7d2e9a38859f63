"""The bot's identity as every command sees it: what the running bot reported about itself
(stored by the composition root), else the settings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.channels.capabilities import BotIdentity, identity_from
from bot.settings import Settings
from storage.repositories import identity


def bot_identity(session: Session, settings: Settings) -> BotIdentity:
    return identity_from(
        lambda channel, key: identity.recall(session, channel, key),
        settings.telegram_bot_username,
        settings.viber_bot_uri,
    )
