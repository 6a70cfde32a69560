"""A small fake Telegram Bot API server (aiohttp, 127.0.0.1 only) for end-to-end tests.

It serves the methods the bot uses, delivers updates the test queues through real
long polling (``getUpdates`` waits until something is queued), answers like
Telegram does (``{"ok": true, "result": ...}``), and records every call so tests
can assert on what the bot sent. ``fail_next`` makes the next calls of a method
fail, e.g. with a 429 "retry after".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

BOT_ID = 7_000_000_001
BOT_USERNAME = "newsbot_test_bot"
TOKEN = "7000000001:AAF-fake-token_for-tests-only-0123456789"

#: parameters PTB sends JSON-encoded
_JSON_PARAMS = {
    "reply_markup",
    "commands",
    "scope",
    "results",
    "button",
    "reply_parameters",
    "link_preview_options",
    "allowed_updates",
    "entities",
}
_INT_PARAMS = {
    "chat_id",
    "user_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "cache_time",
    "message_thread_id",
}
_MESSAGE_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
_TRUE_METHODS = {
    "answerCallbackQuery",
    "answerInlineQuery",
    "setMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "deleteWebhook",
    "setWebhook",
    "close",
    "logOut",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200  # HTTP status the fake answered with
    result: Any = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading bot command, @mentions."""
    found: list[dict[str, Any]] = []
    m = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
    if m:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
    for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):
        found.append(
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        )
    return found


class FakeTelegram:
    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME, bot_id: int = BOT_ID) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        #: (chat id, user id) -> status getChatMember answers ("member" when not set)
        self.members: dict[tuple[int, int], str] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._failures: dict[str, list[dict[str, Any]]] = {}
        self._cond: asyncio.Condition | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        self._cond = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ what the test does

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}

    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        self.chats[chat_id] = chat
        return chat

    async def send_text(
        self,
        text: str,
        chat_id: int,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a user's text message; returns the message as the bot will see it."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self.user(user_id if user_id is not None else chat_id),
            "text": text,
        }
        entities = entities_of(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        await self.queue({"message": message})
        return message

    async def press(self, message: dict[str, Any], data: str, user_id: int) -> str:
        """Queue a press of an inline button (``data``) under the bot's ``message``."""
        query_id = f"cbq{next(self._update_ids)}"
        await self.queue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "message": message,
                    "chat_instance": f"ci{message['chat']['id']}",
                    "data": data,
                }
            }
        )
        return query_id

    async def inline(self, query: str, user_id: int) -> str:
        query_id = f"iq{next(self._update_ids)}"
        await self.queue(
            {"inline_query": {"id": query_id, "from": self.user(user_id), "query": query, "offset": ""}}
        )
        return query_id

    async def queue(self, *updates: dict[str, Any]) -> None:
        for update in updates:
            self._updates.append({"update_id": next(self._update_ids), **update})
        await self._notify()

    def fail_next(self, method: str, times: int = 1, *, code: int = 429, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail (429: with ``retry_after`` seconds)."""
        error: dict[str, Any] = {"ok": False, "error_code": code}
        if code == 429:
            error["description"] = f"Too Many Requests: retry after {retry_after}"
            error["parameters"] = {"retry_after": retry_after}
        elif code == 403:
            error["description"] = "Forbidden: bot was blocked by the user"
        else:
            error["description"] = "Internal Server Error"
        self._failures.setdefault(method, []).extend([error] * times)

    # ------------------------------------------------------------------ what the test checks

    def called(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method
            and c.status == 200
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages the bot sent (successfully), in order."""
        return self.called("sendMessage", chat_id)

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.params["text"] for c in self.sent(chat_id)]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 15.0) -> T:
        """Wait until ``predicate()`` is truthy (checked after every call); return its value."""
        assert self._cond is not None
        result: T | None = None

        def check() -> bool:
            nonlocal result
            result = predicate()
            return bool(result)

        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(check), timeout)
        return result  # type: ignore[return-value]

    async def wait_called(
        self, method: str, count: int = 1, chat_id: int | None = None, timeout: float = 15.0
    ) -> list[Call]:
        """Wait for ``count`` successful calls of ``method``; returns all of them so far."""
        return await self.wait_for(
            lambda: len(self.called(method, chat_id)) >= count and self.called(method, chat_id), timeout
        )

    async def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 15.0) -> list[Call]:
        return await self.wait_called("sendMessage", count, chat_id, timeout)

    # ------------------------------------------------------------------ serving

    async def _notify(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        failures = self._failures.get(method)
        if failures:
            error = failures.pop(0)
            await self._record(Call(method, params, status=error["error_code"]))
            return web.json_response(error, status=error["error_code"])
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        elif method == "getMe":
            result = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Newsbot",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            }
        elif method in _MESSAGE_METHODS:
            result = self._message(method, params)
        elif method == "getChatMember":
            result = self._member(int(params["chat_id"]), int(params["user_id"]))
        elif method in _TRUE_METHODS:
            result = True
        else:
            await self._record(Call(method, params, status=404))
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, status=404
            )
        await self._record(Call(method, params, result=result))
        return web.json_response({"ok": True, "result": result})

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        await self._notify()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        raw = dict(await request.post()) if request.can_read_body else {}
        raw.update(request.query)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            value = str(value)
            if key in _JSON_PARAMS:
                params[key] = json.loads(value)
            elif key in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
                params[key] = int(value)
            else:
                params[key] = value
        return params

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._cond is not None
        offset = int(params.get("offset", 0) or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0) or 0)
        if not self._updates and timeout > 0 and not self._closing:
            async with self._cond:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._cond.wait_for(lambda: bool(self._updates) or self._closing), timeout
                    )
        limit = int(params.get("limit", 100) or 100)
        return list(self._updates[:limit])

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        status = self.members.get((chat_id, user_id), "member")
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages")
            rights += ("can_manage_video_chats", "can_restrict_members", "can_promote_members")
            rights += ("can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories")
            member |= dict.fromkeys((*rights, "can_delete_stories"), False)
        return member

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        message: dict[str, Any] = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chats.get(chat_id) or self.chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Newsbot", "username": self.username},
        }
        if "text" in params:
            message["text"] = params["text"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        if method != "sendMessage":
            message["edit_date"] = int(time.time())
        return message
