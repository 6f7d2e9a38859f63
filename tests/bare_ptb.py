"""The peer of scripts/bench/interactive.py: a bare python-telegram-bot 22 Application on the
fake Bot API, with the rate limiter a user would pick. It answers a press by editing the
question's message into the next question: one request a press, no outbox."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_request import IN_PROCESS_URL, FakeRequest

Walk = list[tuple[str, str]]  # (button pressed, what the next question says)


def _keyboard(walk: Walk, step: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(walk[step][0], callback_data=str(step))]])


def first_step(walk: Walk) -> InlineKeyboardMarkup:
    return _keyboard(walk, 0)


async def _answer(walk: Walk, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    step = int(query.data)
    await query.answer()
    text = walk[step][1]
    nxt = step + 1
    markup = _keyboard(walk, nxt) if nxt < len(walk) else None
    if text.startswith("✓"):  # a multi-choice toggle: the keyboard only, as classpulse does
        toggled = [InlineKeyboardButton(text, callback_data="noop")]
        rows = [toggled, [InlineKeyboardButton(walk[nxt][0], callback_data=str(nxt))]]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
        return
    await query.edit_message_text(text, reply_markup=markup)


def bare_bot(fake: FakeTelegram, walk: Walk) -> Any:
    app = (
        Application.builder()
        .token(fake.token)
        .base_url(f"{IN_PROCESS_URL}/bot")
        .base_file_url(f"{IN_PROCESS_URL}/file/bot")
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .concurrent_updates(True)
        # 30/s overall, 429s retried by PTB (needs python-telegram-bot[rate-limiter]).
        .rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 30, max_retries=5))
        .build()
    )
    app.add_handler(CallbackQueryHandler(partial(_answer, walk)))
    return app


def bare_menu_bot(fake: FakeTelegram, handled: Callable[[], None]) -> Any:
    """The peer of scripts/bench/burst.py: `/menu` answered with a text and one button;
    `handled()` is called as the handler starts."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Анкета для батьків", callback_data="1")]])

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled()
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, "Головне меню", reply_markup=markup
        )

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(f"{IN_PROCESS_URL}/bot")
        .base_file_url(f"{IN_PROCESS_URL}/file/bot")
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .concurrent_updates(True)
        .rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 30, max_retries=5))
        .build()
    )
    app.add_handler(CommandHandler("menu", menu))
    return app
