"""News feeds: the list of feeds to follow, and one polling round over them.

    feeds = read_feed_list(Path("feeds.txt"))      # or an OPML export
    report = poll_feeds(feeds, Path("index/feeds"))
    load_articles([Path("index/feeds/articles")])  # the stored entries, as articles

``poll_feeds`` is synchronous and uses threads only (no event loop), so it can be called
from a worker thread, or with ``asyncio.to_thread`` from a program whose main thread runs
an event loop. One round: every feed that is due is fetched with a conditional GET; new
and changed entries are stored as article files; entries that carry only a summary get
their linked page fetched and extracted; failures back off per feed. See ``feed_state``
for what is stored where, ``net_guard`` for which links may be fetched.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from retrieval.ingest.articles import ArticleError, html_to_text
from retrieval.ingest.feed_list import FeedList, FeedListProblem, FeedSource
from retrieval.ingest.feed_state import FeedState, FeedStore, entry_key, same_record
from retrieval.ingest.net_guard import Origin, Refused, Resolver, origin_of
from retrieval.ingest.pages import MB, USER_AGENT, FetchError, FetchLimits, HostSlots, Page, fetch, fetch_page
from retrieval.urls import host_of

if TYPE_CHECKING:
    import httpx

Status = Literal["fetched", "not_modified", "failed", "paused", "skipped_backoff", "refused"]
_TEASER_END = re.compile(
    r"(…|\.\.\.|\[…]|\[\.\.\.]|\(more\)|\[more]|read more|continue reading|read the (?:full|rest)\b.*"
    r"|more\s*(?:»|›|>>))\W*\Z",
    re.I,
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PollLimits:
    """Limits of a round. Times in seconds, sizes in bytes."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # one fetch, redirects and body included
    max_redirects: int = 5
    feed_max_bytes: int = 10 * MB
    page_max_bytes: int = 5 * MB
    per_host: int = 2  # requests in flight to one host name
    workers: int = 8  # requests in flight overall (one thread per feed being polled)
    backoff_base: float = 300.0  # after n failures in a row: base * 2**(n-1) ...
    backoff_cap: float = 6 * 3600.0  # ... at most this
    pause_after: int = 8  # failures in a row that pause a feed ...
    pause_for: float = 24 * 3600.0  # ... for this long
    retry_after_cap: float = 7 * 86400.0  # a longer Retry-After is cut to this
    full_text_chars: int = 400  # feed text shorter than this is a summary: fetch the page
    pages_per_feed: int = 50  # page requests per feed per round
    #: a page that failed is asked again after these waits, then given up
    page_retries: tuple[float, ...] = (3600.0, 4 * 3600.0, 86400.0)
    user_agent: str = USER_AGENT

    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_redirects=self.max_redirects,
            user_agent=self.user_agent,
        )


@dataclass(frozen=True)
class SummaryOnly:
    """An entry stored with the feed's summary only, and why its page was not used."""

    id: str
    url: str
    reason: str


@dataclass(frozen=True)
class RefusedLink:
    """An entry's link that was not fetched: refused by the guard, or its host unknown."""

    url: str
    reason: str  # "cannot resolve HOST: …" for a DNS failure
    entry: str = ""  # the entry's title (else its id)


@dataclass(frozen=True)
class FeedOutcome:
    """What happened to one feed in a round.

    ``status``: ``fetched`` (200, entries processed), ``not_modified`` (304),
    ``failed`` (``reason``; next attempt ``until``), ``refused`` (the guard refused the
    feed's redirect), ``paused`` (too many failures in a row; ``until``),
    ``skipped_backoff`` (not due before ``until``, after a failure or a Retry-After).
    ``paused`` is True when this round's failure paused the feed. A ``fetched`` feed has
    a ``reason`` when its XML was broken and read leniently.
    """

    url: str
    status: Status
    reason: str = ""
    until: datetime | None = None
    paused: bool = False
    errors: int = 0  # failures in a row, this round included
    title: str = ""
    http_status: int | None = None
    new: tuple[str, ...] = ()  # entry ids
    updated: tuple[str, ...] = ()
    unchanged: int = 0
    pages_fetched: int = 0  # page requests made
    summary_only: tuple[SummaryOnly, ...] = ()
    #: stored entries whose page was asked again: now in full (their ids are in ``updated``),
    #: or still the summary (in ``summary_only``, the reason saying when it is given up)
    pages_retried: int = 0
    refused_links: tuple[RefusedLink, ...] = ()
    skipped_entries: tuple[str, ...] = ()  # entries with no text at all, by link or title

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(self)


@dataclass(frozen=True)
class PollReport:
    """One round: an outcome per feed (in list order) and the unusable feed-list lines."""

    feeds: tuple[FeedOutcome, ...]
    bad_lines: tuple[FeedListProblem, ...]
    started: datetime
    finished: datetime

    @property
    def new(self) -> tuple[str, ...]:
        return tuple(i for f in self.feeds for i in f.new)

    @property
    def updated(self) -> tuple[str, ...]:
        return tuple(i for f in self.feeds for i in f.updated)

    @property
    def pages_fetched(self) -> int:
        return sum(f.pages_fetched for f in self.feeds)

    @property
    def summary_only(self) -> tuple[SummaryOnly, ...]:
        return tuple(s for f in self.feeds for s in f.summary_only)

    def by_status(self, status: Status) -> tuple[FeedOutcome, ...]:
        return tuple(f for f in self.feeds if f.status == status)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.feeds:
            out[f.status] += 1
        return dict(out)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (ISO times), for ``--json``."""
        return {
            **_jsonable(self),
            "totals": {
                "feeds": len(self.feeds),
                **self.counts(),
                "new": len(self.new),
                "updated": len(self.updated),
                "pages_fetched": self.pages_fetched,
                "pages_retried": sum(f.pages_retried for f in self.feeds),
                "summary_only": len(self.summary_only),
                "bad_lines": len(self.bad_lines),
            },
        }


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------- a round


def poll_feeds(
    sources: FeedList | Iterable[FeedSource | str],
    state_dir: Path,
    *,
    client_factory: Callable[[], httpx.Client] | None = None,
    now: datetime | Callable[[], datetime] | None = None,
    limits: PollLimits = PollLimits(),
    resolve: Resolver | None = None,
    lock_timeout: float = 0.0,
) -> PollReport:
    """Poll every due feed once and store what is new; see the module docstring.

    ``client_factory`` makes the ``httpx.Client`` of the round (closed at its end);
    timeouts, headers and redirects are set per request, so any client works (e.g. one
    with ``httpx.MockTransport``). ``now`` is a fixed time or a clock (default: UTC now).
    ``resolve`` replaces ``socket.getaddrinfo`` for the link guard. Raises
    ``feed_state.StateLocked`` when another poll holds ``state_dir`` for longer than
    ``lock_timeout`` seconds. Network and feed errors never raise: they are outcomes.
    """
    if isinstance(sources, FeedList):
        feed_list = replace(_as_list(sources.sources), problems=sources.problems)
    else:
        feed_list = _as_list(sources)
    clock = _clock(now)
    store = FeedStore(Path(state_dir))
    with store.lock(lock_timeout):
        store.sweep()  # what a poller killed mid-write left behind
        started = clock()
        client = (client_factory or _default_client(limits))()
        try:
            run = _Round(store, client, clock, limits, resolve)
            outcomes = run.all(feed_list.sources)
        finally:
            client.close()
    return PollReport(tuple(outcomes), feed_list.problems, started, clock())


def _as_list(sources: Iterable[FeedSource | str]) -> FeedList:
    seen: set[str] = set()
    unique = []
    for s in sources:
        source = s if isinstance(s, FeedSource) else FeedSource(str(s))
        if source.url not in seen:
            seen.add(source.url)
            unique.append(source)
    return FeedList(tuple(unique))


def _clock(now: datetime | Callable[[], datetime] | None) -> Callable[[], datetime]:
    def aware(t: datetime) -> datetime:
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    if now is None:
        return lambda: datetime.now(UTC)
    if isinstance(now, datetime):
        fixed = aware(now)
        return lambda: fixed
    return lambda: aware(now())


def _default_client(limits: PollLimits) -> Callable[[], httpx.Client]:
    def make() -> httpx.Client:
        import httpx

        return httpx.Client(
            trust_env=False,  # no proxy or .netrc from the environment: pass a client for those
            headers={"User-Agent": limits.user_agent},
            limits=httpx.Limits(max_connections=limits.workers, max_keepalive_connections=limits.workers),
        )

    return make


class _Round:
    def __init__(
        self,
        store: FeedStore,
        client: httpx.Client,
        clock: Callable[[], datetime],
        limits: PollLimits,
        resolve: Resolver | None,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.limits = limits
        self.fetch_limits = limits.fetch_limits()
        self.resolve = resolve
        self.slots = HostSlots(limits.per_host)

    def all(self, sources: tuple[FeedSource, ...]) -> list[FeedOutcome]:
        if not sources:
            return []
        results: dict[str, FeedOutcome] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.limits.workers, len(sources)))) as pool:
            futures = {pool.submit(self.one, s): s.url for s in _interleave_hosts(sources)}
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return [results[s.url] for s in sources]

    # ------------------------------------------------------------------ one feed

    def one(self, source: FeedSource) -> FeedOutcome:
        state = self.store.load(source.url)
        t = self.clock()
        if state.paused_until and t < state.paused_until:
            return FeedOutcome(
                source.url,
                "paused",
                state.last_error,
                state.paused_until,
                errors=state.errors,
                title=state.title,
            )
        if state.next_attempt and t < state.next_attempt:
            return FeedOutcome(
                source.url,
                "skipped_backoff",
                state.last_error,
                state.next_attempt,
                errors=state.errors,
                title=state.title,
            )
        try:
            trusted = origin_of(source.url)
            got = fetch(
                self.client,
                source.url,
                max_bytes=self.limits.feed_max_bytes,
                limits=self.fetch_limits,
                trusted=trusted,
                headers=_conditional(state),
                slots=self.slots,
                resolve=self.resolve,
            )
        except Refused as exc:
            return self._failed(state, t, "refused", str(exc))
        except FetchError as exc:
            retry = exc.retry_after if exc.status in (429, 503) else None
            return self._failed(state, t, "failed", str(exc), exc.status, retry)
        if got.status == 304:
            fresh = replace(
                state,
                etag=got.headers.get("etag") or state.etag,
                last_modified=got.headers.get("last-modified") or state.last_modified,
                **_success_fields(t),
            )
            pending = dict(state.pages_pending)
            retried = self._retry_pages(source, trusted, pending, t, self.limits.pages_per_feed)
            fresh = replace(fresh, pages_pending=pending)
            if _changed_beyond_times(state, fresh):
                self.store.save(fresh)  # a plain 304 writes nothing at all
            return replace(retried, url=source.url, status="not_modified", title=state.title, http_status=304)
        try:
            parsed = _parse_feed(got.body, got.url, got.headers.get("content-type", ""))
        except _NotAFeed as exc:
            return self._failed(state, t, "failed", str(exc), got.status)
        pending = dict(state.pages_pending)
        outcome = self._entries(source, trusted, parsed, t, pending)
        retried = self._retry_pages(
            source, trusted, pending, t, self.limits.pages_per_feed - outcome.pages_fetched
        )
        outcome = _merged(outcome, retried)
        state = replace(
            state,
            pages_pending=pending,
            title=outcome.title,
            etag=got.headers.get("etag"),
            last_modified=got.headers.get("last-modified"),
            final_url=got.url,
            entries_seen=state.entries_seen + len(outcome.new),
            **_success_fields(t),
        )
        self.store.save(state)  # last: a poller killed before this refetches, deduplicated
        return replace(outcome, http_status=got.status, reason=_leniency_note(parsed))

    def _failed(
        self,
        state: FeedState,
        t: datetime,
        status: Status,
        reason: str,
        http_status: int | None = None,
        retry_after: str | None = None,
    ) -> FeedOutcome:
        lim = self.limits
        errors = state.errors + 1
        wait = timedelta(seconds=min(lim.backoff_base * 2 ** (errors - 1), lim.backoff_cap))
        next_attempt = t + wait
        asked = retry_after_time(retry_after, t, timedelta(seconds=lim.retry_after_cap))
        if asked and asked > next_attempt:
            next_attempt = asked
        paused_until = t + timedelta(seconds=lim.pause_for) if errors >= lim.pause_after else None
        if paused_until:
            reason = f"{reason} ({errors} failures in a row: paused until {paused_until.isoformat()})"
            next_attempt = max(next_attempt, paused_until)
        self.store.save(
            replace(
                state,
                last_attempt=t,
                errors=errors,
                last_error=reason,
                next_attempt=next_attempt,
                paused_until=paused_until,
            )
        )
        return FeedOutcome(
            state.url,
            status,
            reason,
            paused_until or next_attempt,
            paused=paused_until is not None,
            errors=errors,
            title=state.title,
            http_status=http_status,
        )

    # ------------------------------------------------------------------ entries

    def _entries(
        self, source: FeedSource, trusted: Origin, parsed: Any, t: datetime, pending: dict[str, str]
    ) -> FeedOutcome:
        """New and changed entries stored; ``pending`` (entry key -> next page try) updated."""
        feed_title = _clean(parsed.feed.get("title")) if parsed.get("feed") else ""
        outlet = feed_title or source.title or host_of(source.url)
        new: list[str] = []
        updated: list[str] = []
        unchanged = 0
        summary_only: list[SummaryOnly] = []
        refused: list[RefusedLink] = []
        skipped: list[str] = []
        pages = 0
        done: set[str] = set()
        for entry in parsed.entries:
            item = _Entry.of(entry, source.url)
            if item.identity in done:
                continue
            done.add(item.identity)
            key = entry_key(item.identity)
            old = self.store.read_entry(source.url, key)
            if old is not None and old.get("feed_hash") == item.feed_hash:
                unchanged += 1  # stored and unchanged in the feed: no page, no write
                if isinstance(old.get("page_retry"), str):
                    pending.setdefault(key, old["page_retry"])  # (a round killed before its state was saved)
                continue
            page: Page | None = None
            why = ""
            if item.is_full_text(self.limits.full_text_chars):
                pass
            elif not item.link:
                why = "the entry has no link to its page"
            elif pages >= self.limits.pages_per_feed:
                why, asked = _LIMIT_REACHED.format(self.limits.pages_per_feed), False
            else:
                page, why, asked = self._page(item.link, item.text, trusted)
                pages += asked
                if _refused(why):
                    refused.append(RefusedLink(item.link, _refused(why), item.title or item.id))
            record = item.record(outlet, page, why, t)
            if record is None:
                skipped.append(item.link or item.title or item.identity)
                continue
            pending.pop(key, None)
            if why:
                if _retryable(why):
                    record["summary_reason"] = why = self._schedule(record, why, 0, t, key, pending)
                summary_only.append(SummaryOnly(record["id"], item.link, why))
            if old is not None and same_record(old, record):
                unchanged += 1
                record["fetched"] = old.get("fetched", record["fetched"])
                self.store.write_entry(source.url, key, record)  # keeps the new feed_hash only
                continue
            self.store.write_entry(source.url, key, record)
            (updated if old is not None else new).append(record["id"])
        return FeedOutcome(
            source.url,
            "fetched",
            title=feed_title or source.title,
            new=tuple(new),
            updated=tuple(updated),
            unchanged=unchanged,
            pages_fetched=pages,
            summary_only=tuple(summary_only),
            refused_links=tuple(refused),
            skipped_entries=tuple(skipped),
        )

    def _schedule(
        self,
        record: dict[str, Any],
        why: str,
        tries: int,
        t: datetime,
        key: str,
        pending: dict[str, str],
    ) -> str:
        """Set when ``record``'s page is asked again (in ``record`` and ``pending``); the
        reason to store, which says so when the page is given up. A page left over by the
        round's limit is not a try: it is asked in the next round."""
        asked = not why.startswith(_LIMIT_PREFIX)
        tries += asked
        waits = self.limits.page_retries
        record.pop("page_retry", None)
        record["page_tries"] = tries
        if tries > len(waits):
            pending.pop(key, None)
            return f"{why} (given up after {tries} tries)"
        when = (t + timedelta(seconds=waits[tries - 1]) if asked else t).isoformat()
        record["page_retry"] = pending[key] = when
        return why

    def _retry_pages(
        self, source: FeedSource, trusted: Origin, pending: dict[str, str], t: datetime, budget: int
    ) -> FeedOutcome:
        """Ask again the pages that are due (the longest waiting first), within ``budget``
        requests; an entry whose page now works is stored in full."""
        due = sorted((when, key) for key, when in pending.items() if _not_after(when, t))
        updated: list[str] = []
        summary_only: list[SummaryOnly] = []
        refused: list[RefusedLink] = []
        asked_total = retried = 0
        for _, key in due:
            if retried >= budget:  # a try costs a request, or a DNS lookup that failed
                break
            old = self.store.read_entry(source.url, key)
            if old is None or old.get("summary_only") is not True or not isinstance(old.get("url"), str):
                pending.pop(key, None)
                continue
            page, why, asked = self._page(old["url"], str(old.get("text") or ""), trusted)
            asked_total += asked
            retried += 1
            record = dict(old)
            if page is not None:
                pending.pop(key, None)
                _in_full(record, page)
                self.store.write_entry(source.url, key, record)
                updated.append(str(record.get("id")))
                continue
            if _refused(why):
                refused.append(RefusedLink(old["url"], _refused(why), str(old.get("title") or old.get("id"))))
            tries = old["page_tries"] if isinstance(old.get("page_tries"), int) else 0
            if _retryable(why):
                why = self._schedule(record, why, tries, t, key, pending)
            else:
                pending.pop(key, None)
                record.pop("page_retry", None)
            record["summary_reason"] = why
            self.store.write_entry(source.url, key, record)
            summary_only.append(SummaryOnly(str(record.get("id")), old["url"], why))
        return FeedOutcome(
            source.url,
            "fetched",
            updated=tuple(updated),
            pages_fetched=asked_total,
            summary_only=tuple(summary_only),
            refused_links=tuple(refused),
            pages_retried=retried,
        )

    def _page(self, link: str, feed_text: str, trusted: Origin) -> tuple[Page | None, str, bool]:
        """The entry's page, or why not; and whether a request was made."""
        try:
            page = fetch_page(
                self.client,
                link,
                max_bytes=self.limits.page_max_bytes,
                limits=self.fetch_limits,
                trusted=trusted,
                slots=self.slots,
                resolve=self.resolve,
            )
        except Refused as exc:  # a DNS failure may pass: asked again like a failed page
            unknown = str(exc).startswith("cannot resolve ")
            return None, f"page: {exc}" if unknown else f"link refused: {exc}", False
        except (FetchError, ArticleError) as exc:
            return None, f"page: {exc}", True
        if len(page.extracted.text) <= len(feed_text):
            return None, "the page's text is no longer than the feed's", True
        return page, "", True


_LIMIT_PREFIX = "page limit of this round reached"
_LIMIT_REACHED = _LIMIT_PREFIX + " ({} per feed)"


def _refused(why: str) -> str:
    """The guard's reason when a page was not asked for (refused, or its host unknown)."""
    if why.startswith("link refused: "):
        return why.removeprefix("link refused: ")
    return why.removeprefix("page: ") if why.startswith("page: cannot resolve ") else ""


def _retryable(why: str) -> bool:
    """Whether a page that could not be had may be had later (not for a refused link)."""
    return why.startswith(("page: ", _LIMIT_PREFIX))


def _not_after(when: str, t: datetime) -> bool:
    try:
        return datetime.fromisoformat(when) <= t
    except (TypeError, ValueError):
        return True  # unreadable: ask now


def _in_full(record: dict[str, Any], page: Page) -> None:
    """A stored summary-only record, now with its page's text."""
    meta = page.extracted
    record["text"] = meta.text
    for key, value in (("title", meta.title), ("published", meta.date), ("author", meta.author)):
        record[key] = record.get(key) or value
    record["source"] = record.get("source") or meta.sitename
    record["summary_only"] = False
    for key in ("summary_reason", "page_tries", "page_retry"):
        record.pop(key, None)
    if page.url != record.get("url"):
        record["page_url"] = page.url


def _merged(a: FeedOutcome, b: FeedOutcome) -> FeedOutcome:
    """A round's entries (``a``) and its asked-again pages (``b``) as one outcome."""
    return replace(
        a,
        updated=a.updated + tuple(i for i in b.updated if i not in a.updated),
        pages_fetched=a.pages_fetched + b.pages_fetched,
        summary_only=a.summary_only + b.summary_only,
        refused_links=a.refused_links + b.refused_links,
        pages_retried=b.pages_retried,
    )


def _success_fields(t: datetime) -> dict[str, Any]:
    return {
        "last_attempt": t,
        "last_success": t,
        "errors": 0,
        "last_error": "",
        "next_attempt": None,
        "paused_until": None,
    }


def _changed_beyond_times(old: FeedState, new: FeedState) -> bool:
    times: dict[str, Any] = {"last_attempt": None, "last_success": None}
    return replace(old, **times) != replace(new, **times)


def _conditional(state: FeedState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag  # exactly as received
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def retry_after_time(value: str | None, now: datetime, cap: timedelta) -> datetime | None:
    """When a ``Retry-After`` (seconds or an HTTP date) allows the next request."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        when = now + timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return min(when, now + cap)


def _interleave_hosts(sources: tuple[FeedSource, ...]) -> list[FeedSource]:
    """One feed per host in turn, so that threads do not all wait on one busy host."""
    by_host: dict[str, list[FeedSource]] = defaultdict(list)
    for s in sources:
        by_host[host_of(s.url)].append(s)
    queues = list(by_host.values())
    order: list[FeedSource] = []
    while queues:
        order.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return order


class _NotAFeed(Exception):
    pass


def _parse_feed(body: bytes, url: str, content_type: str) -> Any:
    import feedparser

    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        # a file object: feedparser opens a bytes or str argument as a path or URL if it can
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except Exception as exc:  # feedparser raises odd types on odd input
        raise _NotAFeed(f"unreadable feed: {type(exc).__name__}: {exc}") from exc
    usable = [
        e
        for e in parsed.entries
        if (e.get("link") or e.get("id")) and any(e.get(k) for k in ("title", "summary", "content"))
    ]
    if not usable and not parsed.get("version"):
        media = content_type.split(";", 1)[0].strip()
        raise _NotAFeed("not an RSS or Atom feed" + (f" (Content-Type {media})" if media else ""))
    if not usable and parsed.get("bozo"):
        raise _NotAFeed(f"malformed feed: {_bozo(parsed)}")
    return parsed


def _bozo(parsed: Any) -> str:
    return " ".join(str(parsed.get("bozo_exception") or "").split())[:200]


def _leniency_note(parsed: Any) -> str:
    """A note when feedparser had to recover: from broken XML, or from bytes that are not in
    the encoding the feed declares (read in the one they fit; its entries are kept)."""
    from xml.sax import SAXException

    from feedparser import CharacterEncodingOverride

    problem = parsed.get("bozo_exception")
    if isinstance(problem, SAXException):
        return f"malformed XML, read leniently: {_bozo(parsed)}"
    if isinstance(problem, CharacterEncodingOverride):
        return f"wrong encoding, read anyway: {_bozo(parsed)}"
    return ""


@dataclass(frozen=True)
class _Entry:
    """The parts of a feedparser entry the poller uses."""

    identity: str  # guid:…, link:… or hash:… — what deduplicates entries of a feed
    id: str
    title: str
    link: str
    text: str  # the feed's own text: its content, else its summary
    published: str
    author: str
    feed_hash: str
    feed_url: str

    @classmethod
    def of(cls, entry: Any, feed_url: str) -> _Entry:
        title = _clean(entry.get("title"))
        link = str(entry.get("link") or "").strip()
        contents = [c.get("value", "") for c in entry.get("content") or [] if isinstance(c, dict)]
        content = max((_text(v) for v in contents), key=len, default="")
        summary = _text(entry.get("summary") or "")
        text = content if len(content) >= len(summary) else summary
        guid = str(entry.get("id") or "").strip()
        published = _published(entry)
        author = _clean(entry.get("author"))
        if guid:
            identity = f"guid:{guid}"
            ident = guid if _global_id(guid) else f"{feed_url}#{guid}"
        elif link:
            identity, ident = f"link:{link}", link
        else:
            digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
            identity, ident = f"hash:{digest}", f"{feed_url}#{digest}"
        feed_hash = hashlib.sha256(
            json.dumps([title, link, contents, entry.get("summary"), published, author]).encode()
        ).hexdigest()
        return cls(identity, ident, title, link, text, published, author, feed_hash, feed_url)

    def is_full_text(self, min_chars: int) -> bool:
        return len(self.text) >= min_chars and not _TEASER_END.search(self.text[-80:])

    def record(self, outlet: str, page: Page | None, why: str, t: datetime) -> dict[str, Any] | None:
        meta = page.extracted if page else None
        text = meta.text if meta else self.text or self.title
        if not text.strip():
            return None
        record: dict[str, Any] = {
            "id": self.id,
            "title": self.title or (meta.title if meta else ""),
            "url": self.link,
            "source": outlet or (meta.sitename if meta else ""),
            "published": self.published or (meta.date if meta else ""),
            "author": self.author or (meta.author if meta else ""),
            "text": text,
            "feed": self.feed_url,
            "summary_only": bool(why),
        }
        if why:
            record["summary_reason"] = why
        if page and page.url != self.link:
            record["page_url"] = page.url
        record["fetched"] = t.isoformat()
        record["feed_hash"] = self.feed_hash
        return record


def _text(value: Any) -> str:
    return html_to_text(str(value)) if value else ""


def _clean(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def _global_id(guid: str) -> bool:
    return "://" in guid or guid.lower().startswith(("tag:", "urn:"))


def _published(entry: Any) -> str:
    raw = str(entry.get("published") or entry.get("updated") or "").strip()
    if raw:
        try:
            return parsedate_to_datetime(raw).isoformat()
        except (TypeError, ValueError, IndexError):
            pass
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).isoformat()
        except ValueError:
            pass
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        return datetime(*parsed[:6]).replace(tzinfo=UTC).isoformat()
    return raw
