"""PTB's request layer answered in process by the fake Bot API (tests/fake_telegram.py).

A `telegram.request.BaseRequest` whose `do_request` hands the call to `FakeTelegram` and gives
back `(status, JSON bytes)`, as `HTTPXRequest` would from the wire: PTB's serialisation, its
parsing of the answer and its errors (RetryAfter on 429, Forbidden on 403, BadRequest on 400)
stay real. No sockets, no threads; a long poll awaits the fake's next update.

    Bot(fake.token, base_url=f"{IN_PROCESS_URL}/bot", request=FakeRequest(fake))
    TelegramAdapter(..., request=FakeRequest(fake), get_updates_request=FakeRequest(fake))
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.request import BaseRequest, RequestData

from tests.fake_telegram import NOT_FOUND, FakeTelegram

# Never connected to: only the path of a URL reaches the fake.
IN_PROCESS_URL = "http://fake-telegram.invalid"


def request_params(request_data: RequestData | None) -> dict[str, Any]:
    """The fields as the HTTP front would parse them off the wire: strings (complex values as
    JSON text, as HTTPXRequest posts them); an uploaded file by its file name."""
    if request_data is None:
        return {}
    params: dict[str, Any] = dict(request_data.json_parameters)
    for name, (filename, _content, _mime) in request_data.multipart_data.items():
        params[name] = params[f"{name}_filename"] = filename
    return params


class FakeRequest(BaseRequest):
    def __init__(self, api: FakeTelegram) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        path = urlsplit(url).path
        content = self.api.file_content(unquote(path))
        if content is not None:  # a file download (/file/bot<token>/<file_path>)
            return 200, content
        api_method = self.api.method_for(path)
        if api_method is None:  # an unknown file or a wrong token
            return 404, json.dumps(NOT_FOUND).encode()
        status, answer = await self.api.request(api_method, request_params(request_data))
        return status, json.dumps(answer).encode()
