"""An archive kept in step while an interface runs: one round on demand, or a thread that
runs one every so often (the console; the Telegram bot uses PTB's job queue instead)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from retrieval.archive import Archive
from retrieval.live.updates import UpdateReport

log = logging.getLogger("newsbot.live")


def update_archive(
    old: Archive, sources: Sequence[Path], feeds_file: Path | None, feeds_dir: Path | None
) -> tuple[UpdateReport, Archive]:
    """One round over ``old``'s store (same model, same chunking), and the archive that
    reads the result. The feeds file is read again each round, so edits to it apply."""
    from retrieval.ingest.feed_list import read_feed_list
    from retrieval.live.updates import update

    feeds = read_feed_list(feeds_file) if feeds_file is not None else None
    result = update(old.store, list(sources), feeds, feeds_dir, old.embedder, feeds_file=feeds_file)
    return result, old.reopened()


class BackgroundRefresh:
    """Runs :func:`update_archive` every ``every`` seconds in a daemon thread; the caller
    :meth:`take` s each finished round (and the archive to swap in) when it is ready for it."""

    def __init__(
        self,
        archive: Archive,
        sources: Sequence[Path],
        feeds_file: Path | None,
        feeds_dir: Path | None,
        every: float,
        first: float | None = None,
    ) -> None:
        """``first``: seconds before the first round (default: ``every``)."""
        self._archive = archive
        self._first = every if first is None else first
        self._args = (list(sources), feeds_file, feeds_dir)
        self._every = every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ready: list[tuple[UpdateReport, Archive]] = []
        self._failures: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="newsbot-refresh", daemon=True)

    def start(self) -> BackgroundRefresh:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)  # a round under way finishes on its own (daemon)

    def take(self) -> tuple[list[UpdateReport], Archive | None, list[str]]:
        """The rounds finished since the last call, the newest archive (None: no change),
        and the failures since then, in one line each."""
        with self._lock:
            ready, self._ready = self._ready, []
            failures, self._failures = self._failures, []
        return [r for r, _ in ready], (ready[-1][1] if ready else None), failures

    def _loop(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            wait = self._every
            try:
                result, archive = update_archive(self._archive, *self._args)
            except Exception as exc:
                log.warning("background refresh failed", exc_info=True)
                with self._lock:
                    self._failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
                continue
            self._archive = archive
            with self._lock:
                self._ready.append((result, archive))
