"""`classpulse viber set-webhook` and `viber info` against the fake Viber API."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from tests.fake_viber import FakeViber
from tests.viber_support import TOKEN

pytest_plugins = ("tests.viber_fixtures",)


def app(settings: Settings, fake: FakeViber, **changes: str) -> AppContext:
    update = {"viber_auth_token": TOKEN, "viber_api_base_url": fake.url, **changes}
    return AppContext(settings=settings.model_copy(update=update))


def test_set_webhook_registers_the_url_with_every_event(
    settings: Settings, fake_viber: FakeViber
) -> None:
    ctx = app(settings, fake_viber, viber_webhook_url="https://bot.school.example/viber/webhook")
    result = CliRunner().invoke(main, ["viber", "set-webhook"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert "webhook set: https://bot.school.example/viber/webhook" in result.output
    (call,) = fake_viber.calls("set_webhook")
    assert call.body["url"] == "https://bot.school.example/viber/webhook"
    assert set(call.body["event_types"]) >= {"conversation_started", "unsubscribed", "seen"}
    assert TOKEN not in result.output


def test_set_webhook_needs_https_and_a_token(settings: Settings, fake_viber: FakeViber) -> None:
    ctx = app(settings, fake_viber, viber_webhook_url="http://plain.example/hook")
    result = CliRunner().invoke(main, ["viber", "set-webhook"], obj=ctx)
    assert result.exit_code == 1 and "https://" in result.output
    ctx = app(settings, fake_viber, viber_auth_token="")
    result = CliRunner().invoke(
        main, ["viber", "set-webhook", "--url", "https://x.example/h"], obj=ctx
    )
    assert result.exit_code == 2 and "VIBER_AUTH_TOKEN is not set" in result.output
    assert fake_viber.requests == []


def test_a_refused_token_is_one_clear_line(settings: Settings, fake_viber: FakeViber) -> None:
    ctx = app(settings, fake_viber, viber_auth_token="wrong-token-1234")
    result = CliRunner().invoke(main, ["viber", "info"], obj=ctx)
    assert result.exit_code == 1
    assert "get_account_info failed: get_account_info: status 2" in result.output
    assert "wrong-token-1234" not in result.output


def test_info_shows_the_account(settings: Settings, fake_viber: FakeViber) -> None:
    fake_viber.subscribed.update({"a", "b"})
    result = CliRunner().invoke(main, ["viber", "info"], obj=app(settings, fake_viber))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["subscribers_count"] == 2
