"""One update round of a live archive: poll the feeds, then bring the store in step.

The feed poller (:mod:`retrieval.ingest.feeds`) keeps every entry as an article file under
``state_dir/articles``; that folder is then one more source of :func:`retrieval.ingest.indexer.refresh`,
so re-indexing needs no network and ``--full`` rebuilds from what was fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrieval.embedding import Embedder
from retrieval.ingest.feed_list import FeedList
from retrieval.ingest.feeds import PollReport, poll_feeds
from retrieval.ingest.indexer import IndexReport, refresh
from retrieval.store import Location, VectorStore

ARTICLES = "articles"


@dataclass(frozen=True)
class UpdateReport:
    """What one round did: the feeds polled (None without feeds) and the refresh."""

    poll: PollReport | None
    index: IndexReport
    started: datetime
    finished: datetime

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "feeds": self.poll.as_dict() if self.poll is not None else None,
            "index": self.index.as_dict(),
        }


def update(
    location: Location | Path | str | VectorStore,
    sources: Sequence[Path],
    feeds: FeedList | None = None,
    state_dir: Path | None = None,
    model: Embedder | str | None = None,
    *,
    poll: Callable[..., PollReport] = poll_feeds,
    feeds_file: Path | None = None,
    **refresh_options: Any,
) -> UpdateReport:
    """Poll ``feeds`` (their state and entries kept in ``state_dir``), then refresh the store
    at ``location`` from ``sources`` plus the stored entries (the archive remembers that
    folder as filled from ``feeds_file``). Raises ``feed_state.StateLocked`` when another
    round holds ``state_dir``."""
    started = datetime.now(UTC)
    report = None
    folders = list(sources)
    if feeds is not None:
        if state_dir is None:
            raise ValueError("feeds need a state folder")
        report = poll(feeds, state_dir)
        entries = state_dir / ARTICLES
        entries.mkdir(parents=True, exist_ok=True)
        folders.append(entries)
        if feeds_file is not None:
            refresh_options["feeds"] = {entries: feeds_file}
    index = refresh(location, folders, model, **refresh_options)
    return UpdateReport(report, index, started, datetime.now(UTC))
