"""Telegram (python-telegram-bot 22): the only package that imports `telegram`.

- inbound.py: updates -> `IncomingEvent` / `GroupEvent`;
- transport.py: outbox rows -> Bot API calls (`TelegramTransport`, `build_bot`);
- client.py: the running bot (`TelegramAdapter`: PTB Application, polling or webhook, commands).

The API base URL comes from TELEGRAM_API_BASE_URL, so a local Bot API server or the tests' fake
(tests/fake_telegram.py) works unchanged. No AIORateLimiter: the outbox paces. This module
itself stays light (no `telegram` import), so naming the channel costs nothing.
"""

CHANNEL = "telegram"
