"""One update round in words, for the terminal, the log and Telegram's /stats (plain text:
callers escape it for their medium)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.terminal import counted
from retrieval.ingest.feeds import FeedOutcome, RefusedLink
from retrieval.live.updates import UpdateReport

#: feed outcomes worth a line of their own, with the words used for them
_TROUBLE = {"failed": "failed", "refused": "refused", "paused": "paused", "skipped_backoff": "waiting"}


def round_line(result: UpdateReport) -> str:
    """``feeds: 3 fetched, 1 not modified, 1 failed, 0 paused · articles: 5 new, 1 updated, 0 removed · 4.2 s``"""
    parts = []
    if result.poll is not None:
        counts = result.poll.counts()
        waiting = counts.get("skipped_backoff", 0)
        feeds = (
            f"feeds: {counts.get('fetched', 0)} fetched, {counts.get('not_modified', 0)} not modified, "
            f"{counts.get('failed', 0) + counts.get('refused', 0)} failed, {counts.get('paused', 0)} paused"
        )
        parts.append(feeds + (f", {waiting} waiting" if waiting else ""))
    index = result.index
    parts.append(
        f"articles: {len(index.added)} new, {len(index.updated)} updated, {len(index.removed)} removed"
    )
    parts.append(f"{result.seconds:.1f} s")
    return " · ".join(parts)


def feed_problems(result: UpdateReport) -> Iterator[tuple[str, str]]:
    """(where, reason) for every bad feed-list line and every feed that did not simply work."""
    if result.poll is None:
        return
    for bad in result.poll.bad_lines:
        yield bad.where, bad.reason
    for feed in result.poll.feeds:
        if feed.status in _TROUBLE:
            until = f" (until {feed.until:%Y-%m-%d %H:%M} UTC)" if feed.until else ""
            yield feed.url, f"{_TROUBLE[feed.status]}: {feed.reason or 'see the log'}{until}"
        elif feed.reason:  # fetched, but its XML was broken and read leniently
            yield feed.url, feed.reason
        yield from _link_problems(feed)


def _link_problems(feed: FeedOutcome) -> Iterator[tuple[str, str]]:
    """One line per distinct problem of a feed's entry links: the feed, the first entry and
    its link, and how many more entries had it."""
    by_reason: dict[str, list[RefusedLink]] = {}
    for link in feed.refused_links:
        by_reason.setdefault(link.reason, []).append(link)
    for reason, links in by_reason.items():
        first = links[0]
        verb = "" if reason.startswith("cannot resolve ") else "refused: "
        more = f" (and {counted(len(links) - 1, 'more entry', 'more entries')})" if len(links) > 1 else ""
        yield feed.url, f"entry {first.entry!r} links to {first.url}: {verb}{reason}{more}"
