"""`classpulse telegram ...`: the bot account, its command menu, the outbox queue."""

from __future__ import annotations

import asyncio

import click

from bot.channels.capabilities import OUTBOX_CHANNELS
from bot.cli.app import AppContext, echo_json, fail, main, pass_app
from bot.logging_setup import register_secret
from bot.settings import reveal
from storage.repositories import outbox


@main.group("telegram")
def telegram_group() -> None:
    """The Telegram bot account and the outbox."""


def _require_token(app: AppContext) -> str:
    token = reveal(app.settings.telegram_bot_token)
    if not token:
        fail("TELEGRAM_BOT_TOKEN is not set", code=2)
    register_secret(token)
    return token


@telegram_group.command("whoami")
@pass_app
def whoami(app: AppContext) -> None:
    """Show the bot account behind TELEGRAM_BOT_TOKEN (getMe) and its deep-link base."""
    from bot.channels.capabilities import telegram_chat_link
    from bot.channels.telegram.transport import build_bot

    async def ask() -> dict[str, object]:
        async with build_bot(_require_token(app), app.settings.telegram_api_base_url) as bot:
            me = await bot.get_me()
            return {
                "id": me.id,
                "username": me.username,
                "link": telegram_chat_link(me.username or ""),
            }

    try:
        echo_json(asyncio.run(ask()))
    except Exception as exc:  # a wrong token or no network: one clear line
        fail(f"getMe failed: {type(exc).__name__}")


@telegram_group.command("set-commands")
@pass_app
def set_commands(app: AppContext) -> None:
    """Publish the command menus: everyone's (Ukrainian, and English for language_code=en), the
    groups', and each staff member's own (their roles' commands too)."""
    from bot.channels.telegram.client import CHANNEL, COMMANDS, GROUP_COMMANDS
    from bot.channels.telegram.transport import build_bot
    from bot.staff.command_menu import StaffMenuSync

    async def publish() -> tuple[int, int]:
        from bot.channels.telegram.client import publish_chat_menus, publish_commands

        async with build_bot(_require_token(app), app.settings.telegram_api_base_url) as bot:
            await publish_commands(bot)
            # Every staff menu again, and those of people no longer staff taken back.
            return await StaffMenuSync(
                app.db,
                CHANNEL,
                lambda menus, published: publish_chat_menus(bot, menus, published),
                app.clock,
            ).run_once(resend=True)

    try:
        staff, taken_back = asyncio.run(publish())
    except Exception as exc:
        fail(f"setMyCommands failed: {type(exc).__name__}")
    click.echo(
        f"commands set: {len(COMMANDS['uk'])} private, {len(GROUP_COMMANDS['uk'])} group, "
        f"{staff} staff chats with their own"
        + (f"; {taken_back} no longer staff given everyone's back" if taken_back else "")
    )


@telegram_group.command("outbox")
@pass_app
def outbox_status(app: AppContext) -> None:
    """Outbox rows per channel and status (pending, sending, sent, failed, dropped)."""
    with app.db.read() as session:
        echo_json({ch: outbox.counts(session, ch) for ch in sorted(OUTBOX_CHANNELS)})
