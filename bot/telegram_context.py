"""What every Telegram handler shares: the keys of ``application.bot_data`` and their accessors."""

from __future__ import annotations

import re
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.config import TelegramSettings
from retrieval.archive import Archive

ARCHIVE = "archive"
SETTINGS = "settings"
LOADER = "load_archive"
EXAMPLES = "examples"
#: the last background or /reindex round (retrieval.updates.UpdateReport), for /stats
LAST_ROUND = "last_round"


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> TelegramSettings:
    return context.bot_data[SETTINGS]


def archive_of(context: ContextTypes.DEFAULT_TYPE) -> Archive:
    return context.bot_data[ARCHIVE]


def set_archive(app: Application[Any, Any, Any, Any, Any, Any], archive: Archive) -> None:
    """Make ``archive`` the one new questions read (answers under way keep theirs)."""
    app.bot_data[ARCHIVE] = archive
    app.bot_data[EXAMPLES] = example_questions(archive)


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
