"""Fetching URLs within limits, and the article text of HTML pages.

``fetch`` is the one HTTP primitive of the feed poller: GET with a User-Agent, timeouts
(connect, read, and a total deadline per fetch), at most ``max_redirects`` redirects
followed by hand (each hop checked by ``net_guard``, loops detected), and a body streamed
and abandoned past ``max_bytes``. ``fetch_page`` adds the HTML check and extraction;
``extract_html`` is the extractor shared with ``articles._read_html``.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval.errors import ArticleError
from retrieval.ingest.net_guard import Origin, Resolver, check_url

if TYPE_CHECKING:  # httpx is imported when fetching: reading .html files does not need it
    import httpx

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot; feed reader)"
CHUNK = 64 * 1024  # what one network read brings at most (httpcore reads 64 KiB)
MB = 1024 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
LXML_CLEAN_HINT = "HTML extraction needs lxml_html_clean: pip install lxml_html_clean"
#: the encodings we decode ourselves, a piece at a time (so a bomb stops at the size limit)
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class FetchLimits:
    """Timeouts in seconds; ``total_timeout`` bounds one fetch, redirects included."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Fetched:
    """A 2xx or 304 answer. ``url`` is the final URL, after ``redirects``."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    redirects: tuple[str, ...] = ()


class FetchError(Exception):
    """A fetch that failed: network, timeout, HTTP status, size or content type."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        bytes_read: int = 0,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.bytes_read = bytes_read


@dataclass(frozen=True)
class Extracted:
    """Main text and metadata of an HTML page ("" where the page gives none)."""

    text: str
    title: str = ""
    date: str = ""
    author: str = ""
    sitename: str = ""
    language: str = ""
    url: str = ""


@dataclass(frozen=True)
class Page:
    url: str
    extracted: Extracted
    bytes_read: int


class HostSlots:
    """At most ``per_host`` requests in flight to one host name, across threads."""

    def __init__(self, per_host: int) -> None:
        self._per_host = max(1, per_host)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def hold(self, host: str) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with slot:
            yield


# --------------------------------------------------------------------------- extraction


def extract_html(html: str | bytes, *, url: str | None = None) -> Extracted:
    """Main text and metadata of a page (trafilatura); ArticleError when there is none."""
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    except ImportError as exc:
        raise ArticleError(_import_hint(exc)) from exc
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise ArticleError("HTML page with no article text")
    return Extracted(
        text=text,
        title=_str(getattr(doc, "title", None)),
        date=_str(getattr(doc, "date", None)),
        author=_str(getattr(doc, "author", None)),
        sitename=_str(getattr(doc, "sitename", None)),
        language=_str(getattr(doc, "language", None)),
        url=_str(getattr(doc, "url", None)),
    )


def _import_hint(exc: ImportError) -> str:
    missing = exc.name or ""
    if "lxml_html_clean" in str(exc) or missing in ("lxml_html_clean", "lxml.html.clean"):
        return LXML_CLEAN_HINT
    return f"HTML extraction cannot import {missing or exc}: reinstall newsbot (pip install .)"


def _str(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


# --------------------------------------------------------------------------- fetching


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    limits: FetchLimits = FetchLimits(),
    trusted: Origin | None = None,
    headers: Mapping[str, str] | None = None,
    accept_type: Callable[[str], str] | None = None,
    slots: HostSlots | None = None,
    resolve: Resolver | None = None,
) -> Fetched:
    """GET ``url`` within the limits.

    Every hop is checked with ``check_url(hop, trusted=trusted)`` before it is requested
    (raises ``Refused``). ``accept_type(content_type)`` returns a reason to refuse the body
    ("" to read it); a refused body is never read. Raises FetchError otherwise.
    """
    deadline = time.monotonic() + limits.total_timeout
    sent = {"User-Agent": limits.user_agent, "Accept-Encoding": ACCEPT_ENCODING, **(headers or {})}
    seen: list[str] = []
    current = url
    while True:
        origin = check_url(current, trusted=trusted, resolve=resolve)
        seen.append(current)
        with slots.hold(origin.host) if slots else _nothing():
            answer = _get(client, current, sent, deadline, limits, max_bytes, accept_type)
        if isinstance(answer, Fetched):
            return Fetched(answer.url, answer.status, answer.headers, answer.body, tuple(seen[:-1]))
        nxt = answer
        if nxt in seen:
            raise FetchError(f"redirect loop: {' -> '.join([*seen[seen.index(nxt) :], nxt])}")
        if len(seen) > limits.max_redirects:
            raise FetchError(f"more than {limits.max_redirects} redirects (last to {nxt})")
        current = nxt


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _get(
    client: httpx.Client,
    url: str,
    headers: Mapping[str, str],
    deadline: float,
    limits: FetchLimits,
    max_bytes: int,
    accept_type: Callable[[str], str] | None,
) -> Fetched | str:
    """One request: a Fetched answer, or the absolute URL a redirect points to."""
    import httpx

    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"timed out (over {limits.total_timeout:g} s in total)")
    timeout = httpx.Timeout(
        connect=min(limits.connect_timeout, left),
        read=min(limits.read_timeout, left),
        write=min(limits.read_timeout, left),
        pool=left,
    )
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=False) as resp:
            if resp.status_code in REDIRECT_STATUSES:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(
                        f"HTTP {resp.status_code} redirect without a Location", status=resp.status_code
                    )
                return str(resp.url.join(location))
            if resp.status_code == 304:
                return Fetched(str(resp.url), 304, resp.headers, b"")
            if not 200 <= resp.status_code < 300:
                raise FetchError(
                    f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                    status=resp.status_code,
                    retry_after=resp.headers.get("retry-after"),
                )
            ctype = resp.headers.get("content-type", "")
            why = accept_type(ctype) if accept_type else ""
            if why:
                raise FetchError(why, status=resp.status_code)
            body = _read_body(resp, max_bytes, deadline, limits)
            return Fetched(str(resp.url), resp.status_code, resp.headers, body)
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out ({_timeout_kind(exc)})") from exc
    except httpx.InvalidURL as exc:  # e.g. a Location header that is no URL
        raise FetchError(f"malformed URL: {_one_line(str(exc))}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{_error_kind(exc)}: {_one_line(str(exc)) or type(exc).__name__}") from exc


def _read_body(resp: httpx.Response, max_bytes: int, deadline: float, limits: FetchLimits) -> bytes:
    """The decoded body, read and decoded a piece at a time: whatever the stack of
    Content-Encodings, no more than ``max_bytes`` (plus one piece) is ever held."""
    announced = resp.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise FetchError(f"too large: {int(announced):,} bytes announced (limit {max_bytes:,})")
    chunks: list[bytes] = []
    size = 0
    if resp.is_stream_consumed:  # built in memory (httpx.MockTransport): read and decoded already
        pieces: Iterable[bytes] = resp.iter_bytes()
    else:
        pieces = decoded(resp.iter_raw(), resp.headers.get("content-encoding", ""))
    for chunk in pieces:  # as they arrive: a slow drip still meets the deadline
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(
                f"too large: over the {max_bytes:,}-byte limit (stopped after {size:,} bytes)",
                bytes_read=size,
            )
        if time.monotonic() > deadline:
            raise FetchError(f"timed out (over {limits.total_timeout:g} s in total)", bytes_read=size)
        chunks.append(chunk)
    return b"".join(chunks)


def decoded(raw: Iterable[bytes], content_encoding: str) -> Iterator[bytes]:
    """``raw`` with its Content-Encodings undone (the last applied first), in pieces of at
    most ``CHUNK`` bytes; FetchError for an encoding we did not ask for."""
    stream: Iterable[bytes] = raw
    names = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            stream = _inflate(stream, lambda: zlib.decompressobj(zlib.MAX_WBITS | 16))
        elif name == "deflate":
            stream = _inflate(stream, None)
        elif name != "identity":
            raise FetchError(f"unsupported Content-Encoding {name!r} (asked for {ACCEPT_ENCODING})")
    for piece in stream:
        for start in range(0, len(piece), CHUNK):
            yield piece[start : start + CHUNK]


def _inflate(pieces: Iterable[bytes], make: Callable[[], Any] | None) -> Iterator[bytes]:
    """One gzip or deflate layer undone, never more than ``CHUNK`` bytes out at a time.
    ``make`` None: deflate, with a zlib header or (as some servers send it) without."""
    inflater = make() if make else None
    head = b""
    for piece in pieces:
        if inflater is None:  # deflate: its first two bytes tell which kind
            head += piece
            if len(head) < 2:
                continue
            zlib_header = head[0] & 0x0F == 8 and (head[0] * 256 + head[1]) % 31 == 0
            inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            piece, head = head, b""
        data = piece
        while not inflater.eof:
            try:
                out = inflater.decompress(data, CHUNK)
            except zlib.error as exc:
                raise FetchError(f"broken compressed body: {exc}") from exc
            if out:
                yield out
            data = inflater.unconsumed_tail
            if not data and len(out) < CHUNK:
                break
        if inflater.eof:
            return
    if inflater is None and head:
        raise FetchError("broken compressed body: one byte of deflate data")


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connecting"
    if isinstance(exc, httpx.ReadTimeout):
        return "waiting for the server"
    return type(exc).__name__


def _error_kind(exc: httpx.HTTPError) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "broken HTTP answer"
    return "network error"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


# --------------------------------------------------------------------------- pages


def html_type_problem(content_type: str) -> str:
    """ "" when a Content-Type may hold an HTML page (or is missing), else the reason."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media or media in HTML_TYPES:
        return ""
    return f"not an HTML page ({media})"


def fetch_page(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int = 5 * MB,
    limits: FetchLimits = FetchLimits(),
    trusted: Origin | None = None,
    slots: HostSlots | None = None,
    resolve: Resolver | None = None,
) -> Page:
    """Fetch an article page and extract it.

    Raises ``Refused`` (a link the guard refuses), ``FetchError`` (network, status, size,
    not HTML) or ``ArticleError`` (no article text, extractor missing).
    """
    got = fetch(
        client,
        url,
        max_bytes=max_bytes,
        limits=limits,
        trusted=trusted,
        accept_type=html_type_problem,
        slots=slots,
        resolve=resolve,
    )
    body = got.body
    if b"\x00" in body[:1024] or body.startswith(b"%PDF"):
        raise FetchError("not an HTML page (binary content)")
    charset = _charset(got.headers.get("content-type", ""))
    html: str | bytes = body
    if charset:
        try:
            html = body.decode(charset, errors="replace")
        except LookupError:
            html = body
    return Page(got.url, extract_html(html, url=got.url), len(body))


def _charset(content_type: str) -> str:
    m = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.I)
    return m.group(1) if m else ""
