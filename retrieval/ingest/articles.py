"""The readers that turn files and feeds into articles (:class:`retrieval.types.Article`).

``load_articles(roots)`` walks folders (or takes single files), reads every
supported format and returns the articles with a list of problems: a broken
file, or a folder that cannot be read, is reported with its path and reason and
skipped, never fatal.

Text is cleaned once, here, so every store holds the same: NUL characters
(which PostgreSQL refuses) are removed, and lone surrogates (a JSON ``"\\ud800"``)
become U+FFFD. A file name that is not UTF-8 is kept with its undecodable bytes
written ``\\xNN`` (the ``backslashreplace`` way), so no surrogate ever reaches a
store or an output. Other characters, control characters included, are kept:
quotes are verbatim, and the interfaces make them harmless when they show them.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from retrieval.dates import normalize_date, read_date
from retrieval.errors import ArticleError
from retrieval.types import Article
from retrieval.urls import host_of

__all__ = [
    "ArticleError",
    "Loaded",
    "Problem",
    "dateline_source",
    "display_path",
    "html_to_text",
    "iter_files",
    "load_articles",
    "normalize_date",  # re-exported from retrieval.dates (older imports)
    "read_file",
]

TEXT_SUFFIXES = {".txt"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | FEED_SUFFIXES

MAX_FILE_BYTES = 200 * 1024 * 1024
TITLE_CHARS = 90
#: metadata values are cut here (a title of megabytes is junk, not a title)
MAX_FIELD_CHARS = 10_000


@dataclass(frozen=True)
class Problem:
    """A file, part of a file or folder that could not be read (fully), and why."""

    path: str
    reason: str
    #: the article was indexed all the same (e.g. without its impossible date)
    warning: bool = False


@dataclass(frozen=True)
class Loaded:
    articles: list[Article]
    #: every file, part or folder not read, and warnings; includes ``unreadable``
    problems: list[Problem]
    duplicates: list[Problem]  # path + "same text as <id>"
    #: folders that could not be listed: articles indexed from them before may still exist
    unreadable: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------- walking


def iter_files(
    roots: Iterable[Path], problems: list[Problem] | None = None, unreadable: list[Problem] | None = None
) -> Iterator[tuple[Path, Path]]:
    """Yield (root, file) for every non-hidden file under the roots, sorted per root.

    The walk keeps its own stack (any depth, no recursion) and does not follow links
    to folders (no loops, no walking out of the root); a link to a file is read only
    when the file lies inside the root. Entries skipped that way, and anything that
    is not a regular file, go to ``problems``; folders that cannot be listed go to
    ``unreadable`` (to ``problems`` when ``unreadable`` is None).
    """
    problems = problems if problems is not None else []
    unreadable = unreadable if unreadable is not None else problems
    for root in roots:
        try:
            is_file = root.is_file()
        except OSError as exc:
            unreadable.append(_folder_problem(root, exc))
            continue
        if is_file:
            yield root.parent, root
            continue
        files = _walk(root, problems, unreadable)
        files.sort(key=lambda p: p.relative_to(root).parts)
        for path in files:
            yield root, path


def _walk(root: Path, problems: list[Problem], unreadable: list[Problem]) -> list[Path]:
    files: list[Path] = []
    inside = os.path.realpath(root) + os.sep
    seen: set[tuple[int, int]] = set()  # (device, inode): bind mounts can loop too
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            unreadable.append(_folder_problem(folder, exc))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    why = _link_problem(path, inside)
                    if why:
                        problems.append(Problem(display_path(path), why))
                    else:
                        files.append(path)
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    files.append(path)
                else:
                    problems.append(
                        Problem(display_path(path), "not a regular file (device, pipe or socket)")
                    )
            except OSError as exc:
                problems.append(Problem(display_path(path), f"cannot read: {exc.strerror or exc}"))
    return files


def _link_problem(path: Path, inside: str) -> str:
    """Why a symbolic link is not read ("" when it is a link to a file inside the root)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"broken link: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "link to a folder: not followed (pass that folder with --articles)"
    if not stat.S_ISREG(mode):
        return "not a regular file (device, pipe or socket)"
    if not os.path.realpath(path).startswith(inside):
        return "link to a file outside the articles folder: not read"
    return ""


def _folder_problem(folder: Path, exc: OSError) -> Problem:
    return Problem(display_path(folder), f"cannot read folder: {exc.strerror or exc}")


def load_articles(roots: Iterable[Path]) -> Loaded:
    """Read all articles under ``roots``; duplicates (same text) are kept once.

    Never raises for a bad file or folder: each becomes a :class:`Problem`.
    Ids are stable (see :func:`_assign_ids`).
    """
    problems: list[Problem] = []
    unreadable: list[Problem] = []
    kept: list[tuple[Article, bool]] = []  # (article, its id was given explicitly)
    dups: list[tuple[Article, int]] = []  # (duplicate, index in kept of the first copy)
    by_hash: dict[str, int] = {}
    for root, path in iter_files(roots, problems, unreadable):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(
                Problem(
                    display_path(path), f"unsupported file type {display_path(path.suffix) or '(none)'!r}"
                )
            )
            continue
        found, partial = _read_guarded(path, root)
        problems.extend(partial)
        for art, explicit in found:
            first = by_hash.get(art.content_hash)
            if first is not None:
                dups.append((art, first))
                continue
            by_hash[art.content_hash] = len(kept)
            kept.append((art, explicit))
    articles = _assign_ids(kept)
    duplicates = [Problem(f"{a.path} [{a.id}]", f"same text as {articles[i].id}") for a, i in dups]
    return Loaded(articles, unreadable + problems, duplicates, unreadable)


def _read_guarded(path: Path, root: Path) -> tuple[list[tuple[Article, bool]], list[Problem]]:
    """:func:`read_file`, with every way one file can fail turned into a problem."""
    shown = display_path(path)
    try:
        return _read_file(path, root)
    except ArticleError as exc:
        reason = str(exc)
    except RecursionError:
        reason = "nested too deeply to read"
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
    except ValueError as exc:  # UnicodeError included
        reason = f"cannot read: {_one_line(str(exc))}"
    except Exception as exc:  # last resort: a parser's bug on one file must not stop the run
        reason = f"internal error reading file: {type(exc).__name__}: {_one_line(str(exc))}"
    return [], [Problem(shown, reason)]


def _assign_ids(found: list[tuple[Article, bool]]) -> list[Article]:
    """Unique ids that never depend on the order articles arrive in.

    Explicit ids (JSON ``id``, front matter, feed entry ids) claim theirs first,
    then ids made from paths, each in file order. A later claimant of a taken id
    gets ``id~<8 hex>``, a hash of its path (or, when several claimants share one
    file, of its path and text): adding an article never renames another one,
    except the one holding the bare id when the newcomer has an explicit id or sorts
    before it.
    """
    order = sorted(range(len(found)), key=lambda i: (not found[i][1], i))
    taken: set[str] = set()
    out: list[Article | None] = [None] * len(found)
    later: list[int] = []
    for i in order:
        art = found[i][0]
        if art.id in taken:
            later.append(i)
        else:
            taken.add(art.id)
            out[i] = art
    paths: dict[tuple[str, str], int] = {}
    for art, _ in found:
        paths[(art.id, art.path)] = paths.get((art.id, art.path), 0) + 1
    for i in later:
        art = found[i][0]
        key = art.path if paths[(art.id, art.path)] == 1 else f"{art.path}\0{art.content_hash}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        new = next(
            (f"{art.id}~{digest[:n]}" for n in (8, 12, 16, 64) if f"{art.id}~{digest[:n]}" not in taken),
            f"{art.id}~{digest}~{art.content_hash}",
        )
        taken.add(new)
        out[i] = replace(art, id=new)
    return [a for a in out if a is not None]


# --------------------------------------------------------------------------- readers

# Problems found by _article while one file is read (the readers return only articles).
_notes: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("_notes", default=None)


def read_file(path: Path, root: Path) -> tuple[list[Article], list[Problem]]:
    """Articles in one file, plus problems with parts of it (e.g. one bad JSON line).

    Raises :class:`ArticleError` (or the parser's error) when the file as a whole
    cannot be read; :func:`load_articles` turns every such failure into a problem.
    """
    found, problems = _read_file(path, root)
    return [a for a, _ in found], problems


def _read_file(path: Path, root: Path) -> tuple[list[tuple[Article, bool]], list[Problem]]:
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        found, problems = _read_formats(path, root)
    finally:
        _notes.reset(token)
    shown = display_path(path)
    if shown != str(path):
        notes.insert(0, "file name is not valid UTF-8 (its bytes are shown as \\xNN); rename it to UTF-8")
    warnings = [Problem(shown, note, warning=True) for note in dict.fromkeys(notes)]
    return found, warnings + problems


def _read_formats(path: Path, root: Path) -> tuple[list[tuple[Article, bool]], list[Problem]]:
    raw = _read_bytes(path)
    suffix = path.suffix.lower()
    base_id = _id_from_path(path, root)
    if suffix in FEED_SUFFIXES:
        return [(a, True) for a in _read_feed(raw, path, base_id)], []
    text = _decode(raw)
    if suffix in JSON_SUFFIXES:
        return _read_json(text, path, base_id, lines=suffix != ".json")
    if suffix in HTML_SUFFIXES:
        return [(_read_html(text, path, base_id), False)], []
    return [_read_plain(text, path, base_id, markdown=suffix in MARKDOWN_SUFFIXES)], []


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read again once when it changes meanwhile (size, mtime, inode)."""
    for _ in range(2):
        try:
            before = _signature(path)
            if before[0] > MAX_FILE_BYTES:
                raise ArticleError(f"file too large ({before[0]} bytes; limit {MAX_FILE_BYTES})")
            raw = _read_raw(path)
            after = _signature(path)
        except OSError as exc:
            raise ArticleError(f"cannot read: {exc.strerror or exc}") from exc
        if before == after and len(raw) == before[0]:
            break
    else:
        raise ArticleError("changed while being read; run the indexer again once it is written")
    if not raw.strip():
        raise ArticleError("empty file")
    if b"\x00" in raw[:8192]:
        raise ArticleError("binary file (contains NUL bytes), not text")
    return raw


def _signature(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read_raw(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


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
    return display_path(rel.with_suffix("").as_posix())


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_DATELINE_WORD = r"(?:[A-Z][\w&.'’-]*|of|and|the|de)"
# "RASC News Agency: ...", "Reuters — ...", "Reuters - ..." (a short run of capitalized
# words, then a colon, a dash, or a hyphen with a space on each side)
_DATELINE = re.compile(
    rf"\A(?P<src>{_DATELINE_WORD}(?:[ \t]+{_DATELINE_WORD}){{0,5}})"
    r"(?:[ \t]*(?::|—|–)|[ \t]+-)[ \t]+(?=\S)"
)
# "KABUL (Reuters) - ..."
_PAREN_DATELINE = re.compile(r"\A[A-Z][A-Z .,'-]{1,40}\((?P<src>[A-Z][\w .&-]{1,40})\)[ \t]*[-—–:]")
_HEADER_WORDS = {"editor's note", "update", "updated", "note", "breaking", "watch", "opinion"}


def _read_plain(text: str, path: Path, base_id: str, *, markdown: bool) -> tuple[Article, bool]:
    meta: dict[str, Any] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        meta = _front_matter(m.group(1))
        text = text[m.end() :]
    body = text.strip()
    if not body:
        raise ArticleError("no article text")
    title = _scalar(meta.get("title"))
    if markdown and not title:
        heading = re.match(r"\A#{1,6}[ \t]+(.+)", body)
        if heading:
            title = heading.group(1).strip()
    source = _scalar(meta.get("source") or meta.get("outlet")) or dateline_source(body)
    ident = _scalar(meta.get("id"))
    art = _article(
        id=ident or base_id,
        text=body,
        title=title,
        source=source,
        published=meta.get("published") or meta.get("date"),
        url=meta.get("url") or meta.get("link"),
        author=meta.get("author"),
        path=str(path),
        language=meta.get("language") or meta.get("lang"),
    )
    return art, bool(ident)


def _front_matter(block: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.load(block, Loader=_frontmatter_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ArticleError(f"malformed YAML front matter: {_one_line(str(exc))}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ArticleError("YAML front matter must be a mapping (key: value lines)")
    return data


_LOADER: Any = None


def _frontmatter_loader() -> Any:
    """YAML's safe loader, with dates left as the text they are (retrieval.dates reads them)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class FrontMatterLoader(yaml.SafeLoader):
            pass

        FrontMatterLoader.add_constructor(
            "tag:yaml.org,2002:timestamp",
            lambda loader, node: loader.construct_scalar(cast(yaml.ScalarNode, node)),
        )
        _LOADER = FrontMatterLoader
    return _LOADER


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
    from retrieval.ingest.pages import extract_html

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


def _read_json(
    text: str, path: Path, base_id: str, *, lines: bool
) -> tuple[list[tuple[Article, bool]], list[Problem]]:
    problems: list[Problem] = []
    records: list[tuple[str, Any]] = []
    shown = display_path(path)
    if lines:
        for n, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                records.append((f"line {n}", json.loads(line, strict=False)))
            except json.JSONDecodeError as exc:
                problems.append(Problem(f"{shown}:{n}", f"malformed JSON line: {exc.msg}"))
            except RecursionError:
                problems.append(Problem(f"{shown}:{n}", "JSON line nested too deeply to read"))
    else:
        try:
            data = json.loads(text, strict=False)  # a raw tab or ESC in a string is read, not refused
        except json.JSONDecodeError as exc:
            raise ArticleError(f"malformed JSON at line {exc.lineno}: {exc.msg}") from exc
        except RecursionError:
            raise ArticleError("JSON nested too deeply to read") from None
        items = data if isinstance(data, list) else [data]
        records = [(f"item {n}", obj) for n, obj in enumerate(items, 1)]
    articles: list[tuple[Article, bool]] = []
    for where, obj in records:
        try:
            articles.append(_json_article(obj, path, base_id, where))
        except ArticleError as exc:
            problems.append(Problem(f"{shown} ({where})", str(exc)))
    if not articles and not problems:
        raise ArticleError("no articles in JSON")
    if not articles:
        if len(problems) == 1:
            raise ArticleError(problems[0].reason)
        return [], problems
    return articles, problems


def _json_article(obj: Any, path: Path, base_id: str, where: str) -> tuple[Article, bool]:
    if not isinstance(obj, dict):
        raise ArticleError("expected a JSON object with a 'text' field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ArticleError("missing or empty 'text' field")
    ident = _scalar(obj.get("id"))
    num = where.split()[-1]
    art = _article(
        id=ident or f"{base_id}#{num}",
        text=text.strip(),
        title=obj.get("title"),
        source=obj.get("source") or obj.get("outlet") or host_of(obj.get("url")),
        published=obj.get("published") or obj.get("date"),
        url=obj.get("url"),
        author=obj.get("author"),
        path=str(path),
        language=obj.get("language") or obj.get("lang"),
        note=obj.get("note") or _summary_note(obj),
    )
    return art, bool(ident)


def _summary_note(obj: dict[str, Any]) -> str:
    """The mark of a feed entry stored as its summary (retrieval.ingest.feeds: the page could not be had)."""
    if obj.get("summary_only") is not True:
        return ""
    why = _scalar(obj.get("summary_reason"))
    return f"summary only ({why})" if why else "summary only"


def _read_feed(raw: bytes, path: Path, base_id: str) -> list[Article]:
    import feedparser

    feed = feedparser.parse(raw)
    if not feed.entries:
        why = _one_line(str(feed.get("bozo_exception", ""))) or "no entries"
        raise ArticleError(f"not a readable RSS/Atom feed: {why}")
    outlet = _scalar(feed.feed.get("title", "")) if feed.get("feed") else ""
    articles: list[Article] = []
    for n, entry in enumerate(feed.entries, 1):
        html = ""
        if entry.get("content"):
            html = entry.content[0].get("value", "")
        html = html or entry.get("summary", "") or entry.get("description", "")
        body = html_to_text(html)
        if not body:
            continue
        articles.append(
            _article(
                id=_scalar(entry.get("id") or entry.get("link")) or f"{base_id}#{n}",
                text=body,
                title=entry.get("title"),
                source=outlet or host_of(entry.get("link")),
                published=_feed_date(entry),
                url=entry.get("link"),
                author=entry.get("author"),
                path=str(path),
            )
        )
    if not articles:
        raise ArticleError("feed entries have no text")
    return articles


def _feed_date(entry: Any) -> str:
    """The entry's date as written; feedparser's parse only for formats dateutil cannot read."""
    raw = entry.get("published") or entry.get("updated") or ""
    iso, warning = read_date(raw)
    if iso or warning:
        return raw
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return date(*parsed[:3]).isoformat() if parsed else ""


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
    """An article from a reader's fields: cleaned, titled, dated, its language detected."""
    text = clean_text(fields.pop("text")).strip()
    if not text:
        raise ArticleError("no article text")
    path = display_path(str(fields.pop("path", "")))  # kept exactly: no whitespace folding
    published = fields.pop("published", None)
    clean = {k: clean_text(_scalar(v)) for k, v in fields.items()}
    clean["path"] = path
    title = clean.get("title")
    if not title:
        source = clean.get("source", "")
        lead = text[len(source) :].lstrip(" :—–-") if source and text.startswith(source) else text
        title = first_sentence(lead)
    clean["title"] = title
    if not clean.get("language"):
        clean["language"] = detect_language(text)
    clean["published"], warning = read_date(clean_text(_scalar(published)))
    notes = _notes.get()
    if warning and notes is not None:
        notes.append(warning)
    return Article(text=text, **clean)


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def clean_text(text: str) -> str:
    """``text`` without NUL characters, lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text)


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as valid UTF-8 text: bytes a file name could not decode become ``\\xNN``.

    Python reads such names with ``surrogateescape``; this turns those surrogates back
    into the bytes they stand for, written the ``backslashreplace`` way. Any other
    lone surrogate becomes ``\\udNNN``. Everything else, newlines included, stays.
    """
    text = os.fspath(path)
    if not _SURROGATE.search(text):
        return text
    text = _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _scalar(value: Any, depth: int = 0) -> str:
    """A metadata value as one line of text (lists joined, at most MAX_FIELD_CHARS)."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            return ""
        joined, size = [], 0
        for v in value:
            part = _scalar(v, depth + 1)
            if part:
                joined.append(part)
                size += len(part) + 2
            if size > MAX_FIELD_CHARS:
                break
        return ", ".join(joined)[:MAX_FIELD_CHARS]
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = str(value)
    else:  # a mapping or other structure is not a metadata value
        return ""
    return " ".join(text[: MAX_FIELD_CHARS * 2].split())[:MAX_FIELD_CHARS]


def first_sentence(text: str, limit: int = TITLE_CHARS) -> str:
    from retrieval.text import sentence_spans

    spans = sentence_spans(text, 0, min(len(text), 2000))
    first = text[spans[0][0] : spans[0][1]] if spans else text[:limit]
    first = " ".join(first.split())
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the article's language, or "" when unsure."""
    from retrieval.language import detect

    return detect(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
