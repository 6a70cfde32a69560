"""Articles and the readers that turn files and feeds into them.

``load_articles(roots)`` walks folders (or takes single files), reads every
supported format and returns the articles with a list of problems: a broken
file is reported with its path and reason and skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = {".txt"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | FEED_SUFFIXES

MAX_FILE_BYTES = 200 * 1024 * 1024
TITLE_CHARS = 90


@dataclass(frozen=True)
class Article:
    """One news article. ``text`` is the exact text that quotes are cut from."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) or ""
    url: str = ""
    path: str = ""
    author: str = ""
    language: str = ""
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", text_hash(self.text))

    def metadata(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "url": self.url,
            "path": self.path,
            "author": self.author,
            "language": self.language,
        }


@dataclass(frozen=True)
class Problem:
    """A file (or part of one) that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Loaded:
    articles: list[Article]
    problems: list[Problem]
    duplicates: list[Problem]  # path + "same text as <id>"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ArticleError(Exception):
    """A file cannot be read as an article; the message says why."""


# --------------------------------------------------------------------------- walking


def iter_files(roots: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (root, file) for every non-hidden file under the roots, sorted."""
    for root in roots:
        if root.is_file():
            yield root.parent, root
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            yield root, path


def load_articles(roots: Iterable[Path]) -> Loaded:
    """Read all articles under ``roots``; duplicates (same text) are kept once."""
    articles: list[Article] = []
    problems: list[Problem] = []
    duplicates: list[Problem] = []
    by_hash: dict[str, str] = {}
    ids: set[str] = set()
    for root, path in iter_files(roots):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(Problem(str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
            continue
        try:
            found, partial = read_file(path, root)
        except ArticleError as exc:
            problems.append(Problem(str(path), str(exc)))
            continue
        problems.extend(partial)
        for art in found:
            if art.content_hash in by_hash:
                duplicates.append(
                    Problem(f"{art.path} [{art.id}]", f"same text as {by_hash[art.content_hash]}")
                )
                continue
            art = _unique_id(art, ids)
            ids.add(art.id)
            by_hash[art.content_hash] = art.id
            articles.append(art)
    return Loaded(articles, problems, duplicates)


def _unique_id(art: Article, taken: set[str]) -> Article:
    if art.id not in taken:
        return art
    n = 2
    while f"{art.id}~{n}" in taken:
        n += 1
    return replace(art, id=f"{art.id}~{n}")


# --------------------------------------------------------------------------- readers


def read_file(path: Path, root: Path) -> tuple[list[Article], list[Problem]]:
    """Articles in one file, plus problems with parts of it (e.g. one bad JSON line)."""
    raw = _read_bytes(path)
    suffix = path.suffix.lower()
    base_id = _id_from_path(path, root)
    if suffix in FEED_SUFFIXES:
        return _read_feed(raw, path, base_id), []
    text = _decode(raw)
    if suffix in JSON_SUFFIXES:
        return _read_json(text, path, base_id, lines=suffix != ".json")
    if suffix in HTML_SUFFIXES:
        return [_read_html(text, path, base_id)], []
    return [_read_plain(text, path, base_id, markdown=suffix in MARKDOWN_SUFFIXES)], []


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(f"file too large ({size} bytes; limit {MAX_FILE_BYTES})")
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ArticleError("empty file")
    if b"\x00" in raw[:8192]:
        raise ArticleError("binary file (contains NUL bytes), not text")
    return raw


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"not valid UTF-8 (byte {exc.start}); convert it with e.g. `iconv -f LATIN1 -t UTF-8`"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _id_from_path(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
# "RASC News Agency: ..." / "Reuters — ..." (a short run of capitalized words)
_DATELINE = re.compile(
    r"\A(?P<src>(?:[A-Z][\w&.'’-]*|of|and|the|de)(?:[ \t]+(?:[A-Z][\w&.'’-]*|of|and|the|de)){0,5})"
    r"[ \t]*(?::|—|–| - )[ \t]+(?=\S)"
)
# "KABUL (Reuters) - ..."
_PAREN_DATELINE = re.compile(r"\A[A-Z][A-Z .,'-]{1,40}\((?P<src>[A-Z][\w .&-]{1,40})\)[ \t]*[-—–:]")
_HEADER_WORDS = {"editor's note", "update", "updated", "note", "breaking", "watch", "opinion"}


def _read_plain(text: str, path: Path, base_id: str, *, markdown: bool) -> Article:
    meta: dict[str, Any] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        meta = _front_matter(m.group(1))
        text = text[m.end() :]
    body = text.strip()
    if not body:
        raise ArticleError("no article text")
    title = str(meta.get("title") or "")
    if markdown and not title:
        heading = re.match(r"\A#{1,6}[ \t]+(.+)", body)
        if heading:
            title = heading.group(1).strip()
    source = str(meta.get("source") or meta.get("outlet") or "") or dateline_source(body)
    return _article(
        id=str(meta.get("id") or base_id),
        text=body,
        title=title,
        source=source,
        published=meta.get("published") or meta.get("date"),
        url=meta.get("url") or meta.get("link"),
        author=meta.get("author"),
        path=str(path),
        language=meta.get("language") or meta.get("lang"),
    )


def _front_matter(block: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise ArticleError(f"malformed YAML front matter: {_one_line(str(exc))}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ArticleError("YAML front matter must be a mapping (key: value lines)")
    return data


def dateline_source(text: str) -> str:
    """The outlet named by a leading dateline, e.g. ``RASC News Agency: ...``."""
    head = text[:200]
    m = _PAREN_DATELINE.match(head)
    if m:
        return m.group("src").strip()
    m = _DATELINE.match(head)
    if m:
        src = m.group("src").strip()
        if src.lower() not in _HEADER_WORDS and not src.isdigit():
            return src
    return ""


def _read_html(text: str, path: Path, base_id: str) -> Article:
    from retrieval.pages import extract_html

    doc = extract_html(text)
    return _article(
        id=base_id,
        text=doc.text,
        title=doc.title,
        source=doc.sitename,
        published=doc.date,
        url=doc.url,
        author=doc.author,
        path=str(path),
        language=doc.language,
    )


def _read_json(text: str, path: Path, base_id: str, *, lines: bool) -> tuple[list[Article], list[Problem]]:
    problems: list[Problem] = []
    records: list[tuple[str, Any]] = []
    if lines:
        for n, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                records.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(Problem(f"{path}:{n}", f"malformed JSON line: {exc.msg}"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArticleError(f"malformed JSON at line {exc.lineno}: {exc.msg}") from exc
        items = data if isinstance(data, list) else [data]
        records = [(f"item {n}", obj) for n, obj in enumerate(items, 1)]
    articles: list[Article] = []
    for where, obj in records:
        try:
            articles.append(_json_article(obj, path, base_id, where))
        except ArticleError as exc:
            problems.append(Problem(f"{path} ({where})", str(exc)))
    if not articles and not problems:
        raise ArticleError("no articles in JSON")
    if not articles:
        if len(problems) == 1:
            raise ArticleError(problems[0].reason)
        return [], problems
    return articles, problems


def _json_article(obj: Any, path: Path, base_id: str, where: str) -> Article:
    if not isinstance(obj, dict):
        raise ArticleError("expected a JSON object with a 'text' field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ArticleError("missing or empty 'text' field")
    ident = obj.get("id")
    num = where.split()[-1]
    return _article(
        id=str(ident) if ident not in (None, "") else f"{base_id}#{num}",
        text=text.strip(),
        title=obj.get("title"),
        source=obj.get("source") or obj.get("outlet") or _host(obj.get("url")),
        published=obj.get("published") or obj.get("date"),
        url=obj.get("url"),
        author=obj.get("author"),
        path=str(path),
        language=obj.get("language") or obj.get("lang"),
    )


def _read_feed(raw: bytes, path: Path, base_id: str) -> list[Article]:
    import feedparser

    feed = feedparser.parse(raw)
    if not feed.entries:
        why = _one_line(str(feed.get("bozo_exception", ""))) or "no entries"
        raise ArticleError(f"not a readable RSS/Atom feed: {why}")
    outlet = str(feed.feed.get("title", "")) if feed.get("feed") else ""
    articles: list[Article] = []
    for n, entry in enumerate(feed.entries, 1):
        html = ""
        if entry.get("content"):
            html = entry.content[0].get("value", "")
        html = html or entry.get("summary", "") or entry.get("description", "")
        body = html_to_text(html)
        if not body:
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        articles.append(
            _article(
                id=str(entry.get("id") or entry.get("link") or f"{base_id}#{n}"),
                text=body,
                title=entry.get("title"),
                source=outlet or _host(entry.get("link")),
                published=date(*published[:3]).isoformat() if published else entry.get("published"),
                url=entry.get("link"),
                author=entry.get("author"),
                path=str(path),
            )
        )
    if not articles:
        raise ArticleError("feed entries have no text")
    return articles


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one paragraph per line."""
    if "<" not in fragment:
        return fragment.strip()
    import lxml.html

    try:
        root = lxml.html.fromstring(f"<div>{fragment}</div>")
    except Exception:  # lxml raises several types on junk; treat as text
        return re.sub(r"<[^>]+>", " ", fragment).strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        el.tail = "\n" + (el.tail or "")
    text = root.text_content()
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- helpers


def _article(**fields: Any) -> Article:
    text = fields.pop("text")
    clean = {k: _scalar(v) for k, v in fields.items()}
    title = clean.get("title")
    if not title:
        source = clean.get("source", "")
        lead = text[len(source) :].lstrip(" :—–-") if source and text.startswith(source) else text
        title = first_sentence(lead)
    clean["title"] = title
    if not clean.get("language"):
        clean["language"] = detect_language(text)
    clean["published"] = normalize_date(clean.get("published", ""))
    return Article(text=text, **clean)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    return " ".join(str(value).split())


def first_sentence(text: str, limit: int = TITLE_CHARS) -> str:
    from retrieval.text import sentence_spans

    spans = sentence_spans(text, 0, min(len(text), 2000))
    first = text[spans[0][0] : spans[0][1]] if spans else text[:limit]
    first = " ".join(first.split())
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def normalize_date(value: str) -> str:
    """ISO date (YYYY-MM-DD) of a published value, or "" when it cannot be read."""
    value = value.strip()
    if not value:
        return ""
    m = re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        from dateutil import parser as dateparser

        return dateparser.parse(value, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError, TypeError):
        return ""


def detect_language(text: str) -> str:
    """ISO 639-1 code of the article's language, or "" when unsure."""
    from retrieval.language import detect

    return detect(text)


def _host(url: Any) -> str:
    if not isinstance(url, str) or "://" not in url:
        return ""
    host = url.split("://", 1)[1].split("/", 1)[0].lower()
    return host.removeprefix("www.")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
