"""`classpulse telegram ...` against the fake Bot API, over real HTTP: the commands build their
own PTB Bot with HTTPXRequest."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram_server import FakeTelegramServer
from tests.telegram_harness import telegram_settings


def test_whoami_set_commands_and_outbox(settings: Settings) -> None:
    fake = FakeTelegram()
    with FakeTelegramServer(fake) as server:
        app = AppContext(settings=telegram_settings(settings, fake, server.base_url))
        runner = CliRunner()
        who = runner.invoke(main, ["telegram", "whoami"], obj=app)
        assert who.exit_code == 0, who.output
        assert json.loads(who.output)["link"] == "https://t.me/classpulse_test_bot"
        assert fake.token not in who.output
        done = runner.invoke(main, ["telegram", "set-commands"], obj=app)
        assert done.exit_code == 0, done.output
        calls = fake.calls_to("setMyCommands")
        english = [c for c in calls if c.params.get("language_code") == "en"]
        assert len(calls) == 4 and len(english) == 2
        assert (
            json.loads(calls[0].params["commands"])[0]["description"] == "Головне меню й опитування"
        )
        status = runner.invoke(main, ["telegram", "outbox"], obj=app)
        assert json.loads(status.output) == {"telegram": {}, "viber": {}}
    missing = CliRunner().invoke(main, ["telegram", "whoami"], obj=AppContext(settings=settings))
    assert missing.exit_code == 2 and "TELEGRAM_BOT_TOKEN" in missing.output
