"""The feeds to follow: a feeds file (one URL a line, ``#`` comments) or an OPML export.

Bad lines are reported with their line number and reason; every good feed is still used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class FeedSource:
    """One feed to follow. ``where`` names its line in the feeds file ("" in code)."""

    url: str
    title: str = ""
    where: str = ""


@dataclass(frozen=True)
class FeedListProblem:
    """A line of the feeds file (or OPML outline) that was not used, and why."""

    where: str  # "feeds.txt:12"
    text: str
    reason: str


@dataclass(frozen=True)
class FeedList:
    """The usable feeds of a list, and the lines that were not usable."""

    sources: tuple[FeedSource, ...]
    problems: tuple[FeedListProblem, ...] = ()

    def __iter__(self) -> Iterator[FeedSource]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


class FeedListError(Exception):
    """The feeds file as a whole cannot be read (missing, not UTF-8, malformed OPML)."""


def read_feed_list(path: Path) -> FeedList:
    """Feeds of a feeds file: one URL a line (``#`` comments), or an OPML export."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedListError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    return parse_feed_list(text, str(path))


def parse_feed_list(text: str, name: str = "feeds") -> FeedList:
    """Like ``read_feed_list`` for text in hand; ``name`` prefixes line numbers."""
    reader = _opml_entries if text.lstrip().startswith("<") else _plain_entries
    sources: list[FeedSource] = []
    problems: list[FeedListProblem] = []
    first: dict[str, str] = {}
    for item in reader(text, name):
        if isinstance(item, FeedListProblem):
            problems.append(item)
        elif item.url in first:
            problems.append(
                FeedListProblem(item.where, item.url, f"listed twice (first at {first[item.url]})")
            )
        else:
            first[item.url] = item.where
            sources.append(item)
    return FeedList(tuple(sources), tuple(problems))


def url_problem(url: str) -> str:
    """Why a feed URL is unusable, or "" when it is a plain http(s) URL."""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "not a URL (contains spaces or control characters)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        named = "://" in url or (parts.scheme.isalpha() and not parts.path[:1].isdigit())
        if not parts.scheme or not named:
            return "not a URL (expected http:// or https://…)"
        return f"only http and https feeds are read, not {parts.scheme}:"
    if not parts.hostname:
        return "URL without a host"
    return ""


def _plain_entries(text: str, name: str) -> Iterator[FeedSource | FeedListProblem]:
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{n}"
        url, *rest = line.split()
        if rest and not rest[0].startswith("#"):
            yield FeedListProblem(where, line, "expected one URL per line (a comment after it starts with #)")
            continue
        why = url_problem(url)
        yield FeedListProblem(where, line, why) if why else FeedSource(url, "", where)


def _opml_entries(text: str, name: str) -> Iterator[FeedSource | FeedListProblem]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise FeedListError(f"{name}:{line}: malformed OPML: {exc.msg}") from exc
    if etree.QName(root).localname.lower() != "opml":
        raise FeedListError(f"{name}: an XML file that is not OPML (root <{etree.QName(root).localname}>)")
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname.lower() != "outline":
            continue
        attrs = {str(k).lower(): str(v) for k, v in el.attrib.items()}
        url = attrs.get("xmlurl", "").strip()
        if not url:
            continue  # a folder of outlines, or a plain link
        where = f"{name}:{el.sourceline}"
        why = url_problem(url)
        title = " ".join((attrs.get("title") or attrs.get("text") or "").split())
        yield FeedListProblem(where, url, why) if why else FeedSource(url, title, where)
