"""Feed lists and polling rounds, against the local feed server (tests/feed_server.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from retrieval.ingest.articles import load_articles
from retrieval.ingest.feed_list import FeedListError, parse_feed_list, read_feed_list
from retrieval.ingest.feed_state import FeedStore, StateLocked
from retrieval.ingest.feeds import PollLimits, poll_feeds
from retrieval.ingest.pages import MB
from tests.conftest import ROOT, write
from tests.feed_server import Entry, FeedServer

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FAST = PollLimits(connect_timeout=1.0, read_timeout=0.3, total_timeout=3.0)


pytestmark = pytest.mark.usefixtures("connections")


def full_text(topic: str, n: int = 6) -> str:
    return "".join(
        f"<p>Paragraph {i} on the {topic}: officials said the work would finish before winter.</p>"
        for i in range(n)
    )


def article_page(title: str, body: str, *, author: str = "", date: str = "") -> str:
    meta = f"<meta name='author' content='{author}'>" if author else ""
    if date:
        meta += f"<meta property='article:published_time' content='{date}'>"
    return (
        f"<html><head><title>{title}</title>{meta}<meta property='og:site_name' content='Metro Daily'>"
        f"</head><body><nav>Home | Sport | Weather</nav><article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright Metro Daily</footer></body></html>"
    )


def poll(urls: list[str], state: Path, *, at: datetime = T0, limits: PollLimits = FAST, **kw: object):
    return poll_feeds(urls, state, now=at, limits=limits, **kw)  # type: ignore[arg-type]


def mtimes(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*.json"))}


# --------------------------------------------------------------------------- feed lists


def test_feeds_file_skips_comments_and_reports_bad_lines_by_number(tmp_path: Path) -> None:
    path = write(
        tmp_path / "feeds.txt",
        "# my feeds\n"
        "\n"
        "https://news.example/rss.xml\n"
        "  http://blog.example/atom   # a comment after the URL\n"
        "ftp://files.example/feed.xml\n"
        "news.example/no-scheme\n"
        "https://two.example/a https://two.example/b\n"
        "http://\n"
        "https://news.example/rss.xml\n"
        "https://host.example:99999/feed\n",
    )
    feeds = read_feed_list(path)
    assert [s.url for s in feeds] == ["https://news.example/rss.xml", "http://blog.example/atom"]
    assert [s.where for s in feeds] == [f"{path}:3", f"{path}:4"]
    problems = {p.where.rsplit(":", 1)[1]: p.reason for p in feeds.problems}
    assert problems == {
        "5": "only http and https feeds are read, not ftp:",
        "6": "not a URL (expected http:// or https://…)",
        "7": "expected one URL per line (a comment after it starts with #)",
        "8": "URL without a host",
        "9": f"listed twice (first at {path}:3)",
        "10": "malformed URL: Port out of range 0-65535",
    }


def test_opml_export_with_nested_folders_titles_and_a_bad_outline(tmp_path: Path) -> None:
    path = write(
        tmp_path / "subscriptions.opml",
        """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Exported</title></head>
  <body>
    <outline text="World" title="World">
      <outline type="rss" text="Harbour Gazette" title="Harbour Gazette" xmlUrl="https://harbour.example/rss"/>
      <outline text="Deeper">
        <outline type="rss" text="Valley Times" xmlURL="http://valley.example/atom.xml"/>
      </outline>
    </outline>
    <outline type="rss" text="Broken" xmlUrl="javascript:alert(1)"/>
    <outline type="link" text="A web page" url="https://page.example/"/>
  </body>
</opml>
""",
    )
    feeds = read_feed_list(path)
    assert [(s.url, s.title) for s in feeds] == [
        ("https://harbour.example/rss", "Harbour Gazette"),
        ("http://valley.example/atom.xml", "Valley Times"),
    ]
    [bad] = feeds.problems
    assert bad.where == f"{path}:11"
    assert bad.text == "javascript:alert(1)"
    assert "only http and https" in bad.reason


def test_malformed_opml_names_its_line_and_external_entities_are_refused(tmp_path: Path) -> None:
    broken = write(
        tmp_path / "a.opml", '<?xml version="1.0"?>\n<opml>\n<body>\n<outline xmlUrl="x">\n</opml>\n'
    )
    with pytest.raises(FeedListError, match=r"a\.opml:5: malformed OPML"):
        read_feed_list(broken)
    secret = write(tmp_path / "secret.txt", "TOP-SECRET")
    with pytest.raises(FeedListError, match="external entity"):
        parse_feed_list(
            f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY s SYSTEM "file://{secret}">]>'
            '<opml><body><outline title="&s;" xmlUrl="https://a.example/feed"/></body></opml>'
        )


# --------------------------------------------------------------------------- rounds


def test_new_entries_are_stored_and_read_back_as_articles(server: FeedServer, tmp_path: Path) -> None:
    rss = server.add_feed("/rss", "rss", "Harbour Gazette")
    rss.add(
        Entry(
            "ferry-1",
            "Ferry service returns",
            server.url("/p/ferry"),
            summary="The ferry is back.",
            content=full_text("ferry"),
            published=datetime(2024, 5, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            author="Ann Reporter",
        )
    )
    atom = server.add_feed("/atom", "atom", "Valley Times")
    atom.add(
        Entry(
            "tag:valley.example,2024:7",
            "Dam inspected",
            "https://valley.example/dam",
            content=full_text("dam"),
            published=datetime(2024, 5, 3, 9, 0, tzinfo=UTC),
            author="Bo Engineer",
        )
    )
    report = poll([server.url("/rss"), server.url("/atom")], tmp_path)

    assert [(f.status, len(f.new), f.http_status) for f in report.feeds] == [
        ("fetched", 1, 200),
        ("fetched", 1, 200),
    ]
    assert report.pages_fetched == 0 and not report.summary_only
    assert "newsbot/0.1" in server.headers_seen["/rss"][0]["User-Agent"]
    loaded = load_articles([tmp_path / "articles"])
    assert not loaded.problems
    arts = {a.id: a for a in loaded.articles}
    ferry = arts[server.url("/rss") + "#ferry-1"]  # a bare guid is scoped by its feed
    assert (ferry.title, ferry.url, ferry.source, ferry.author) == (
        "Ferry service returns",
        server.url("/p/ferry"),
        "Harbour Gazette",
        "Ann Reporter",
    )
    assert ferry.published == "2024-05-02"  # the publisher's own date, not UTC's (May 1st)
    assert ferry.text.startswith("Paragraph 0 on the ferry") and "<p>" not in ferry.text
    dam = arts["tag:valley.example,2024:7"]
    assert (dam.title, dam.url, dam.published, dam.source) == (
        "Dam inspected",
        "https://valley.example/dam",
        "2024-05-03",
        "Valley Times",
    )
    [record_path] = (tmp_path / "articles").glob("*atom*/*.json")
    record = json.loads(record_path.read_text())
    assert record["feed"] == server.url("/atom")
    assert record["summary_only"] is False
    assert record["fetched"] == T0.isoformat()
    assert not list(tmp_path.rglob(".*.tmp"))


def test_unchanged_feeds_are_asked_conditionally_and_nothing_is_rewritten(
    server: FeedServer, tmp_path: Path
) -> None:
    tagged = server.add_feed("/etag", weak_etag=True, last_modified=False)
    dated = server.add_feed("/dated", "atom", etag=False)
    plain = server.add_feed("/plain", etag=False, last_modified=False)
    for feed, name in ((tagged, "t"), (dated, "d"), (plain, "p")):
        feed.add(Entry(f"{name}-1", "One", f"https://x.example/{name}1", content=full_text(f"{name} one")))
        feed.add(Entry(f"{name}-2", "Two", f"https://x.example/{name}2", content=full_text(f"{name} two")))
    urls = [server.url("/etag"), server.url("/dated"), server.url("/plain")]
    poll(urls, tmp_path)
    before = mtimes(tmp_path)

    again = poll(urls, tmp_path, at=T0 + timedelta(hours=1))

    assert [f.status for f in again.feeds] == ["not_modified", "not_modified", "fetched"]
    assert dict(server.conditional) == {"/etag": 1, "/dated": 1}
    assert dict(server.not_modified) == {"/etag": 1, "/dated": 1}
    sent = server.headers_seen["/etag"][-1]
    assert sent["If-None-Match"] == tagged.etag_value() and sent["If-None-Match"].startswith('W/"')
    assert "If-Modified-Since" not in sent
    assert server.headers_seen["/dated"][-1]["If-Modified-Since"] == dated.last_modified_value()
    assert again.feeds[2].unchanged == 2 and not again.feeds[2].new and not again.feeds[2].updated
    after = mtimes(tmp_path)
    plain_state = next((tmp_path / "state").glob("*plain*.json"))
    assert {p: m for p, m in after.items() if p != plain_state} == {
        p: m for p, m in before.items() if p != plain_state
    }  # articles untouched, and a 304 writes not even the feed's state

    tagged.add(Entry("t-3", "Three", "https://x.example/t3", content=full_text("t three")))
    tagged.change("t-1", content=full_text("t one, corrected"))
    tagged.change("t-2", summary="A new teaser; the article itself is the same.")
    dated.add(Entry("tag:x.example,2024:d-3", "Three", "https://x.example/d3", content=full_text("d three")))
    third = poll(urls, tmp_path, at=T0 + timedelta(hours=2))

    feed = third.feeds[0]
    assert (feed.status, feed.new, feed.updated, feed.unchanged) == (
        "fetched",
        (server.url("/etag") + "#t-3",),
        (server.url("/etag") + "#t-1",),
        1,  # t-2: a new summary, but the same article
    )
    assert (third.feeds[1].status, third.feeds[1].new, third.feeds[1].unchanged) == (
        "fetched",
        ("tag:x.example,2024:d-3",),
        2,
    )
    changed = {p for p, m in mtimes(tmp_path / "articles").items() if before.get(p) != m}
    assert len(changed) == 4  # t-1, t-3, d-3, and t-2 to remember its feed data; nothing else
    texts = {a.id: a.text for a in load_articles([tmp_path / "articles"]).articles}
    assert "t one, corrected" in texts[server.url("/etag") + "#t-1"]
    assert len(texts) == 8
    settled = mtimes(tmp_path / "articles")
    tagged.version += 1  # a new ETag, the same entries
    fourth = poll(urls, tmp_path, at=T0 + timedelta(hours=3))
    assert (fourth.feeds[0].status, fourth.feeds[0].unchanged) == ("fetched", 3)
    assert mtimes(tmp_path / "articles") == settled


def test_summary_only_entries_get_their_pages_and_bad_pages_keep_the_summary(
    server: FeedServer, tmp_path: Path
) -> None:
    feed = server.add_feed("/news", title="Metro Daily News")
    server.add_page(
        "/a/tram",
        article_page("Council approves tram", full_text("tram line"), author="Jo Writer", date="2024-04-30"),
    )
    server.add_raw("/a/report.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "application/pdf")
    server.add_huge("/a/huge", 30 * MB)
    entries = [
        ("tram", "Council approves tram", "/a/tram", "The council voted on the tram… Read more"),
        ("pdf", "Annual report", "/a/report.pdf", "The annual report is out."),
        ("gone", "Vanished story", "/a/missing", "A story that vanished."),
        ("huge", "Endless page", "/a/huge", "A page that never ends."),
    ]
    for guid, title, path, summary in entries:
        feed.add(Entry(guid, title, server.url(path), summary=summary))

    [out] = poll([server.url("/news")], tmp_path).feeds

    assert out.status == "fetched" and out.pages_fetched == 4
    reasons = {s.id.rsplit("#", 1)[1]: s.reason for s in out.summary_only}
    assert set(reasons) == {"pdf", "gone", "huge"}
    assert reasons["pdf"] == "page: not an HTML page (application/pdf)"
    assert reasons["gone"] == "page: HTTP 404 Not Found"
    assert reasons["huge"].startswith("page: too large: over the 5,242,880-byte limit")
    assert server.bytes_sent["/a/huge"] < 15 * MB  # cut off, not downloaded whole
    arts = {a.id.rsplit("#", 1)[1]: a for a in load_articles([tmp_path / "articles"]).articles}
    tram = arts["tram"]
    assert "Paragraph 5 on the tram line" in tram.text and "Home | Sport" not in tram.text
    assert (tram.title, tram.author, tram.published) == ("Council approves tram", "Jo Writer", "2024-04-30")
    assert arts["pdf"].text == "The annual report is out."
    stored = {
        json.loads(p.read_text())["id"].rsplit("#", 1)[1]: json.loads(p.read_text())
        for p in (tmp_path / "articles").rglob("*.json")
    }
    assert stored["tram"]["summary_only"] is False
    assert stored["pdf"]["summary_only"] is True
    assert stored["pdf"]["summary_reason"] == reasons["pdf"]

    server.add_page("/a/bridge", article_page("Bridge reopens", full_text("bridge")))
    feed.add(Entry("bridge", "Bridge reopens", server.url("/a/bridge"), summary="The bridge…"))
    [second] = poll([server.url("/news")], tmp_path, at=T0 + timedelta(minutes=30)).feeds

    assert second.new == (server.url("/news") + "#bridge",) and second.pages_fetched == 1
    assert {
        p: server.requests[p] for p in ("/a/tram", "/a/report.pdf", "/a/missing", "/a/huge", "/a/bridge")
    } == {
        "/a/tram": 1,
        "/a/report.pdf": 1,
        "/a/missing": 1,
        "/a/huge": 1,
        "/a/bridge": 1,
    }


_BOMB_CHILD = """
import json, resource, sys
from pathlib import Path
from retrieval.ingest.feeds import poll_feeds
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = poll_feeds(sys.argv[2:], Path(sys.argv[1]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
reasons = [f.reason for f in report.feeds] + [s.reason for s in report.summary_only]
print(json.dumps({"grew_kib": after - before, "reasons": reasons}))
"""


def test_a_stacked_gzip_bomb_stops_at_the_size_limit_in_bounded_memory(
    server: FeedServer, tmp_path: Path
) -> None:
    # 256 MiB of zeros gzipped twice: about 1 KB on the wire, as a feed and as a linked page
    server.add_bomb("/bomb.xml", "application/rss+xml")
    server.add_bomb("/a/bomb", "text/html; charset=utf-8")
    feed = server.add_feed("/news")
    feed.add(Entry("bomb", "A page that explodes", server.url("/a/bomb"), summary="Short."))
    child = subprocess.run(
        [sys.executable, "-c", _BOMB_CHILD, str(tmp_path), server.url("/bomb.xml"), server.url("/news")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    got = json.loads(child.stdout)
    feed_reason, _, page_reason = got["reasons"]
    assert feed_reason.startswith("too large: over the 10,485,760-byte limit")
    assert page_reason.startswith("page: too large: over the 5,242,880-byte limit")
    assert got["grew_kib"] < 64 * 1024, f"peak memory grew by {got['grew_kib'] // 1024} MiB"


def test_every_bad_feed_is_reported_by_url_and_the_good_ones_still_land(
    server: FeedServer, tmp_path: Path
) -> None:
    good = server.add_feed("/good", title="Good Feed")
    good.add(Entry("g", "Good news", "https://good.example/1", content=full_text("good news")))
    server.add_raw("/e500", b"boom", "text/plain", status=500)
    server.add_raw("/r429", b"slow down", "text/plain", status=429, headers={"Retry-After": "120"})
    server.add_slow("/slow", 3.0)
    server.add_redirect("/loop/a", "/loop/b")
    server.add_redirect("/loop/b", "/loop/a")
    for n in range(6):
        server.add_redirect(f"/hop/{n}", f"/hop/{n + 1}")
    server.add_raw(
        "/broken.xml", b'<?xml version="1.0"?><rss><channel><item><title>Half', "application/rss+xml"
    )
    server.add_raw("/page.html", b"<html><body><p>Not a feed</p></body></html>", "text/html")
    server.add_huge("/huge.xml", 30 * MB, content_type="application/rss+xml")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    paths = [
        "/good",
        "/e500",
        "/r429",
        "/slow",
        "/loop/a",
        "/hop/0",
        "/broken.xml",
        "/page.html",
        "/huge.xml",
    ]
    urls = [server.url(p) for p in paths] + [f"http://127.0.0.1:{closed_port}/feed"]

    report = poll(urls, tmp_path)

    outcomes = {f.url: f for f in report.feeds}
    assert [f.url for f in report.feeds] == urls  # in list order
    assert outcomes[urls[0]].status == "fetched"
    reasons = {url: (outcomes[url].status, outcomes[url].reason) for url in urls[1:]}
    assert reasons == {
        server.url("/e500"): ("failed", "HTTP 500 Internal Server Error"),
        server.url("/r429"): ("failed", "HTTP 429 Too Many Requests"),
        server.url("/slow"): ("failed", "timed out (waiting for the server)"),
        server.url("/loop/a"): (
            "failed",
            f"redirect loop: {server.url('/loop/a')} -> {server.url('/loop/b')} -> {server.url('/loop/a')}",
        ),
        server.url("/hop/0"): ("failed", f"more than 5 redirects (last to {server.url('/hop/6')})"),
        server.url("/broken.xml"): ("failed", reasons[server.url("/broken.xml")][1]),
        server.url("/page.html"): ("failed", "not an RSS or Atom feed (Content-Type text/html)"),
        server.url("/huge.xml"): ("failed", reasons[server.url("/huge.xml")][1]),
        urls[-1]: ("failed", reasons[urls[-1]][1]),
    }
    assert reasons[server.url("/broken.xml")][1].startswith("malformed feed: ")
    assert reasons[server.url("/huge.xml")][1].startswith("too large: over the 10,485,760-byte limit")
    assert reasons[urls[-1]][1].startswith("cannot connect: ")
    assert all(f.errors == 1 and f.until is not None for f in report.feeds[1:])
    [art] = load_articles([tmp_path / "articles"]).articles
    assert art.title == "Good news" and art.source == "Good Feed"
    assert report.as_dict()["totals"] == {
        "feeds": 10,
        "fetched": 1,
        "failed": 9,
        "new": 1,
        "updated": 0,
        "pages_fetched": 0,
        "pages_retried": 0,
        "summary_only": 0,
        "bad_lines": 0,
    }


def test_failures_back_off_exponentially_then_pause_the_feed(server: FeedServer, tmp_path: Path) -> None:
    server.add_raw("/down", b"down", "text/plain", status=500)
    url = server.url("/down")
    limits = replace(FAST, backoff_base=60, backoff_cap=600, pause_after=7, pause_for=24 * 3600)
    t = T0
    for n, wait in enumerate([60, 120, 240, 480, 600, 600], 1):
        [out] = poll([url], tmp_path, at=t, limits=limits).feeds
        assert (out.status, out.errors, out.until, out.paused) == (
            "failed",
            n,
            t + timedelta(seconds=wait),
            False,
        )
        asked = server.requests["/down"]
        [early] = poll([url], tmp_path, at=t + timedelta(seconds=wait - 1), limits=limits).feeds
        assert (early.status, early.until, early.reason) == ("skipped_backoff", out.until, out.reason)
        assert server.requests["/down"] == asked  # not asked before it is due
        t += timedelta(seconds=wait)

    [out] = poll([url], tmp_path, at=t, limits=limits).feeds
    assert (out.status, out.errors, out.paused, out.until) == ("failed", 7, True, t + timedelta(hours=24))
    assert "7 failures in a row: paused until" in out.reason
    asked = server.requests["/down"]
    [paused] = poll([url], tmp_path, at=t + timedelta(hours=12), limits=limits).feeds
    assert (paused.status, paused.until) == ("paused", t + timedelta(hours=24))
    assert server.requests["/down"] == asked

    server.add_feed("/down").add(
        Entry("back", "Back online", "https://x.example/b", content=full_text("return"))
    )
    [back] = poll([url], tmp_path, at=t + timedelta(hours=24), limits=limits).feeds
    assert back.status == "fetched" and back.errors == 0
    state = FeedStore(tmp_path).load(url)
    assert (state.errors, state.paused_until, state.next_attempt, state.last_error) == (0, None, None, "")


def test_retry_after_in_seconds_or_as_a_date_is_honoured(server: FeedServer, tmp_path: Path) -> None:
    server.add_raw("/busy", b"", "text/plain", status=429, headers={"Retry-After": "7200"})
    later = format_datetime(T0 + timedelta(hours=3), usegmt=True)
    server.add_raw("/maint", b"", "text/plain", status=503, headers={"Retry-After": later})
    urls = [server.url("/busy"), server.url("/maint")]

    first = poll(urls, tmp_path)
    assert [f.until for f in first.feeds] == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    second = poll(urls, tmp_path, at=T0 + timedelta(hours=1))
    assert [f.status for f in second.feeds] == ["skipped_backoff", "skipped_backoff"]
    third = poll(urls, tmp_path, at=T0 + timedelta(hours=2))
    assert [f.status for f in third.feeds] == ["failed", "skipped_backoff"]
    assert (server.requests["/busy"], server.requests["/maint"]) == (2, 1)


class _KillAfter(httpx.BaseTransport):
    """A transport that dies (like a killed process) on the n-th request for a /story/ page."""

    def __init__(self, pages: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.left = pages

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/story/"):
            if self.left == 0:
                raise RuntimeError("killed")
            self.left -= 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _two_feeds(server: FeedServer) -> list[str]:
    full = server.add_feed("/full", title="Full")
    for n in range(2):
        full.add(Entry(f"f{n}", f"Full {n}", f"https://x.example/f{n}", content=full_text(f"full story {n}")))
    summ = server.add_feed("/summ", title="Summaries")
    for n in range(1, 6):
        server.add_page(f"/story/{n}", article_page(f"Story {n}", full_text(f"story {n}")))
        summ.entries.append(Entry(f"s{n}", f"Story {n}", server.url(f"/story/{n}"), summary=f"Story {n}…"))
    return [server.url("/full"), server.url("/summ")]


def _assert_resumed(server: FeedServer, state: Path, urls: list[str], killed_page_asked: int) -> None:
    resumed = poll(urls, state, limits=replace(FAST, workers=1), at=T0 + timedelta(minutes=5))
    full, summ = resumed.feeds
    assert full.status == "not_modified"  # its state was saved before the kill
    assert (summ.status, summ.unchanged, summ.pages_fetched) == ("fetched", 2, 3)
    assert summ.new == tuple(f"{urls[1]}#s{n}" for n in (3, 4, 5))
    asked = {n: server.requests[f"/story/{n}"] for n in range(1, 6)}
    assert asked == {1: 1, 2: 1, 3: killed_page_asked, 4: 1, 5: 1}  # stored pages not fetched again
    loaded = load_articles([state / "articles"])
    assert len(loaded.articles) == 7 and not loaded.duplicates and not loaded.problems
    assert not list(state.rglob(".*.tmp"))


def test_a_round_killed_midway_resumes_without_duplicates_or_refetching(
    server: FeedServer, tmp_path: Path
) -> None:
    urls = _two_feeds(server)
    with pytest.raises(RuntimeError, match="killed"):
        poll(
            urls,
            tmp_path,
            limits=replace(FAST, workers=1),
            client_factory=lambda: httpx.Client(transport=_KillAfter(pages=2)),
        )
    assert len(load_articles([tmp_path / "articles"]).articles) == 4  # both full ones, two stories
    _assert_resumed(server, tmp_path, urls, killed_page_asked=1)


_CHILD = """
import sys
from dataclasses import replace
from pathlib import Path
from retrieval.ingest.feeds import PollLimits, poll_feeds
poll_feeds(sys.argv[2:], Path(sys.argv[1]), limits=PollLimits(read_timeout=20, workers=1))
"""


def test_a_poller_killed_with_sigkill_resumes_without_duplicates(server: FeedServer, tmp_path: Path) -> None:
    urls = _two_feeds(server)
    release, reached = threading.Event(), threading.Event()
    server.add_gate("/story/3", article_page("Story 3", full_text("story 3")), release, reached)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path), *urls],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert reached.wait(60), child.stderr.read().decode() if child.poll() is not None else "no request"
        os.kill(child.pid, signal.SIGKILL)  # while it waits for page 3, two stories stored
        child.wait(10)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stderr is not None
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    # a kill during a write leaves its hidden temporary file: the next round sweeps it
    folder = next((tmp_path / "articles").iterdir())
    for leftover in (
        folder / f".{'0' * 24}.json.{child.pid}.1a2b3c4d.tmp",
        tmp_path / "state" / ".x.json.1.ab.tmp",
    ):
        write(leftover, '{"half": ')
    _assert_resumed(server, tmp_path, urls, killed_page_asked=2)


def test_links_to_private_addresses_are_refused_without_connecting(
    server: FeedServer, tmp_path: Path, connections: list[object]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        other_port = sock.getsockname()[1]
    server.add_page("/a/local", article_page("Local story", full_text("local story")))
    links = {
        "same": server.url("/a/local"),
        "rfc1918": "http://192.168.1.1/admin",
        "ten": "http://10.0.0.1/x",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "cgnat": "http://100.64.0.1/",
        "zero": "http://0.0.0.0/",
        "v6loop": f"http://[::1]:{server.port}/a/local",
        "ula": "http://[fd00::1]/",
        "mapped": "http://[::ffff:10.0.0.1]/",
        "name": f"http://localhost:{server.port}/a/local",
        "port": f"http://127.0.0.1:{other_port}/a/local",
        "decimal": "http://2130706433/",
        "ftp": "ftp://files.example/story",
    }
    feed = server.add_feed("/tips", title="Tips")
    for name, link in links.items():
        feed.entries.append(Entry(name, f"Tip {name}", link, summary=f"A short tip about {name}."))

    [out] = poll([server.url("/tips")], tmp_path).feeds

    assert out.status == "fetched" and out.pages_fetched == 1
    refused = {r.url: r.reason for r in out.refused_links}
    assert set(refused) == {link for name, link in links.items() if name != "same"}
    assert refused["http://192.168.1.1/admin"] == (
        "192.168.1.1 is a private address; only public hosts are fetched from a feed's links"
    )
    assert "169.254.169.254 is a link-local address" in refused[links["metadata"]]
    assert "shared (CGNAT)" in refused[links["cgnat"]]
    assert "unique-local" in refused[links["ula"]]
    assert "localhost (127.0.0.1) is a loopback address" in refused[links["name"]] or (
        "localhost (::1) is a loopback address" in refused[links["name"]]
    )
    assert "2130706433 (127.0.0.1) is a loopback" in refused[links["decimal"]]
    assert "only http and https" in refused[links["ftp"]]
    assert connections and all(a[:2] == ("127.0.0.1", server.port) for a in connections)  # type: ignore[index]
    assert server.requests["/a/local"] == 1
    summaries = {s.id.rsplit("#", 1)[1]: s.reason for s in out.summary_only}
    assert summaries["rfc1918"].startswith("link refused: 192.168.1.1 is a private address")
    assert "same" not in summaries


def test_a_feed_redirected_to_another_private_host_is_refused(
    server: FeedServer, tmp_path: Path, connections: list[object]
) -> None:
    here = server.add_feed("/here", title="Here")
    here.add(Entry("h", "Here", "https://x.example/h", content=full_text("here")))
    server.add_redirect("/moved", "/here", status=301)
    server.add_redirect("/away", "http://10.0.0.1/feed")
    server.add_redirect("/named", f"http://localhost:{server.port}/here")
    urls = [server.url("/moved"), server.url("/away"), server.url("/named")]

    moved, away, named = poll(urls, tmp_path).feeds

    assert moved.status == "fetched"
    assert FeedStore(tmp_path).load(urls[0]).final_url == server.url("/here")
    assert (away.status, away.reason) == (
        "refused",
        "10.0.0.1 is a private address; only public hosts are fetched from a feed's links",
    )
    assert named.status == "refused" and "is a loopback address" in named.reason
    assert away.errors == 1 and away.until == T0 + timedelta(seconds=FAST.backoff_base)
    assert all(a[:2] == ("127.0.0.1", server.port) for a in connections)  # type: ignore[index]


def test_public_names_are_resolved_and_every_address_checked(tmp_path: Path) -> None:
    addresses = {
        "news.example": ["93.184.216.34"],
        "intranet.example": ["10.1.2.3"],
        "mixed.example": ["93.184.216.35", "192.168.0.9"],
    }

    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses[host]]

    page = article_page("Public story", full_text("public story")).encode()
    links = ["https://news.example/a", "http://intranet.example/b", "https://mixed.example/c"]
    items = "".join(
        f"<item><guid>{link}</guid><title>T{n}</title><link>{link}</link><description>Short.</description></item>"
        for n, link in enumerate(links)
    )
    feed = f"<rss version='2.0'><channel><title>Public</title>{items}</channel></rss>".encode()
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path == "/feed":
            return httpx.Response(200, content=feed, headers={"Content-Type": "application/rss+xml"})
        return httpx.Response(200, content=page, headers={"Content-Type": "text/html"})

    [out] = poll_feeds(
        ["https://news.example/feed"],
        tmp_path,
        client_factory=lambda: httpx.Client(transport=httpx.MockTransport(handler)),
        resolve=resolve,
        now=T0,
    ).feeds

    assert asked == ["https://news.example/feed", "https://news.example/a"]
    assert {r.url: r.reason for r in out.refused_links} == {
        links[
            1
        ]: "intranet.example (10.1.2.3) is a private address; only public hosts are fetched from a feed's links",
        links[
            2
        ]: "mixed.example (192.168.0.9) is a private address; only public hosts are fetched from a feed's links",
    }
    arts = {a.url: a for a in load_articles([tmp_path / "articles"]).articles}
    assert "public story" in arts[links[0]].text and arts[links[0]].id == links[0]


def test_entries_are_deduplicated_by_guid_then_link_then_content(server: FeedServer, tmp_path: Path) -> None:
    feed = server.add_feed("/dups", etag=False, last_modified=False)
    feed.entries = [
        Entry("same-guid", "First", "https://x.example/1", content=full_text("first")),
        Entry("same-guid", "First again", "https://x.example/1b", content=full_text("first again")),
        Entry(None, "By link", "https://x.example/2", content=full_text("by link")),
        Entry(None, "By link again", "https://x.example/2", content=full_text("by link again")),
        Entry(None, "Neither", None, content=full_text("neither guid nor link")),
    ]
    [out] = poll([server.url("/dups")], tmp_path).feeds
    assert len(out.new) == 3
    assert out.new[:2] == (server.url("/dups") + "#same-guid", "https://x.example/2")
    assert out.new[2].startswith(server.url("/dups") + "#")
    [again] = poll([server.url("/dups")], tmp_path, at=T0 + timedelta(hours=1)).feeds
    assert (again.new, again.updated, again.unchanged) == ((), (), 3)


def test_requests_to_one_host_are_limited(server: FeedServer, tmp_path: Path) -> None:
    body = server.add_feed("/template").body()

    def linger(h: object) -> None:
        """Stay in flight a moment, or until a third request shows the limit broken."""
        deadline = time.monotonic() + 0.2
        while server.in_flight < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        h.reply(200, body, {"Content-Type": "application/rss+xml"})  # type: ignore[attr-defined]

    for n in range(6):
        server.routes[f"/busy/{n}"] = linger  # type: ignore[assignment]
    report = poll([server.url(f"/busy/{n}") for n in range(6)], tmp_path, limits=replace(FAST, per_host=2))
    assert [f.status for f in report.feeds] == ["fetched"] * 6
    assert server.max_in_flight == 2


def test_a_second_poller_on_the_same_folder_is_locked_out(server: FeedServer, tmp_path: Path) -> None:
    server.add_feed("/f").add(Entry("a", "A", "https://x.example/a", content=full_text("a")))
    store = FeedStore(tmp_path)
    with store.lock(), pytest.raises(StateLocked, match="another feed poll holds"):
        poll([server.url("/f")], tmp_path)
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with FeedStore(tmp_path).lock():
            holder_ready.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holder_ready.wait(5)
    threading.Timer(0.2, release.set).start()
    report = poll([server.url("/f")], tmp_path, lock_timeout=10)
    thread.join()
    assert report.feeds[0].status == "fetched"


async def test_polling_works_from_async_code(server: FeedServer, tmp_path: Path) -> None:
    server.add_feed("/f").add(Entry("a", "A", "https://x.example/a", content=full_text("a")))
    first = await asyncio.to_thread(poll, [server.url("/f")], tmp_path)
    assert first.feeds[0].status == "fetched"
    second = poll([server.url("/f")], tmp_path)  # called straight from a running event loop
    assert second.feeds[0].status == "not_modified"


def test_report_carries_bad_feed_list_lines_and_is_json(server: FeedServer, tmp_path: Path) -> None:
    server.add_feed("/f").add(Entry("a", "A", "https://x.example/a", content=full_text("a")))
    feeds = parse_feed_list(f"{server.url('/f')}\nnot a url\n", "feeds.txt")
    report = poll_feeds(feeds, tmp_path, now=T0, limits=FAST)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["bad_lines"] == [
        {
            "where": "feeds.txt:2",
            "text": "not a url",
            "reason": "expected one URL per line (a comment after it starts with #)",
        }
    ]
    assert data["feeds"][0]["status"] == "fetched" and data["started"] == T0.isoformat()


def test_failed_pages_are_asked_again_with_back_off_and_indexed_in_full_once_they_work(
    server: FeedServer, tmp_path: Path
) -> None:
    from functools import partial

    from retrieval.live.updates import update
    from retrieval.store import open_store

    feed = server.add_feed("/news")
    server.add_page("/a/ok", article_page("Tram", full_text("tram line")))
    server.add_page("/a/late", article_page("Ferry", full_text("ferry route")))
    for guid in ("ok", "fixed", "gone", "late"):  # newest first in the feed: "late" is over the limit
        feed.entries.append(Entry(guid, guid.title(), server.url(f"/a/{guid}"), summary=f"In short: {guid}…"))
    limits = replace(FAST, pages_per_feed=3)
    index, state = tmp_path / "index", tmp_path / "feeds"

    def round_at(hours: float):  # type: ignore[no-untyped-def]
        at = T0 + timedelta(hours=hours)
        poll = partial(poll_feeds, now=at, limits=limits)
        return update(index, [], [server.url("/news")], state, "hashing-256", poll=poll)

    first = round_at(0)
    reasons = {s.id.rsplit("#", 1)[1]: s.reason for s in first.poll.summary_only}  # type: ignore[union-attr]
    assert reasons == {
        "fixed": "page: HTTP 404 Not Found",
        "gone": "page: HTTP 404 Not Found",
        "late": "page limit of this round reached (3 per feed)",
    }
    # the next round (the feed unchanged: 304) asks the page left over, not the failed ones
    second = round_at(0.25)
    assert second.poll.feeds[0].status == "not_modified"  # type: ignore[union-attr]
    assert [i.rsplit("#", 1)[1] for i in second.index.updated] == ["late"]
    assert [server.requests[f"/a/{g}"] for g in ("ok", "fixed", "gone", "late")] == [1, 1, 1, 1]

    server.add_page("/a/fixed", article_page("Fixed", full_text("harbour crane")))
    rounds = {}
    for hours, asked in [(0.9, 1), (1.0, 2), (4.9, 2), (5.0, 3), (28.9, 3), (29.0, 4), (99.0, 4)]:
        rounds[hours] = round_at(hours)  # tries after 1 h, 4 h and 1 day more, then no more
        assert server.requests["/a/gone"] == asked, hours
    assert [i.rsplit("#", 1)[1] for i in rounds[1.0].index.updated] == ["fixed"]  # in full now
    assert server.requests["/a/fixed"] == 2 and server.requests["/a/ok"] == 1
    [gone] = rounds[29.0].poll.summary_only  # type: ignore[union-attr]
    assert gone.reason == "page: HTTP 404 Not Found (given up after 4 tries)"
    arts = {a.id.rsplit("#", 1)[1]: a for a in load_articles([state / "articles"]).articles}
    assert "Paragraph 5 on the harbour crane" in arts["fixed"].text and not arts["fixed"].note
    assert "Paragraph 5 on the ferry route" in arts["late"].text
    assert arts["gone"].note == "summary only (page: HTTP 404 Not Found (given up after 4 tries))"
    store = open_store(index)
    try:
        stored = store.manifest().articles  # type: ignore[union-attr]
    finally:
        store.close()
    assert {i.rsplit("#", 1)[1] for i in stored} == {"ok", "fixed", "gone", "late"}
    assert stored[server.url("/news#fixed")].hash == arts["fixed"].content_hash  # the full text


def test_a_feed_whose_bytes_are_not_its_declared_encoding_is_indexed_with_a_note(
    server: FeedServer, tmp_path: Path
) -> None:
    text = "D\xe9j\xe0 vu at the caf\xe9, said the owner. " * 12
    items = "".join(
        f"<item><guid>c{n}</guid><title>Caf\xe9 {n}</title><link>https://cafe.example/{n}</link>"
        f"<description>{n}: {text}</description></item>"
        for n in range(3)
    )
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9</title>{items}</channel></rss>'
    server.add_raw("/cafe.xml", body.encode("cp1252"), "application/rss+xml; charset=utf-8")

    [out] = poll([server.url("/cafe.xml")], tmp_path).feeds

    assert (out.status, len(out.new)) == ("fetched", 3)
    assert out.reason == "wrong encoding, read anyway: document declared as utf-8, but parsed as windows-1252"
    titles = sorted(a.title for a in load_articles([tmp_path / "articles"]).articles)
    assert titles == ["Caf\xe9 0", "Caf\xe9 1", "Caf\xe9 2"]
