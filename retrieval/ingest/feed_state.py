"""What the feed poller keeps between rounds, under one folder (``state_dir``).

    state_dir/
      poll.lock                           held (fcntl.flock) for a whole round
      state/<feed-key>.json               one FeedState per feed
      articles/<feed-key>/<entry-key>.json  one article record per entry

``articles/`` is what the indexer reads (``load_articles([state_dir / "articles"])``):
one JSON object per entry with the fields the JSON reader takes (``id``, ``title``,
``url``, ``source``, ``published``, ``author``, ``text``) and a few it ignores (``feed``,
``summary_only``, ``summary_reason``, ``fetched``, ``feed_hash``, ``page_url``, and for a
page to be asked again ``page_tries`` and ``page_retry``).

One small state file per feed rather than one ``feeds.json`` or SQLite: saving a feed
after its fetch is one atomic rename whatever the number of feeds, a killed poller leaves
every file whole, and ``cat`` shows why a feed is paused. Every file is written to a
hidden temporary file, fsynced and renamed over the old one; readers skip hidden files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from retrieval.durable import write_atomic

STATE_VERSION = 1
#: record fields that do not make an entry "updated"
_COMPARED_AWAY = ("fetched", "feed_hash", "page_tries", "page_retry")


class StateLocked(Exception):
    """Another poller holds the state folder's lock."""


@dataclass(frozen=True)
class FeedState:
    """Per-feed memory. Times are timezone-aware; ``errors`` counts failures in a row."""

    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    final_url: str = ""  # where the last successful fetch ended, after redirects
    # the last request that changed this state: a plain 304 writes nothing, so it is not counted
    last_attempt: datetime | None = None
    last_success: datetime | None = None  # the last 200, or the 304 that ended a run of failures
    errors: int = 0
    last_error: str = ""
    next_attempt: datetime | None = None  # back-off or Retry-After: not asked before
    paused_until: datetime | None = None
    entries_seen: int = 0  # distinct entries stored so far
    #: entries stored as their summary whose page is to be asked again: entry key -> not before (ISO)
    pages_pending: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        return {"version": STATE_VERSION, **out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeedState:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in _TIME_FIELDS and isinstance(value, str):
                value = datetime.fromisoformat(value)
            if key == "pages_pending" and not isinstance(value, dict):
                continue
            values[key] = value
        return cls(**values)


_TIME_FIELDS = {"last_attempt", "last_success", "next_attempt", "paused_until"}


def feed_key(url: str) -> str:
    """A folder name for a feed URL: readable, short, and unique (a hash of the URL)."""
    bare = re.sub(r"^[a-z]+://", "", url.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", bare).strip("-")[:48].strip("-")
    return f"{slug or 'feed'}-{_digest(url)[:10]}"


def entry_key(identity: str) -> str:
    """A file name for an entry's identity (its guid, link or content hash)."""
    return _digest(identity)[:24]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def same_record(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two records of one entry hold the same article (fetch time aside)."""

    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in _COMPARED_AWAY}

    return strip(old) == strip(new)


class FeedStore:
    """The files of one state folder. Callers hold ``lock()`` while writing."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir)
        self.articles_dir = self.root / "articles"
        self.state_dir = self.root / "state"

    @contextmanager
    def lock(self, timeout: float = 0.0) -> Iterator[None]:
        """Exclusive for the round; waits up to ``timeout`` s, then raises StateLocked."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "poll.lock"
        with open(path, "a+b") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StateLocked(f"another feed poll holds {path}") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def sweep(self) -> int:
        """Remove the temporary files a killed poller left (``.<name>.<pid>.<token>.tmp``);
        call it holding ``lock()``, when no write is under way. Returns how many."""
        found = [*self.state_dir.glob(".*.tmp"), *self.articles_dir.glob("*/.*.tmp")]
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)

    # ------------------------------------------------------------------ feed state

    def load(self, url: str) -> FeedState:
        """The feed's saved state; a fresh one when none (or an unreadable one) is saved."""
        data = _read_json(self.state_dir / f"{feed_key(url)}.json")
        if not data or data.get("url") != url:
            return FeedState(url)
        try:
            return FeedState.from_json(data)
        except (TypeError, ValueError):
            return FeedState(url)

    def save(self, state: FeedState) -> None:
        write_json_atomic(self.state_dir / f"{feed_key(state.url)}.json", state.to_json())

    def states(self) -> list[FeedState]:
        """Every saved feed state (feeds no longer listed included), sorted by URL."""
        found = []
        for path in sorted(self.state_dir.glob("*.json")):
            data = _read_json(path)
            if data and isinstance(data.get("url"), str):
                try:
                    found.append(FeedState.from_json(data))
                except (TypeError, ValueError):
                    continue
        return sorted(found, key=lambda s: s.url)

    # ------------------------------------------------------------------ entries

    def entry_path(self, feed_url: str, key: str) -> Path:
        return self.articles_dir / feed_key(feed_url) / f"{key}.json"

    def read_entry(self, feed_url: str, key: str) -> dict[str, Any] | None:
        return _read_json(self.entry_path(feed_url, key))

    def write_entry(self, feed_url: str, key: str, record: dict[str, Any]) -> None:
        write_json_atomic(self.entry_path(feed_url, key), record)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that the file is either the old or the new one, never half of one."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
