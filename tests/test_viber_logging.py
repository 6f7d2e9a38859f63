"""No auth token (and no message content) from viberbot ever reaches a log, at any level."""

from __future__ import annotations

import logging

import pytest
from viberbot import Api
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.messages import TextMessage

from bot.channels.viber.client import ViberClient, install_log_filter
from bot.channels.viber.keyboard import Rendered
from tests.fake_viber import FakeViber, Fault
from tests.viber_support import TOKEN

pytestmark = pytest.mark.anyio
pytest_plugins = ("tests.viber_fixtures",)


def all_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records) + caplog.text


async def test_viberbot_own_debug_and_error_logs_carry_no_token(
    fake_viber: FakeViber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    install_log_filter()
    api = Api(BotConfiguration(TOKEN, "Ліцей", None))
    api._request_sender._viber_bot_api_url = fake_viber.url.rstrip("/")  # the one URL it reads
    fake_viber.subscribed.add("u1")
    api.send_messages("u1", [TextMessage(text="секретна відповідь")])  # DEBUG: whole payload
    fake_viber.inject(Fault("send_message", http=500))
    with pytest.raises(Exception):  # noqa: B017 - viberbot raises requests' HTTPError
        api.send_messages("u1", [TextMessage(text="секретна відповідь")])  # ERROR: payload
    logged = all_logged(caplog)
    assert TOKEN not in logged
    assert "секретна відповідь" not in logged
    assert "failed to post request" in logged  # the error itself is still reported


async def test_our_client_logs_nothing_secret_on_success_or_failure(
    fake_viber: FakeViber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = ViberClient(TOKEN, "Ліцей", base_url=fake_viber.url)
    fake_viber.subscribed.add("u1")
    try:
        await client.send("u1", Rendered("секретна відповідь"))
        fake_viber.inject(Fault("send_message", http=500))
        with pytest.raises(Exception, match="HTTP 500"):
            await client.send("u1", Rendered("секретна відповідь"))
        await client.broadcast(["u1", "u2"], Rendered("секретна відповідь"))
    finally:
        client.close()
    logged = all_logged(caplog)
    assert TOKEN not in logged and "секретна відповідь" not in logged
