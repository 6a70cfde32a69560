"""A local feed server for the feed tests: 127.0.0.1, an ephemeral port, one thread per request.

It serves RSS 2.0 and Atom feeds that tests change between rounds (with ETag and
Last-Modified, answering 304 to a matching conditional request), HTML pages, raw bodies
(malformed XML, PDF bytes), redirects, errors, a 429 with Retry-After, slow answers, a large
page generated while it is sent, and a gate that holds a request until the test releases it.
It counts requests, conditional requests, 304s and bytes sent per path, and the most
requests in flight at once.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

HOST = "127.0.0.1"
BASE_TIME = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class Entry:
    guid: str | None
    title: str
    link: str | None
    summary: str = ""
    content: str | None = None  # content:encoded / atom content (HTML)
    published: datetime | None = None
    author: str = ""


@dataclass
class Feed:
    kind: str  # "rss" or "atom"
    title: str
    link: str
    entries: list[Entry] = field(default_factory=list)
    etag: bool = True
    last_modified: bool = True
    weak_etag: bool = False
    version: int = 1

    def add(self, entry: Entry) -> Entry:
        self.entries.insert(0, entry)
        self.version += 1
        return entry

    def change(self, guid: str, **changes: Any) -> None:
        for entry in self.entries:
            if entry.guid == guid:
                for key, value in changes.items():
                    setattr(entry, key, value)
        self.version += 1

    def body(self) -> bytes:
        return (_rss(self) if self.kind == "rss" else _atom(self)).encode("utf-8")

    def etag_value(self) -> str | None:
        if not self.etag:
            return None
        tag = f'"{self.kind}-{self.version}-{hashlib.sha1(self.body()).hexdigest()[:8]}"'
        return f"W/{tag}" if self.weak_etag else tag

    def last_modified_value(self) -> str | None:
        if not self.last_modified:
            return None
        return format_datetime(BASE_TIME + timedelta(hours=self.version), usegmt=True)


def _rss(feed: Feed) -> str:
    items = []
    for e in feed.entries:
        parts = [f"<title>{escape(e.title)}</title>"]
        if e.link:
            parts.append(f"<link>{escape(e.link)}</link>")
        if e.guid:
            parts.append(f'<guid isPermaLink="false">{escape(e.guid)}</guid>')
        if e.published:
            parts.append(f"<pubDate>{format_datetime(e.published)}</pubDate>")
        if e.author:
            parts.append(f"<dc:creator>{escape(e.author)}</dc:creator>")
        if e.summary:
            parts.append(f"<description>{escape(e.summary)}</description>")
        if e.content is not None:
            parts.append(f"<content:encoded><![CDATA[{e.content}]]></content:encoded>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(feed.title)}</title><link>{escape(feed.link)}</link>"
        f"<description>{escape(feed.title)}</description>{''.join(items)}</channel></rss>"
    )


def _atom(feed: Feed) -> str:
    items = []
    for e in feed.entries:
        parts = [f"<title>{escape(e.title)}</title>", f"<id>{escape(e.guid or '')}</id>"]
        if e.link:
            parts.append(f'<link rel="alternate" href="{escape(e.link)}"/>')
        when = (e.published or BASE_TIME).isoformat()
        parts.append(f"<published>{when}</published><updated>{when}</updated>")
        if e.author:
            parts.append(f"<author><name>{escape(e.author)}</name></author>")
        if e.summary:
            parts.append(f'<summary type="html">{escape(e.summary)}</summary>')
        if e.content is not None:
            parts.append(f'<content type="html">{escape(e.content)}</content>')
        items.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>{escape(feed.title)}</title><id>{escape(feed.link)}</id><link href="{escape(feed.link)}"/>'
        f"<updated>{BASE_TIME.isoformat()}</updated>{''.join(items)}</feed>"
    )


@functools.cache
def gzip_bomb(layers: int, size: int) -> bytes:
    """``size`` zero bytes, gzipped ``layers`` times (made a MiB at a time)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    body = b"".join([*parts, packer.compress(bytes(size % len(block))), packer.flush()])
    for _ in range(layers - 1):
        packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        body = packer.compress(body) + packer.flush()
    return body


@contextmanager
def loopback_only() -> Iterator[list[object]]:
    """Every outgoing connection of this process in the block: refused unless to 127.0.0.1.

    Yields the list of addresses that were attempted (refused ones included).
    """
    attempts: list[object] = []
    original = socket.socket.connect

    def connect(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        host = address[0] if isinstance(address, tuple) else address
        if host != HOST:
            raise AssertionError(f"test tried to connect to {address!r}")
        original(sock, address)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


Route = Callable[["_Handler"], None]


class FeedServer:
    """Use as a context manager; ``url(path)`` gives the address of a route."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.feeds: dict[str, Feed] = {}
        self.requests: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.headers_seen: dict[str, list[dict[str, str]]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FeedServer:
        server = ThreadingHTTPServer((HOST, 0), _Handler)
        server.daemon_threads = True
        server.app = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    # ------------------------------------------------------------------ content

    def add_feed(self, path: str, kind: str = "rss", title: str = "Test Feed", **options: Any) -> Feed:
        feed = Feed(kind, title, self.url(path), **options)
        self.feeds[path] = feed
        self.routes[path] = lambda h: self._serve_feed(h, path, feed)
        return feed

    def add_page(self, path: str, html: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.add_raw(path, html.encode("utf-8"), content_type)

    def add_raw(
        self,
        path: str,
        body: bytes,
        content_type: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.routes[path] = lambda h: h.reply(status, body, {"Content-Type": content_type, **(headers or {})})

    def add_redirect(self, path: str, to: str, status: int = 302) -> None:
        target = to if "://" in to else self.url(to)
        self.routes[path] = lambda h: h.reply(status, b"", {"Location": target})

    def add_slow(self, path: str, seconds: float, body: bytes = b"<rss/>") -> None:
        def serve(h: _Handler) -> None:
            self.stopping.wait(seconds)
            h.reply(200, body, {"Content-Type": "application/rss+xml"})

        self.routes[path] = serve

    def add_huge(
        self,
        path: str,
        size: int,
        *,
        announce_length: bool = False,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        """A page of ``size`` bytes, generated as it is sent (chunked unless announced)."""

        def serve(h: _Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", content_type)
            if announce_length:
                h.send_header("Content-Length", str(size))
            else:
                h.send_header("Transfer-Encoding", "chunked")
            h.send_header("Connection", "close")
            h.end_headers()
            h.close_connection = True
            piece = b"<p>" + b"word " * 13100 + b"</p>\n"  # ~64 KiB
            left = size
            while left > 0 and not self.stopping.is_set():
                data = piece[:left]
                frame = f"{len(data):x}\r\n".encode() + data + b"\r\n" if not announce_length else data
                h.wfile.write(frame)
                left -= len(data)
                with self.lock:
                    self.bytes_sent[path] += len(data)
            if not announce_length and left <= 0:
                h.wfile.write(b"0\r\n\r\n")

        self.routes[path] = serve

    def add_bomb(
        self, path: str, content_type: str, *, layers: int = 2, size: int = 256 * 1024 * 1024
    ) -> None:
        """``size`` zero bytes gzipped ``layers`` times (a few KB on the wire), sent with
        ``Content-Encoding: gzip, gzip…``."""
        body = gzip_bomb(layers, size)
        encoding = ", ".join(["gzip"] * layers)
        self.add_raw(path, body, content_type, headers={"Content-Encoding": encoding})

    def add_drip(self, path: str, interval: float, pieces: int) -> None:
        """An HTML page sent a few bytes every ``interval`` seconds."""

        def serve(h: _Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for _ in range(pieces):
                if self.stopping.wait(interval):
                    break
                h.wfile.write(b"5\r\n<p>x\n\r\n")
                h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")

        self.routes[path] = serve

    def add_gate(self, path: str, html: str, release: threading.Event, reached: threading.Event) -> None:
        """A page that is answered only once ``release`` is set (``reached`` tells it was asked)."""

        def serve(h: _Handler) -> None:
            reached.set()
            release.wait(10)
            h.reply(200, html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})

        self.routes[path] = serve

    # ------------------------------------------------------------------ serving

    def _serve_feed(self, h: _Handler, path: str, feed: Feed) -> None:
        etag, modified = feed.etag_value(), feed.last_modified_value()
        inm, ims = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        if inm is not None or ims is not None:
            with self.lock:
                self.conditional[path] += 1
        fresh = (inm == etag) if inm is not None else (ims is not None and ims == modified)
        headers = {"Content-Type": "application/rss+xml" if feed.kind == "rss" else "application/atom+xml"}
        if etag:
            headers["ETag"] = etag
        if modified:
            headers["Last-Modified"] = modified
        if fresh:
            with self.lock:
                self.not_modified[path] += 1
            h.reply(304, b"", headers)
        else:
            h.reply(200, feed.body(), headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection is closed after this

    def do_GET(self) -> None:
        app: FeedServer = self.server.app  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        with app.lock:
            app.requests[path] += 1
            app.headers_seen.setdefault(path, []).append(dict(self.headers.items()))
            app.in_flight += 1
            app.max_in_flight = max(app.max_in_flight, app.in_flight)
        try:
            route = app.routes.get(path)
            if route is None:
                self.reply(404, b"not found", {"Content-Type": "text/plain"})
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with app.lock:
                app.in_flight -= 1

    def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
