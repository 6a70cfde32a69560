"""The article and the results handed to the interfaces: frozen dataclasses, never dicts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from retrieval.dates import published_span
from retrieval.urls import text_fragment_link


@dataclass(frozen=True)
class Article:
    """One news article. ``text`` is the exact text that quotes are cut from."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    published: str = ""  # ISO prefix: YYYY, YYYY-MM or YYYY-MM-DD (retrieval.dates), or ""
    url: str = ""
    path: str = ""
    author: str = ""
    language: str = ""
    #: what the reader should know about this text, e.g. "summary only: ..." for a feed
    #: entry whose page could not be fetched
    note: str = ""
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
        } | ({"note": self.note} if self.note else {})


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AsOf:
    """The day a question is asked, and whether it was given explicitly (then nothing
    published after it is quoted); the interfaces build one per call."""

    day: date
    given: bool = False


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some outlets and/or a published date range (inclusive).

    A partial date (a year ``"2020"`` or a month ``"2020-05"``) covers every day of it
    (:func:`retrieval.dates.published_span`) and is accepted when that span overlaps
    ``[since, until]``: "2020" passes ``since=2020-06-01``, not ``since=2021-01-01``.
    An article without a date never passes a date filter.
    """

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    #: nothing known to be published after this day ("as it was known then"); undated
    #: articles pass, unlike with ``until``
    published_by: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")

    @property
    def active(self) -> bool:
        return bool(self.sources or self.since or self.until or self.published_by)

    def accepts(self, article: Article) -> bool:
        if self.sources:
            outlet = article.source.lower()
            if not any(s.lower() in outlet for s in self.sources):
                return False
        if self.published_by:
            span = published_span(article.published)
            if span is not None and span[0] > self.published_by:
                return False
        if self.since or self.until:
            span = published_span(article.published)
            if span is None:
                return False
            first, last = span
            if self.since and last < self.since:
                return False
            if self.until and first > self.until:
                return False
        return True


@dataclass(frozen=True)
class Hit:
    """A retrieved span of an article (one passage, or overlapping ones merged)."""

    article: Article
    start: int
    end: int
    score: float  # fused score, higher is better
    dense: float  # best cosine similarity of its passages (-1 when not found densely)
    lexical: float  # best BM25 score of its passages (0 when not found lexically)

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]


@dataclass(frozen=True)
class Copy:
    """Another outlet's copy of a quoted article (the same story, lightly edited)."""

    article_id: str
    source: str = ""
    title: str = ""
    url: str = ""
    published: str = ""

    @property
    def outlet(self) -> str:
        """The outlet's name: its source, else its URL's host (without ``www.``), else ""."""
        return self.source.strip() or _url_host(self.url)


def _url_host(url: str) -> str:
    """The host of an http(s) URL, without ``www.``; "" for anything else."""
    if not url.lower().startswith(("http://", "https://")):
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return ""
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class Quote:
    """A verbatim extract: ``text == article.text[start:end]``."""

    article: Article
    start: int
    end: int
    score: float  # relevance in [0, 1]
    #: the sentence(s) that answer, as offsets inside the article (for highlighting)
    focus: tuple[int, int]
    #: question terms found in the quote, as (start, end) offsets into the article
    matches: tuple[tuple[int, int], ...] = ()
    #: the other outlets' copies of the article's story (retrieval.answer.stories), best first
    also: tuple[Copy, ...] = ()

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]

    @property
    def link(self) -> str:
        """Where to read it: the article's URL opening at the quote (a text fragment), else
        its file path."""
        if not self.article.url:
            return self.article.path
        return text_fragment_link(self.article.url, self.text)

    @property
    def cut_before(self) -> bool:
        """True when the quote starts mid-article (render an ellipsis)."""
        return self.start > 0

    @property
    def cut_after(self) -> bool:
        return self.end < len(self.article.text.rstrip())


@dataclass(frozen=True)
class ShortAnswer:
    """The answer itself, a verbatim span of a quoted sentence:
    ``article.text[start:end] == text`` for the article with ``article_id``."""

    text: str
    article_id: str
    start: int
    end: int
    kind: str = ""  # what was asked for (retrieval.answer.answer_types): person, number, date ...


@dataclass(frozen=True)
class Answer:
    question: str
    quotes: tuple[Quote, ...]
    #: False when nothing in the archive is relevant enough; quotes are then
    #: only the nearest passages, to be shown as low-confidence
    answered: bool
    #: a message for the user when there is nothing to quote (e.g. empty question)
    notice: str = ""
    #: further quotes for "/more", best first
    more: tuple[Quote, ...] = field(default=(), repr=False)
    #: (language, text): the question's word-by-word translations it was also searched
    #: with (retrieval.search.translation)
    searched_as: tuple[tuple[str, str], ...] = ()
    #: the answer span of the first quote, when one clearly answers; None when unsure
    short: ShortAnswer | None = None
    #: how sure the archive is that the first quote answers (0..1); ``answered`` is
    #: ``confidence >= QuoteParams.min_confidence``
    confidence: float = 0.0
    #: the retrieved spans the quotes were chosen from, best first
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)

    def by_article(self) -> list[tuple[Article, list[Quote]]]:
        """Quotes grouped under their article, articles in order of their best quote."""
        groups: dict[str, tuple[Article, list[Quote]]] = {}
        for q in self.quotes:
            groups.setdefault(q.article.id, (q.article, []))[1].append(q)
        return list(groups.values())
