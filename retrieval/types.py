"""Results handed to the interfaces: frozen dataclasses, never dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from retrieval.articles import Article


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some outlets and/or a published date range (inclusive)."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")

    @property
    def active(self) -> bool:
        return bool(self.sources or self.since or self.until)

    def accepts(self, article: Article) -> bool:
        if self.sources:
            outlet = article.source.lower()
            if not any(s.lower() in outlet for s in self.sources):
                return False
        if self.since or self.until:
            if not article.published:
                return False
            day = date.fromisoformat(article.published[:10])
            if self.since and day < self.since:
                return False
            if self.until and day > self.until:
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

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]

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
    kind: str = ""  # what was asked for (retrieval.answer_types): person, number, date ...


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
    #: with (retrieval.translation)
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
