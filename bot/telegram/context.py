"""What every Telegram handler shares, typed: the bot's data (``context.bot_data``), a chat's
(``context.chat_data``), and the PTB :class:`ContextTypes` that makes ``context`` carry them."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.config import TelegramSettings
from bot.telegram.state import Conversation, RateLimit
from retrieval.archive import Archive
from retrieval.live.updates import UpdateReport


@dataclass
class BotData:
    """``application.bot_data``: filled by ``build_application``, read by every handler."""

    settings: TelegramSettings | None = None
    #: the archive new questions read (swapped whole by a refresh), or how to load it
    archive: Archive | None = None
    load_archive: Callable[[], Archive] | None = None
    #: example questions for /help and /ask without a question
    examples: list[str] = field(default_factory=list)
    #: the per-user question budgets: questions, and inline queries
    limiter: RateLimit = field(default_factory=lambda: RateLimit(0, 60.0))
    inline_limiter: RateLimit = field(default_factory=lambda: RateLimit(0, 60.0))
    #: the last background or /reindex round, for /stats; whether one is running
    last_round: UpdateReport | None = None
    refreshing: bool = False
    #: coroutines called after every round that changed the archive: hook(app, round, archive)
    after_round: list[AfterRound] = field(default_factory=list)
    #: the topic alerts' service (bot.telegram.alerts.AlertService; None: alerts off)
    alerts: Any = None
    #: the alerts' clock (tests set it)
    clock: Callable[[], float] = time.time


@dataclass
class ChatData:
    """``context.chat_data``: the chat's questions and their answers, for /more and the buttons."""

    conversation: Conversation = field(default_factory=Conversation)


Context = CallbackContext[ExtBot[None], dict[Any, Any], ChatData, BotData]
#: the application, its bot data and chat data typed (PTB's other parameters vary by where it is read)
App = Application[Any, Any, Any, ChatData, BotData, Any]
AfterRound = Callable[[App, UpdateReport, Archive], Awaitable[None]]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, bot_data=BotData, chat_data=ChatData)


def settings_of(context: Context | App) -> TelegramSettings:
    settings = context.bot_data.settings
    assert settings is not None, "build_application sets the settings"
    return settings


def archive_of(context: Context | App) -> Archive:
    archive = context.bot_data.archive
    assert archive is not None, "post_init loads the archive"
    return archive


def set_archive(app: App, archive: Archive) -> None:
    """Make ``archive`` the one new questions read (answers under way keep theirs)."""
    app.bot_data.archive = archive
    app.bot_data.examples = example_questions(archive)


_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’.-]*)+")
_NOT_NAMES = {"The", "A", "An", "In", "On", "At", "As", "After", "Before", "How", "Why", "What", "Who"}


def _a_name(words: list[str]) -> bool:
    """Words that read as a name: no digits, not only capitals ("C1 CSI" is a code)."""
    return not any(c.isdigit() for w in words for c in w) and any(not w.isupper() for w in words)


def example_questions(archive: Archive, n: int = 3) -> list[str]:
    """Questions about the names most often in the titles (newest first on ties), for /help."""
    count: dict[str, int] = {}
    newest: dict[str, str] = {}
    spelled: dict[str, str] = {}
    articles = archive.articles()
    outlets = {w for a in articles for w in re.findall(r"\w+", a.source.lower())}
    for a in articles:
        for m in _NAME.finditer(a.title):
            words = m.group(0).rstrip(".’'").split()
            while words and words[0] in _NOT_NAMES:
                words = words[1:]
            if len(words) < 2 or words[0].lower() in outlets:  # "CNN Business" is no topic
                continue
            if not _a_name(words):
                continue
            key = " ".join(words).lower()
            spelled.setdefault(key, " ".join(words))
            count[key] = count.get(key, 0) + 1
            newest[key] = max(newest.get(key, ""), a.published)
    ranked = sorted(count, key=lambda k: (-count[k], -int(newest[k].replace("-", "") or 0)))
    return [f"What do the articles say about {spelled[k]}?" for k in ranked[:n]]
