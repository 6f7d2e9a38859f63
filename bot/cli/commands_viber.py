"""`classpulse viber ...`: register the webhook, show the bot account."""

from __future__ import annotations

import asyncio

import click

from bot.channels.viber.client import ViberError
from bot.channels.viber.setup import ViberSetupError, client_from_settings
from bot.cli.app import AppContext, echo_json, fail, main, pass_app
from bot.settings import webhook_url_problem


@main.group("viber")
def viber_group() -> None:
    """The Viber bot account: webhook and account info."""


@viber_group.command("set-webhook")
@click.option("--url", default="", help="Webhook URL (default: VIBER_WEBHOOK_URL).")
@pass_app
def set_webhook(app: AppContext, url: str) -> None:
    """Register the webhook URL with Viber (`classpulse run` does this at start).

    The bot must already be serving that URL: Viber checks it with a signed request.
    """
    target = url or app.settings.viber_webhook_url
    if not target:
        fail("VIBER_WEBHOOK_URL is not set (or give --url https://...)")
    problem = webhook_url_problem(target)
    if problem:
        fail(f"VIBER_WEBHOOK_URL (or --url): {problem}")
    try:
        client = client_from_settings(app.settings)
    except ViberSetupError as exc:
        fail(str(exc), code=2)
    try:
        events = asyncio.run(client.set_webhook(target))
    except ViberError as exc:
        fail(f"set_webhook failed: {exc}")
    finally:
        client.close()
    click.echo(f"webhook set: {target}")
    click.echo("events: " + ", ".join(events))


@viber_group.command("info")
@pass_app
def info(app: AppContext) -> None:
    """Show the bot account as Viber sees it (name, URI, subscribers, webhook)."""
    try:
        client = client_from_settings(app.settings)
    except ViberSetupError as exc:
        fail(str(exc), code=2)
    try:
        account = asyncio.run(client.account_info())
    except ViberError as exc:
        fail(f"get_account_info failed: {exc}")
    finally:
        client.close()
    echo_json(account)


@viber_group.command("usage")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_app
def usage(app: AppContext, as_json: bool) -> None:
    """Messages sent this month, by day: free (inside a session the subscriber opened) and
    paid (chatbot-initiated), with the cost at VIBER_PRICE_PER_MESSAGE."""
    from bot.usage.cost import usage_report

    app.migrate()
    with app.db.read() as session:
        report = usage_report(session, app.settings, app.clock())
    if as_json:
        echo_json(
            {
                "days": [
                    {"day": d.day.isoformat(), "free": d.session, "paid": d.initiated}
                    for d in report.days
                ],
                "month": {
                    "free": report.month_session,
                    "paid": report.month_initiated,
                    "cost": report.month_cost,
                    "currency": report.currency,
                    "limit": report.limit,
                },
            }
        )
        return
    click.echo(f"{'day':<12}{'free':>8}{'paid':>8}")
    for d in report.days:
        click.echo(f"{d.day.isoformat():<12}{d.session:>8}{d.initiated:>8}")
    limit = f" of {report.limit}" if report.limit else ""
    click.echo(
        f"this month: {report.month_session} free, {report.month_initiated}{limit} paid, "
        f"about {report.month_cost:.2f} {report.currency}"
    )
