"""The link guard, fetching within limits, and the HTML extractor shared with the file reader."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from retrieval.ingest.articles import ArticleError, load_articles
from retrieval.ingest.net_guard import Origin, Refused, blocked_reason, check_url, origin_of
from retrieval.ingest.pages import (
    CHUNK,
    LXML_CLEAN_HINT,
    MB,
    FetchError,
    FetchLimits,
    decoded,
    extract_html,
    fetch,
    fetch_page,
)
from tests.conftest import write
from tests.feed_server import FeedServer

LIMITS = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=3.0)
PAGE = (
    "<html><head><title>Harbour dredging starts</title><meta name='author' content='Kim Lee'>"
    "<meta property='article:published_time' content='2024-03-04'>"
    "<meta property='og:site_name' content='Harbour Gazette'></head><body><nav>Home | Sport</nav><article>"
    "<h1>Harbour dredging starts</h1>"
    + "".join(
        f"<p>Part {i}: dredgers began clearing the harbour channel for larger ships.</p>" for i in range(6)
    )
    + "</article></body></html>"
)


pytestmark = pytest.mark.usefixtures("connections")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as c:
        yield c


def no_lookup(*_: object, **__: object) -> list[tuple[object, ...]]:
    raise AssertionError("an IP literal needs no DNS look-up")


# --------------------------------------------------------------------------- the guard


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("fd12:3456::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("192.0.2.10", "private"),
        ("::ffff:192.168.0.1", "private"),
        ("2002:c0a8:0101::1", "private"),  # 6to4 around 192.168.1.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("93.184.216.34", ""),
        ("2606:4700::1111", ""),
        ("::ffff:8.8.8.8", ""),
    ],
)
def test_each_kind_of_local_address_is_named(address: str, reason: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


def test_ip_literals_are_judged_without_any_lookup() -> None:
    with pytest.raises(Refused, match=r"^192\.168\.1\.1 is a private address"):
        check_url("http://192.168.1.1/admin", resolve=no_lookup)
    with pytest.raises(Refused, match="is a loopback address"):
        check_url("http://[::1]:8080/", resolve=no_lookup)
    assert check_url("https://93.184.216.34/news", resolve=no_lookup) == Origin("93.184.216.34", 443)


def test_every_address_of_a_name_must_be_public() -> None:
    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fd00::7", port, 0, 0)),
        ]

    with pytest.raises(Refused, match=r"^news\.example \(fd00::7\) is a unique-local address"):
        check_url("https://news.example/a", resolve=resolve)

    def fail(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(Refused, match=r"^cannot resolve nowhere\.example: Name or service not known"):
        check_url("https://nowhere.example/", resolve=fail)


def test_the_feeds_own_origin_is_the_same_host_name_and_port() -> None:
    trusted = origin_of("http://127.0.0.1:8080/feed.xml")
    assert check_url("http://127.0.0.1:8080/story/1", trusted=trusted, resolve=no_lookup) == trusted
    for other in ("http://127.0.0.1:8081/", "http://127.0.0.1/", "http://[::1]:8080/"):
        with pytest.raises(Refused, match="loopback"):
            check_url(other, trusted=trusted, resolve=no_lookup)
    with pytest.raises(Refused, match=r"localhost \(.*\) is a loopback address"):
        check_url("http://localhost:8080/story/1", trusted=trusted)
    public = origin_of("https://News.Example/rss")
    assert public == Origin("news.example", 443)
    assert check_url("https://news.example:443/a", trusted=public, resolve=no_lookup) == public


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://files.example/a",
        "javascript:alert(1)",
        "gopher://x.example/",
        "/relative",
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(Refused, match="only http and https"):
        check_url(url, resolve=no_lookup)


# --------------------------------------------------------------------------- fetching


def test_a_30_mb_page_is_cut_at_the_size_limit(server: FeedServer, client: httpx.Client) -> None:
    server.add_huge("/huge", 30 * MB)
    with pytest.raises(FetchError, match="too large: over the 5,242,880-byte limit") as caught:
        fetch_page(
            client, server.url("/huge"), max_bytes=5 * MB, limits=LIMITS, trusted=origin_of(server.origin)
        )
    assert 5 * MB < caught.value.bytes_read <= 5 * MB + CHUNK
    assert server.bytes_sent["/huge"] < 15 * MB


def test_an_announced_size_over_the_limit_is_not_read(server: FeedServer, client: httpx.Client) -> None:
    server.add_huge("/huge", 30 * MB, announce_length=True)
    with pytest.raises(
        FetchError, match=r"too large: 31,457,280 bytes announced \(limit 5,242,880\)"
    ) as caught:
        fetch_page(
            client, server.url("/huge"), max_bytes=5 * MB, limits=LIMITS, trusted=origin_of(server.origin)
        )
    assert caught.value.bytes_read == 0


def test_a_non_html_page_is_neither_read_nor_extracted(server: FeedServer, client: httpx.Client) -> None:
    server.add_huge("/big.pdf", 30 * MB, content_type="application/pdf")
    server.add_raw("/octets", b"%PDF-1.7\n\x00\x01binary", "")
    trusted = origin_of(server.origin)
    with pytest.raises(FetchError, match=r"^not an HTML page \(application/pdf\)$"):
        fetch_page(client, server.url("/big.pdf"), limits=LIMITS, trusted=trusted)
    assert server.bytes_sent["/big.pdf"] < 15 * MB
    with pytest.raises(FetchError, match=r"^not an HTML page \(binary content\)$"):
        fetch_page(client, server.url("/octets"), limits=LIMITS, trusted=trusted)


def test_a_page_is_extracted_with_its_metadata(server: FeedServer, client: httpx.Client) -> None:
    server.add_page("/story", PAGE, content_type="application/xhtml+xml; charset=utf-8")
    server.add_redirect("/short", "/story", status=301)
    page = fetch_page(client, server.url("/short"), limits=LIMITS, trusted=origin_of(server.origin))
    assert page.url == server.url("/story")
    got = page.extracted
    assert "Part 5: dredgers began clearing" in got.text and "Home | Sport" not in got.text
    assert (got.title, got.author, got.date, got.sitename) == (
        "Harbour dredging starts",
        "Kim Lee",
        "2024-03-04",
        "Harbour Gazette",
    )


def test_redirects_are_bounded_and_each_hop_is_checked(
    server: FeedServer, client: httpx.Client, connections: list[object]
) -> None:
    server.add_page("/end", PAGE)
    for n in range(6):
        server.add_redirect(f"/r/{n}", f"/r/{n + 1}" if n < 5 else "/end")
    server.add_redirect("/to-private", "http://192.168.1.1/admin")
    trusted = origin_of(server.origin)
    got = fetch(client, server.url("/r/1"), max_bytes=MB, limits=LIMITS, trusted=trusted)  # 5 redirects
    assert got.status == 200 and len(got.redirects) == 5
    with pytest.raises(FetchError, match=r"^more than 5 redirects \(last to .*/end\)$"):
        fetch(client, server.url("/r/0"), max_bytes=MB, limits=LIMITS, trusted=trusted)
    with pytest.raises(Refused, match=r"^192\.168\.1\.1 is a private address"):
        fetch(client, server.url("/to-private"), max_bytes=MB, limits=LIMITS, trusted=trusted)
    assert all(a[:2] == ("127.0.0.1", server.port) for a in connections)  # type: ignore[index]


def test_a_slow_drip_meets_the_total_deadline(server: FeedServer, client: httpx.Client) -> None:
    server.add_drip("/drip", interval=0.05, pieces=200)  # each piece well within the read timeout
    limits = FetchLimits(connect_timeout=1.0, read_timeout=1.0, total_timeout=0.5)
    with pytest.raises(FetchError, match=r"^timed out \(over 0.5 s in total\)$"):
        fetch_page(client, server.url("/drip"), limits=limits, trusted=origin_of(server.origin))


# --------------------------------------------------------------------------- the extractor


def test_files_and_pages_share_the_extractor(tmp_path: Path) -> None:
    write(tmp_path / "story.html", PAGE)
    [art] = load_articles([tmp_path]).articles
    doc = extract_html(PAGE)
    assert (art.text, art.title, art.author, art.source, art.published) == (
        doc.text,
        doc.title,
        doc.author,
        doc.sitename,
        doc.date,
    )
    with pytest.raises(ArticleError, match="HTML page with no article text"):
        extract_html("<html><body><script>var a = 1;</script></body></html>")


def test_a_missing_lxml_html_clean_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FeedServer, client: httpx.Client
) -> None:
    """What `pip install .` with pip 23.2 leaves: lxml without its html_clean extra."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("trafilatura", "justext") or name == "lxml.html.clean":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lxml_html_clean", None)
    write(tmp_path / "story.html", PAGE)

    loaded = load_articles([tmp_path])

    assert not loaded.articles
    assert [p.reason for p in loaded.problems] == [LXML_CLEAN_HINT]
    assert LXML_CLEAN_HINT == "HTML extraction needs lxml_html_clean: pip install lxml_html_clean"
    server.add_page("/story", PAGE)
    with pytest.raises(ArticleError, match=f"^{LXML_CLEAN_HINT}$"):
        fetch_page(client, server.url("/story"), limits=LIMITS, trusted=origin_of(server.origin))


def test_bodies_are_decoded_a_piece_at_a_time_whatever_the_encodings() -> None:
    text = b"<p>" + b"news " * 50_000 + b"</p>"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    wrapped = zlib.compress(text)
    raw_deflate = raw.compress(text) + raw.flush()
    twice = gzip.compress(gzip.compress(text))
    for body, encoding in [
        (wrapped, "deflate"),
        (raw_deflate, "Deflate"),
        (twice, "gzip, x-gzip"),
        (text, ""),
    ]:
        pieces = list(decoded([body[:1], body[1:7], body[7:]], encoding))
        assert b"".join(pieces) == text
        assert max(map(len, pieces)) <= CHUNK
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        list(decoded([b"x"], "gzip, br"))
    with pytest.raises(FetchError, match="broken compressed body"):
        list(decoded([b"not gzip at all"], "gzip"))
