"""A fake Telegram Bot API: its logic, without any transport.

python-telegram-bot reaches it through one of two fronts, as aiogram's tests fake the session
rather than the library (PTB's serialisation, answer parsing and errors stay real):
- `FakeRequest` (tests/fake_telegram_request.py), a `telegram.request.BaseRequest` answered in
  process: no sockets, no threads. What the tests use.
- `FakeTelegramServer` (tests/fake_telegram_server.py), the same over real HTTP on 127.0.0.1:
  for the benchmark and the few tests of code that builds its own `HTTPXRequest`.

What it does:
- records every call (`calls`, `calls_to(method)`), keeps every chat's messages as the user
  sees them now (`view(chat_id)`, `last(chat_id)`, `button(chat_id, label)`), edits included;
- serves getUpdates from a queue the test fills (`push_text`, `push_callback`,
  `push_my_chat_member`, `push_update`), long-polling like Telegram: a getUpdates call waits
  until an update is queued (or its timeout passes); an update leaves the queue once a later
  getUpdates confirms it (`unconfirmed_updates()`);
- wakes whoever waits on it at every call and every queued update: `await fake.until(check)`
  re-checks `check` then, no polling;
- optionally enforces Telegram's limits (`enforce_limits=True`): 30 messages in any second
  overall, a private chat a bucket of 3 refilled at 1/s, a group 20 in any minute; over them it
  answers 429 with `parameters.retry_after`, and counts them (`too_many`);
- answers as told (`fail(...)`): 403 for a chat, a 400, a 500, a 429 with retry_after, ...;
- `hold(method, nth)` keeps the answer to one call in flight (the chat shows the message, the
  caller waits) until `release()`: a sender killed at that moment is a sender killed mid-request.

Thread-safe: the HTTP front answers from its own threads while a test reads on its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN = "123456789:AAH-fake-token-for-tests-only_0123456789"
BOT_ID = 123456789
SEND_METHODS = {
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendDocument",
    "sendPhoto",
}
NOT_FOUND: dict[str, Any] = {"ok": False, "error_code": 404, "description": "Not Found"}
CONFLICT: dict[str, Any] = {
    "ok": False,
    "error_code": 409,
    "description": "Conflict: terminated by other getUpdates request",
}
Answer = tuple[int, dict[str, Any]]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


@dataclass
class Failure:
    code: int
    description: str
    method: str | None = None
    chat_id: int | None = None
    retry_after: int | None = None
    times: int | None = 1  # None: every time


@dataclass
class Shown:
    """A message as the chat shows it now."""

    message_id: int
    text: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    document: str = ""
    photo: str = ""  # a picture: its file name, or the file_id it was sent by

    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def button(self, label: str) -> dict[str, str]:
        for row in self.buttons:
            for b in row:
                if label in b["text"]:
                    return b
        raise LookupError(f"no button {label!r} among {self.labels()}")


class FakeTelegram:
    def __init__(
        self,
        username: str = "classpulse_test_bot",
        token: str = TOKEN,
        enforce_limits: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self.token = token
        self.enforce_limits = enforce_limits
        self.clock = clock
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        # setMyCommands: (scope type, chat id or None, language_code) -> the commands
        self.menus: dict[tuple[str, int | None, str], list[str]] = {}
        self.too_many = 0
        self.conflicts = 0  # 409: getUpdates while another was running (HTTP front only)
        self._polling = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # for the HTTP front's threads
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._chats: dict[int, dict[int, Shown]] = defaultdict(dict)
        self._callback_ids = itertools.count(1)
        # Files users sent: file_id -> bytes (getFile, then GET /file/bot<token>/<file_path>).
        self.user_files: dict[str, bytes] = {}
        self._window: deque[float] = deque()  # accepted sends in the last second
        self._groups: dict[int, deque[float]] = defaultdict(deque)
        self._buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, stamp)
        self._hold: tuple[str, int] | None = None  # (method, nth call) whose answer waits
        self._held = False

    # ------------------------------------------------------------ test controls
    def fail(
        self,
        code: int,
        description: str,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        with self._lock:
            self.failures.append(Failure(code, description, method, chat_id, retry_after, times))

    def hold(self, method: str, nth: int) -> None:
        """The `nth` call to `method` is carried out, but answered only after `release()`."""
        with self._lock:
            self._hold, self._held = (method, nth), True

    def release(self) -> None:
        with self._lock:
            self._held = False
            self._notify()

    def user(self, user_id: int, first_name: str = "Олена", language_code: str = "uk") -> dict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def chat(self, chat_id: int, chat_type: str = "private") -> dict:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "7-А батьки"
        else:
            chat["first_name"] = "Олена"
        return chat

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an update_id is given if it has none); returns it."""
        with self._lock:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._notify()
        return update

    def text_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            message: dict[str, Any] = {
                "message_id": next(self._message_ids[chat_id]),
                "date": int(time.time()),
                "chat": self.chat(chat_id, chat_type),
                "from": self.user(user_id or chat_id),
                "text": text,
            }
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            if reply_to is not None:
                shown = self._chats[chat_id].get(reply_to)
                message["reply_to_message"] = {
                    "message_id": reply_to,
                    "date": int(time.time()),
                    "chat": self.chat(chat_id, chat_type),
                    "text": shown.text if shown else "",
                }
            return {"update_id": next(self._update_ids), "message": message}

    def push_text(self, chat_id: int, text: str, **kw: Any) -> dict[str, Any]:
        return self.push_update(self.text_update(chat_id, text, **kw))

    def push_document(
        self, chat_id: int, name: str, data: bytes, mime: str = "application/pdf"
    ) -> dict[str, Any]:
        """A user sends a file (a document message); its bytes are served by getFile."""
        with self._lock:
            file_id = f"doc-{chat_id}-{len(self.user_files) + 1}"
            self.user_files[file_id] = data
            message: dict[str, Any] = {
                "message_id": next(self._message_ids[chat_id]),
                "date": int(time.time()),
                "chat": self.chat(chat_id),
                "from": self.user(chat_id),
                "document": {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_name": name,
                    "mime_type": mime,
                    "file_size": len(data),
                },
            }
            update = {"update_id": next(self._update_ids), "message": message}
        return self.push_update(update)

    def file_content(self, path: str) -> bytes | None:
        """The bytes at a file download path (`/file/bot<token>/<file_path>`), if any."""
        _, found, file_path = path.partition(f"/file/bot{self.token}/")
        if not found:
            return None
        return self.user_files.get(file_path.removeprefix("documents/"))

    def callback_update(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        with self._lock:
            shown = self._chats[chat_id].get(message_id)
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self.chat(chat_id),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "ClassPulse"},
                "text": shown.text if shown else "",
            }
            return {
                "update_id": next(self._update_ids),
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": self.user(chat_id),
                    "chat_instance": f"ci{chat_id}",
                    "message": message,
                    "data": data,
                },
            }

    def push_callback(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        return self.push_update(self.callback_update(chat_id, message_id, data))

    def press(self, chat_id: int, label: str) -> dict[str, Any]:
        """Press the button labelled `label` on the newest message that has it."""
        message_id, button = self.button(chat_id, label)
        return self.push_callback(chat_id, message_id, button["callback_data"])

    def push_my_chat_member(
        self, chat_id: int, chat_type: str, old: str, new: str, by_user: int
    ) -> dict[str, Any]:
        bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "ClassPulse"}
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self.chat(chat_id, chat_type),
                    "from": self.user(by_user),
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": bot_user},
                    "new_chat_member": _member(new, bot_user),
                }
            }
        )

    # ------------------------------------------------------------ what the user sees
    def view(self, chat_id: int) -> list[Shown]:
        with self._lock:
            return [self._chats[chat_id][k] for k in sorted(self._chats[chat_id])]

    def last(self, chat_id: int) -> Shown:
        shown = self.view(chat_id)
        assert shown, f"chat {chat_id} has no messages"
        return shown[-1]

    def texts(self, chat_id: int) -> list[str]:
        return [s.text for s in self.view(chat_id)]

    def button(self, chat_id: int, label: str) -> tuple[int, dict[str, str]]:
        for shown in reversed(self.view(chat_id)):
            for row in shown.buttons:
                for b in row:
                    if label in b["text"]:
                        return shown.message_id, b
        raise LookupError(f"no button {label!r} in chat {chat_id}")

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)
            ]

    def sent_count(self) -> int:
        with self._lock:
            return sum(len(msgs) for msgs in self._chats.values())

    def duplicates(self) -> int:
        """Messages whose (chat, text) was sent before: what a crash could cost."""
        seen: set[tuple[int, str]] = set()
        dup = 0
        for call in self.calls_to("sendMessage"):
            if call.status != 200:
                continue
            key = (call.chat_id or 0, str(call.params.get("text")))
            dup += key in seen
            seen.add(key)
        return dup

    def unconfirmed_updates(self) -> int:
        """Queued updates that no getUpdates call has confirmed yet (by a later offset)."""
        with self._lock:
            return len(self._updates)

    # ------------------------------------------------------------ waiting
    async def until(self, check: Callable[[], object], timeout: float = 5.0) -> None:
        """Wait until `check()` is truthy (and does not raise), re-checked at every call the
        fake receives and every update queued; fail with its last error after `timeout`."""
        last: list[BaseException] = []

        def holds() -> bool:
            try:
                return bool(check())
            except (AssertionError, LookupError) as exc:
                last[:] = [exc]
                return False

        if not await self.wait_for(holds, timeout):
            raise AssertionError(f"condition not met in {timeout}s: {last[-1] if last else ''}")

    async def wait_for(self, check: Callable[[], bool], timeout: float | None) -> bool:
        """True once `check()` holds, False if `timeout` passes first (None: no limit)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            waiter = (loop, asyncio.Event())
            with self._lock:
                if check():
                    return True
                self._waiters.add(waiter)  # before the lock goes: no change is missed
            try:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter[1].wait(), remaining)
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    def wait_for_blocking(self, check: Callable[[], bool], timeout: float) -> bool:
        """The same for a thread (the HTTP front)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def _notify(self) -> None:
        """Something changed (the lock is held): wake every waiter, on any thread or loop."""
        self._changed.notify_all()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, event in self._waiters:
            if loop is running:
                event.set()
            else:
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(event.set)

    # ------------------------------------------------------------ the API, for the fronts
    def method_for(self, path: str) -> str | None:
        """The Bot API method a request path names (`/bot<token>/<method>`), if any."""
        _, found, method = path.partition(f"/bot{self.token}/")
        return method if found and method else None

    async def request(self, method: str, params: dict[str, Any]) -> Answer:
        """One call, answered in process (awaits long polling and a held answer)."""
        if method == "getUpdates":
            timeout = self._confirm(params)
            await self.wait_for(lambda: bool(self._updates), timeout)
            return self._pending()
        answer, held = self._call(method, params)
        if held:
            await self.wait_for(lambda: not self._held, None)
        return answer

    def request_blocking(self, method: str, params: dict[str, Any], poll_cap: float) -> Answer:
        """One call, answered on a thread; long polls last at most `poll_cap` seconds. Two
        getUpdates at once get 409, as Telegram answers a second poller."""
        if method == "getUpdates":
            with self._lock:
                if self._polling:
                    self.conflicts += 1
                    self.calls.append(Call("getUpdates", params, self.clock(), status=409))
                    return 409, CONFLICT
                self._polling += 1
            try:
                timeout = min(self._confirm(params), poll_cap)
                self.wait_for_blocking(lambda: bool(self._updates), timeout)
                return self._pending()
            finally:
                with self._lock:
                    self._polling -= 1
        answer, held = self._call(method, params)
        if held:
            self.wait_for_blocking(lambda: not self._held, 3600.0)
        return answer

    def _confirm(self, params: dict[str, Any]) -> float:
        """Record a getUpdates call, drop the updates its offset confirms; its timeout."""
        offset = int(params.get("offset") or 0)
        with self._lock:
            self.calls.append(Call("getUpdates", params, self.clock()))
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._notify()
        return float(params.get("timeout") or 0)

    def _pending(self) -> Answer:
        with self._lock:
            return 200, {"ok": True, "result": list(self._updates)}

    def _call(self, method: str, params: dict[str, Any]) -> tuple[Answer, bool]:
        """Answer a call; True too if its answer is to be held."""
        with self._lock:
            answer = self._answer(method, params)
            held = False
            if self._hold is not None and self._hold[0] == method:
                held = self._held and len(self.calls_to(method)) == self._hold[1]
            self._notify()
            return answer, held

    def _answer(self, method: str, params: dict[str, Any]) -> Answer:
        now = self.clock()
        call = Call(method, params, now)
        self.calls.append(call)
        failure = self._failure(method, call.chat_id)
        if failure is not None:
            call.status = failure.code
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.code,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.code, body
        if method in SEND_METHODS and call.chat_id is not None and self.enforce_limits:
            wait = self._over_limit(call.chat_id, now)
            if wait:
                call.status = 429
                self.too_many += 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                }
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            if method.startswith(("set", "delete", "answer", "close", "logOut")):
                return 200, {"ok": True, "result": True}
            call.status = 404
            return 404, NOT_FOUND
        try:
            return 200, {"ok": True, "result": handler(params)}
        except _ApiError as exc:
            call.status = exc.code
            return exc.code, {"ok": False, "error_code": exc.code, "description": exc.description}

    def _failure(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self.failures:
            if failure.method not in (None, method) or failure.chat_id not in (None, chat_id):
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
            return failure
        return None

    def _over_limit(self, chat_id: int, now: float) -> int:
        """0 if allowed (and counted), else the retry_after to answer."""
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= 30:
            return 1
        if chat_id < 0:
            sent = self._groups[chat_id]
            while sent and sent[0] <= now - 60.0:
                sent.popleft()
            if len(sent) >= 20:
                return max(1, math.ceil(sent[0] + 60.0 - now))
            sent.append(now)
        else:
            tokens, stamp = self._buckets.get(chat_id, (3.0, now))
            tokens = min(3.0, tokens + (now - stamp))
            if tokens < 1.0:
                return 1
            self._buckets[chat_id] = (tokens - 1.0, now)
        self._window.append(now)
        return 0

    # ------------------------------------------------------------ methods
    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "ClassPulse",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        data = self.user_files.get(file_id)
        if data is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": f"documents/{file_id}",
        }

    def _message(self, chat_id: int, shown: Shown) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "ClassPulse"},
        }
        if shown.document:
            message["document"] = {
                "file_id": "doc1",
                "file_unique_id": "u1",
                "file_name": shown.document,
            }
            message["caption"] = shown.text
        elif shown.photo:
            message["photo"] = [
                {"file_id": "AgACph1", "file_unique_id": "p1", "width": 800, "height": 600}
            ]
            message["caption"] = shown.text
        else:
            message["text"] = shown.text
        if shown.buttons:
            message["reply_markup"] = {"inline_keyboard": shown.buttons}
        return message

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = str(params.get("text") or "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        shown = Shown(next(self._message_ids[chat_id]), text, _keyboard(params))
        self._chats[chat_id][shown.message_id] = shown
        return self._message(chat_id, shown)

    def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        name = str(params.get("document_filename") or params.get("document") or "file")
        if "document_filename" not in params and name.startswith(PHOTO_ID_PREFIX):
            raise _ApiError(400, "Bad Request: type of file mismatch")
        shown = Shown(
            next(self._message_ids[chat_id]),
            str(params.get("caption") or ""),
            _keyboard(params),
            document=name,
        )
        self._chats[chat_id][shown.message_id] = shown
        return self._message(chat_id, shown)

    def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        name = str(params.get("photo_filename") or params.get("photo") or "photo")
        # As Telegram: a file_id keeps its type, a document's id is no photo.
        if "photo_filename" not in params and not name.startswith(PHOTO_ID_PREFIX):
            raise _ApiError(400, "Bad Request: type of file mismatch")
        shown = Shown(
            next(self._message_ids[chat_id]),
            str(params.get("caption") or ""),
            _keyboard(params),
            photo=name,
        )
        self._chats[chat_id][shown.message_id] = shown
        return self._message(chat_id, shown)

    @staticmethod
    def _menu_key(params: dict[str, Any]) -> tuple[str, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        chat = scope.get("chat_id")
        return (
            scope["type"],
            int(chat) if chat is not None else None,
            params.get("language_code") or "",
        )

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if isinstance(commands, str):
            commands = json.loads(commands)
        self.menus[self._menu_key(params)] = [c["command"] for c in commands]
        return True

    def _m_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.menus.pop(self._menu_key(params), None)
        return True

    def menu_for(self, chat_id: int, language_code: str = "") -> list[str]:
        """The commands a private chat's "/" menu shows, resolved as Telegram documents it:
        the chat's own scope, then all private chats, then the default; each with the user's
        language first."""
        for scope, chat in (("chat", chat_id), ("all_private_chats", None), ("default", None)):
            for lang in (language_code, ""):
                if (scope, chat, lang) in self.menus:
                    return self.menus[(scope, chat, lang)]
        return []

    def _editable(self, params: dict[str, Any]) -> tuple[int, Shown]:
        chat_id = int(params["chat_id"])
        shown = self._chats[chat_id].get(int(params["message_id"]))
        if shown is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return chat_id, shown

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, shown = self._editable(params)
        text, buttons = str(params.get("text") or ""), _keyboard(params)
        if text == shown.text and buttons == shown.buttons:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        shown.text, shown.buttons = text, buttons
        return self._message(chat_id, shown)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, shown = self._editable(params)
        buttons = _keyboard(params)
        if buttons == shown.buttons:
            raise _ApiError(400, "Bad Request: message is not modified")
        shown.buttons = buttons
        return self._message(chat_id, shown)


PHOTO_ID_PREFIX = "AgAC"  # Telegram's photo file_ids start so; documents' with "BQAC"


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        self.code, self.description = code, description


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    if status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": False,
                "can_manage_video_chats": False,
                "can_restrict_members": False,
                "can_promote_members": False,
                "can_change_info": False,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
    return member


def _keyboard(params: dict[str, Any]) -> list[list[dict[str, str]]]:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [
        [{k: v for k, v in b.items() if k in ("text", "callback_data", "url")} for b in row]
        for row in markup.get("inline_keyboard", [])
    ]
