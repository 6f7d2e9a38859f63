"""What each channel can do, declared in one place so that no code outside bot/channels/ has
to compare channel names. Light: no messenger library is imported here.

Features ask `capabilities(channel)`; an unknown channel gets the most modest answer (plain
text, nothing delivered through the outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from bot.engine.events import FILE_REF_MARK


def telegram_deep_link(username: str, payload: str) -> str:
    """`https://t.me/<bot>?start=<payload>`; payload is [A-Za-z0-9_-], at most 64 chars."""
    return f"https://t.me/{username.lstrip('@')}?start={quote(payload, safe='')}"


def telegram_chat_link(username: str) -> str:
    """`https://t.me/<bot>`: the bot's private chat (group invitations add `?start=`)."""
    return f"https://t.me/{username.lstrip('@')}"


def viber_deep_link(bot_uri: str, code: str) -> str:
    """`viber://pa?chatURI=<uri>&context=<code>`: opens the bot chat with `context` set."""
    return f"viber://pa?chatURI={quote(bot_uri, safe='')}&context={quote(code, safe='')}"


@dataclass(frozen=True)
class Capabilities:
    name: str
    # Replies are stored in the outbox with the state and sent by the outbox sender.
    through_outbox: bool = False
    # Uploads a local file (a report, a notice's PDF) with a message.
    sends_files: bool = False
    # Re-sends a file a user sent to the bot, by the platform's own reference (file_id).
    resends_own_files: bool = False
    # Edits a message in place (an answered question loses its buttons).
    edits_messages: bool = False
    # Tells us when a message was delivered / seen (notice receipts).
    receipts: bool = False
    # Shows a command menu ("/" in Telegram), which can differ per chat: staff see theirs.
    command_menus: bool = False
    # The bot can sit in class group chats (`/bind 7-А`).
    groups: bool = False
    # A person reads the bot in a terminal or test: nothing is delivered to them later.
    local: bool = False
    # Sends pictures and files only as a public URL (a link on the bot's own server).
    sends_files_by_url: bool = False
    # The largest picture it shows inline (bytes); larger ones are resized first.
    max_picture_bytes: int = 0
    # Messages outside a session the subscriber opened (by writing) are paid, inside it free.
    paid_outside_session: bool = False
    # How people and settings name the channel: "Viber", and its monthly limit's setting.
    label: str = ""
    limit_setting: str = ""
    # Invite link for a code, given the bot's identity (username / URI); None: no links.
    invite_link: Callable[[str, str], str] | None = None
    # The event ref of a message we sent (recipient, platform message id), so that it can be
    # edited later (a question answered by typing loses its buttons); None: not editable.
    sent_ref: Callable[[str, str], str] | None = None


def _telegram_sent_ref(chat_id: str, message_id: str) -> str:
    return f"{chat_id}:{message_id}"  # bot/channels/telegram/inbound.py message_ref


CAPABILITIES: dict[str, Capabilities] = {
    "telegram": Capabilities(
        "telegram",
        through_outbox=True,
        sends_files=True,
        resends_own_files=True,
        edits_messages=True,
        command_menus=True,
        groups=True,
        invite_link=telegram_deep_link,
        sent_ref=_telegram_sent_ref,
    ),
    "viber": Capabilities(
        "viber",
        through_outbox=True,
        receipts=True,
        sends_files_by_url=True,
        max_picture_bytes=1024 * 1024,
        paid_outside_session=True,
        label="Viber",
        limit_setting="VIBER_MONTHLY_LIMIT",
        invite_link=viber_deep_link,
    ),
    "console": Capabilities("console", local=True),
    "memory": Capabilities("memory", local=True),
}

OUTBOX_CHANNELS = frozenset(name for name, c in CAPABILITIES.items() if c.through_outbox)
LOCAL_CHANNELS = frozenset(name for name, c in CAPABILITIES.items() if c.local)
FILE_CHANNELS = frozenset(name for name, c in CAPABILITIES.items() if c.sends_files)
RECEIPT_CHANNELS = frozenset(name for name, c in CAPABILITIES.items() if c.receipts)
GROUP_CHANNELS = frozenset(name for name, c in CAPABILITIES.items() if c.groups)
URL_FILE_CHANNELS = frozenset(n for n, c in CAPABILITIES.items() if c.sends_files_by_url)
BILLED_CHANNELS = frozenset(n for n, c in CAPABILITIES.items() if c.paid_outside_session)


def capabilities(channel: str) -> Capabilities:
    return CAPABILITIES.get(channel) or Capabilities(channel)


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is in each messenger: what links and QR codes are built from."""

    telegram_username: str = ""
    viber_uri: str = ""

    @property
    def group_chat_link(self) -> str:
        """The bot's private chat for group invitations; "" while the username is unknown."""
        return telegram_chat_link(self.telegram_username) if self.telegram_username else ""


# (channel, key) of each fact a running adapter reports about itself (stored in bot_identity).
TELEGRAM_USERNAME = ("telegram", "username")
VIBER_URI = ("viber", "uri")
IdentityReport = Callable[[str, str, str], None]  # (channel, key, value): the root stores it


@dataclass(frozen=True)
class CommandMenu:
    """The commands one account sees in its chat's command menu, besides everyone's."""

    account: str  # the channel's id of the person's chat
    language: str
    commands: tuple[str, ...]


def identity_from(
    recall: Callable[[str, str], str], telegram_username: str, viber_uri: str
) -> BotIdentity:
    """What the running bot reported (`recall(channel, key)`), else the settings."""
    return BotIdentity(
        telegram_username=(recall(*TELEGRAM_USERNAME) or telegram_username).lstrip("@"),
        viber_uri=recall(*VIBER_URI) or viber_uri,
    )


@dataclass(frozen=True)
class InviteLinks:
    telegram: str  # "" while the bot's username is unknown
    viber: str  # "" while the bot's URI is unknown
    for_qr: str  # what the printed QR code opens; "" when no link works
    notes: tuple[str, ...]  # what is missing for a working link


UNKNOWN_TELEGRAM = (
    "no Telegram link: the bot's username is unknown (start `classpulse run` once with "
    "TELEGRAM_BOT_TOKEN, or set TELEGRAM_BOT_USERNAME)"
)
UNKNOWN_VIBER = (
    "no Viber link: the bot's URI is unknown (start `classpulse run` once with VIBER_AUTH_TOKEN, "
    "or set VIBER_BOT_URI; see docs/viber.md)"
)


def invite_links(code: str, telegram_username: str, viber_bot_uri: str) -> InviteLinks:
    """The invite's links in every channel where the bot's identity is known; a note for each
    one that is not (never a placeholder link that works for nobody)."""
    notes = []
    telegram = telegram_deep_link(telegram_username, code) if telegram_username else ""
    if not telegram:
        notes.append(UNKNOWN_TELEGRAM)
    viber = viber_deep_link(viber_bot_uri, code) if viber_bot_uri else ""
    if not viber:
        notes.append(UNKNOWN_VIBER)
    # Families mostly use Viber, so the QR opens Viber when the school has a Viber bot.
    return InviteLinks(telegram, viber, viber or telegram, tuple(notes))


def channel_file_ref(channel: str, ref: str) -> str:
    """A file kept in a messenger, as stored with a notice: `<channel>-file:<ref>`."""
    return f"{channel}{FILE_REF_MARK}{ref}"


def resendable_by(channel: str, stored_path: str) -> bool:
    """Whether `channel` can attach this stored file (a local path, or its own file ref)."""
    origin, mark, _ = stored_path.partition(FILE_REF_MARK)
    if not mark:
        return True  # a local file: every transport sends it its own way
    return origin == channel and capabilities(channel).resends_own_files


__all__ = [
    "BILLED_CHANNELS",
    "CAPABILITIES",
    "FILE_CHANNELS",
    "GROUP_CHANNELS",
    "LOCAL_CHANNELS",
    "OUTBOX_CHANNELS",
    "RECEIPT_CHANNELS",
    "TELEGRAM_USERNAME",
    "URL_FILE_CHANNELS",
    "VIBER_URI",
    "BotIdentity",
    "Capabilities",
    "CommandMenu",
    "IdentityReport",
    "InviteLinks",
    "capabilities",
    "channel_file_ref",
    "identity_from",
    "invite_links",
    "resendable_by",
    "telegram_chat_link",
    "telegram_deep_link",
    "viber_deep_link",
]
