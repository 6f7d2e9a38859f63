"""Wiring Viber into the running bot: client, transport, adapter, routes, webhook.

bot/runtime.py: `parts = build_viber(settings, db, clock, wake=rt.wake)`; mount `parts.routes`
in the shared starlette app; give `parts.transport` to the outbox sender; once uvicorn listens,
`await register_webhook(parts, settings)`; on shutdown `await parts.stop()`. `start_viber(app)`
does the first and the webhook in one call for callers without a runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.routing import Route

from bot.channels.viber.client import ViberClient, ViberError
from bot.channels.viber.inbound import ViberAdapter
from bot.channels.viber.transport import ViberTransport
from bot.channels.viber.webhook import viber_routes
from bot.context import utc_now
from bot.settings import Settings, reveal, webhook_url_problem
from storage.db import Database

if TYPE_CHECKING:  # bot.cli imports this module for its commands
    from bot.context import AppContext

logger = logging.getLogger(__name__)


class ViberSetupError(Exception):
    """Viber is configured wrongly; the message names the setting."""


@dataclass
class ViberParts:
    client: ViberClient
    transport: ViberTransport
    adapter: ViberAdapter
    routes: list[Route]

    async def stop(self) -> None:
        await self.adapter.drain()
        await self.adapter.stop_worker()
        self.client.close()


def client_from_settings(settings: Settings) -> ViberClient:
    if not reveal(settings.viber_auth_token):
        raise ViberSetupError("VIBER_AUTH_TOKEN is not set")
    return ViberClient(
        reveal(settings.viber_auth_token),
        settings.viber_bot_name,
        settings.viber_bot_avatar,
        settings.viber_api_base_url,
    )


def build_viber(
    settings: Settings,
    db: Database,
    clock: Callable[[], datetime] = utc_now,
    wake: Callable[[], None] | None = None,
) -> ViberParts:
    """`wake` starts an outbox round (replies are queued by the adapter's background work)."""
    client = client_from_settings(settings)
    adapter = ViberAdapter(db, settings, client, clock, wake=wake)
    return ViberParts(client, ViberTransport(client), adapter, viber_routes(adapter))


async def register_webhook(parts: ViberParts, settings: Settings) -> list[str]:
    """set_webhook with VIBER_WEBHOOK_URL. The route must already be served: Viber POSTs a
    signed `webhook` event to the URL and refuses it unless that gets 200."""
    if not settings.viber_webhook_url:
        raise ViberSetupError("VIBER_WEBHOOK_URL is not set (an https:// URL)")
    problem = webhook_url_problem(settings.viber_webhook_url)
    if problem:  # the same rule as `classpulse viber set-webhook`
        raise ViberSetupError(f"VIBER_WEBHOOK_URL: {problem}")
    try:
        events = await parts.client.set_webhook(settings.viber_webhook_url)
    except ViberError as exc:
        raise ViberSetupError(f"set_webhook failed: {exc}") from None
    logger.info("viber: webhook set for %s", ", ".join(events) or "the default events")
    return events


async def start_viber(app: AppContext, *, set_webhook: bool = True) -> ViberParts:
    """Build the Viber parts; with `set_webhook`, also register the webhook (so call it once
    the server listens, or pass False and call `register_webhook` when it does)."""
    parts = build_viber(app.settings, app.db, app.clock)
    if set_webhook:
        try:
            await register_webhook(parts, app.settings)
        except ViberSetupError:
            parts.client.close()
            raise
    return parts
