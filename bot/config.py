"""Settings read once, at the edge: flags win over environment variables."""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.store.location import Location

DEFAULT_INDEX = Path("index")
DEFAULT_ARTICLES = Path("seeds")

ENV_INDEX = "NEWSBOT_INDEX"
ENV_MODEL = "NEWSBOT_MODEL"
ENV_READER = "NEWSBOT_READER"
ENV_READER_MODEL = "NEWSBOT_READER_MODEL"
ENV_BACKEND = "NEWSBOT_BACKEND"
ENV_CACHE = "NEWSBOT_CACHE"
ENV_DATABASE_URL = "NEWSBOT_DATABASE_URL"
ENV_FEEDS = "NEWSBOT_FEEDS"
ENV_FEEDS_DIR = "NEWSBOT_FEEDS_DIR"
ENV_EVERY = "NEWSBOT_EVERY"
DEFAULT_EVERY = "15m"
#: the shortest refresh interval accepted (tests use seconds; publishers deserve minutes)
MIN_EVERY_SECONDS = 1.0


def store_location(database_url: str | None, index_dir: Path) -> Location:
    """Where the archive lives: a PostgreSQL URL when given, else the FAISS index folder."""
    from retrieval.store.location import Location, is_database_url

    if not database_url:
        return Location(folder=index_dir)
    url = database_url.strip()
    if not is_database_url(url):
        raise SettingsError(
            f"--store / {ENV_DATABASE_URL} must be a postgresql:// URL "
            "(e.g. postgresql://newsbot@db.example.org/newsbot); an index folder goes to --index"
        )
    return Location(url=url)


def feeds_dir(location: Location, override: Path | None = None) -> Path:
    """Where fetched feed entries and per-feed state live (see :meth:`Location.feeds_dir`)."""
    return override if override is not None else location.feeds_dir(cache_dir())


_EVERY = re.compile(r"\A\s*(\d+(?:\.\d+)?)\s*([smh])\s*\Z", re.I)


def parse_every(value: str) -> float:
    """``"15m"`` -> 900.0 seconds (units s, m, h)."""
    m = _EVERY.match(value or "")
    if not m:
        raise SettingsError(f"--every {value!r}: give a number with a unit, e.g. 30s, 15m or 1h")
    seconds = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2).lower()]
    if seconds < MIN_EVERY_SECONDS:
        raise SettingsError(f"--every {value!r}: at least {MIN_EVERY_SECONDS:g} s")
    return seconds


def reader_model() -> Path | None:
    """Another learned reader's folder (``NEWSBOT_READER_MODEL``), else None: the shipped one."""
    env = os.environ.get(ENV_READER_MODEL)
    return Path(env).expanduser() if env else None


def cache_dir() -> Path:
    """Where exported models are kept (``NEWSBOT_CACHE``, else ~/.cache/newsbot)."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot"


def offline_runtime() -> None:
    """No hub downloads, quiet third-party chatter. Called once by every command."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("httpx", "sentence_transformers", "transformers", "faiss", "bm25s", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="jieba")


# --------------------------------------------------------------------------- telegram

ENV_TELEGRAM_TOKEN = "TELEGRAM_BOT_TOKEN"
ENV_TELEGRAM_API_URL = "NEWSBOT_TELEGRAM_API_URL"
ENV_ALLOWED_IDS = "NEWSBOT_ALLOWED_IDS"
ENV_ADMIN_IDS = "NEWSBOT_ADMIN_IDS"
ENV_WEBHOOK_URL = "NEWSBOT_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "NEWSBOT_WEBHOOK_SECRET"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"

# "123456789:AAH..." — digits, a colon, then a long url-safe secret
_TOKEN = re.compile(r"\A\d{3,20}:[A-Za-z0-9_-]{30,100}\Z")
_SECRET = re.compile(r"\A[A-Za-z0-9_-]{1,256}\Z")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: Telegram posts updates to ``url`` with ``secret``; the bot listens on
    ``listen``:``port``."""

    url: str
    secret: str = field(repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the Telegram bot needs besides the archive."""

    token: str = field(repr=False)  # never printed, never logged
    api_url: str = DEFAULT_TELEGRAM_API_URL
    #: user and chat ids that may use the bot; empty: everyone
    allowed_ids: frozenset[int] = frozenset()
    #: user ids that may run /reindex (always allowed to use the bot)
    admin_ids: frozenset[int] = frozenset()
    #: article folders /reindex reads
    sources: tuple[Path, ...] = ()
    #: feeds file read by /reindex and by the background refresh, and where their entries live
    feeds: Path | None = None
    feeds_dir: Path | None = None
    #: seconds between background refreshes (None: only /reindex)
    every: float | None = None
    k: int = 3  # quotes per answer (and per /more page)
    #: per-user question budget: ``rate_calls`` questions per ``rate_seconds``
    rate_calls: int = 10
    rate_seconds: float = 60.0
    #: outgoing flood control (PTB AIORateLimiter): messages per second overall / per group per minute
    overall_max_rate: float = 30.0
    group_max_rate: float = 20.0
    #: retries of a request answered with 429 "retry after"
    max_retries: int = 3
    #: updates handled at the same time
    concurrent_updates: int = 64
    #: show "typing…" when an answer takes longer than this (seconds)
    typing_after: float = 0.4
    #: topic alerts: topics one chat may follow (0: alerts off), and the alerts one chat gets
    #: from one refresh round (the rest are counted in one line)
    max_follows: int = 20
    max_alerts_per_round: int = 20
    #: the UTC hour from which daily digests go out, and how often (seconds) that is checked
    digest_hour: int = 8
    digest_check_every: float = 300.0
    #: None: long polling
    webhook: Webhook | None = None

    @property
    def file_url(self) -> str:
        """The file download URL matching ``api_url`` (``…/bot`` → ``…/file/bot``)."""
        base = self.api_url
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base.rstrip("/") + "/file/bot"


def telegram_token(token_file: Path | None = None) -> str:
    """The bot token, from ``token_file`` or ``TELEGRAM_BOT_TOKEN``; checked, never echoed."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read the token file {token_file}: {exc}") from exc
        where = f"the token file {token_file}"
    else:
        token = os.environ.get(ENV_TELEGRAM_TOKEN, "").strip()
        where = ENV_TELEGRAM_TOKEN
        if not token:
            raise SettingsError(
                f"no bot token: create a bot with @BotFather, then `export {ENV_TELEGRAM_TOKEN}=...` "
                "(or pass --token-file FILE)"
            )
    if not _TOKEN.match(token):
        raise SettingsError(
            f"{where} does not hold a Telegram bot token (expected the form 123456789:AAH…, "
            "as @BotFather gives it)"
        )
    return token


def parse_ids(value: str | None, what: str) -> frozenset[int]:
    """``"123, -100456 789"`` → ids. Commas and/or spaces separate; groups are negative."""
    if not value:
        return frozenset()
    ids: set[int] = set()
    for item in re.split(r"[\s,;]+", value.strip()):
        if not item:
            continue
        try:
            ids.add(int(item))
        except ValueError:
            raise SettingsError(
                f"{what}: {item!r} is not a numeric Telegram id (user ids are positive, "
                "group ids negative; ask @userinfobot for yours)"
            ) from None
    return frozenset(ids)


def api_url(value: str | None) -> str:
    """The Bot API base URL (``…/bot``, the token is appended to it)."""
    url = (value or DEFAULT_TELEGRAM_API_URL).strip()
    if not re.match(r"\Ahttps?://[^/\s]+", url):
        raise SettingsError(f"API URL {url!r} must start with http:// or https://")
    return url


def webhook_secret(value: str | None) -> str:
    """The secret Telegram sends with every webhook call; generated when not given."""
    if not value:
        import secrets

        return secrets.token_urlsafe(32)
    if not _SECRET.match(value):
        raise SettingsError("webhook secret: 1-256 characters from A-Z, a-z, 0-9, _ and - only")
    return value
