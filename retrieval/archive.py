"""The one object the interfaces talk to: a store, its model, and answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from retrieval.answer.quotes import QuoteParams, compose_answer
from retrieval.answer.readers import Reader
from retrieval.answer.readers.rules import RulesReader
from retrieval.answer.stories import one_copy_per_story
from retrieval.embedding import DEFAULT_BACKEND, Embedder, ModelTraits
from retrieval.search.query import Query
from retrieval.search.recency import TimeParams, present_first, time_notice
from retrieval.search.retriever import FusionParams, Retriever
from retrieval.search.translation import Translator
from retrieval.search.vector_cache import VectorCache
from retrieval.store import Location, StoreStats, VectorStore
from retrieval.store.sentences import sentence_key
from retrieval.text import clean_question
from retrieval.types import Answer, Article, AsOf, Filters, Hit, Quote

#: /latest keeps the articles whose best quote scores at least this share of the best one
LATEST_SHARE = 0.5


def quote_params_for(traits: ModelTraits) -> QuoteParams:
    """:class:`QuoteParams` with the model's own relevance floors and sentence scoring."""
    params = QuoteParams(
        min_dense=traits.relevance_floor,
        min_dense_across=traits.cross_lingual_floor,
        sentence_cosine_same_language=traits.sentence_cosine_weight,
    )
    if traits.index_sentences:
        # Sentence vectors read from the index cost nothing to weigh, so weigh more of
        # them, each with its passage's cosine too (bench/multilingual.py).
        params = replace(params, dense_sentences=20, dense_passage=1.0)
    return params


class Archive:
    """Answers questions from one store. Thread-safe for concurrent ``ask`` calls."""

    def __init__(
        self, retriever: Retriever, quote_params: QuoteParams | None = None, reader: Reader | None = None
    ) -> None:
        """``quote_params`` default to :class:`QuoteParams` with the model's own relevance floor
        and sentence scoring; ``reader`` (default: the rules) scores the candidate sentences."""
        self.retriever = retriever
        self.quote_params = quote_params or quote_params_for(retriever.embedder.traits)
        self.reader: Reader = reader or RulesReader()
        #: sentences the composer compares with questions: read from the store when it holds
        #: them (models that index sentences), else embedded, once each
        self.sentences = VectorCache(self._sentence_vectors)

    @classmethod
    def open(
        cls,
        location: Location | Path | str,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        fusion: FusionParams = FusionParams(),
        translators: Sequence[Translator] | None = None,
        reader: Reader | None = None,
    ) -> Archive:
        retriever = Retriever.open(
            location, embedder, backend=backend, cache_dir=cache_dir, params=fusion, translators=translators
        )
        return cls(retriever, reader=reader)

    def reopened(self) -> Archive:
        """The same archive, reading what its store holds now (a FAISS index folder is one
        fixed version per open store; PostgreSQL is live anyway). Model and settings are kept."""
        retriever = self.retriever.reopened()
        return self if retriever is self.retriever else Archive(retriever, self.quote_params, self.reader)

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    @property
    def store(self) -> VectorStore:
        return self.retriever.store

    @property
    def location(self) -> str:
        """Where the store lives: an index folder, or a database URL without its password."""
        return self.store.location

    def close(self) -> None:
        self.store.close()

    def ask(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: str = "hybrid",
        as_of: AsOf | None = None,
    ) -> Answer:
        """Quotes answering ``question``, best first; ``answer.more`` holds the next ones.

        ``as_of``: the day the question is asked (None: time plays no part); given
        explicitly, nothing published after it is quoted."""
        try:
            query = self.retriever.query(question, filters, mode, as_of)
        except ValueError as exc:  # the question's time leaves no day to search
            return Answer(clean_question(question), (), answered=False, notice=str(exc))
        if not query.text:
            return Answer(query.text, (), answered=False, notice="Please type a question.")
        # Search deeper than the hits we quote from: neighbouring passages of a good
        # article merge into one wider hit instead of being cut off.
        hits = self.retriever.search(query, k=max(k, 2 * self.quote_params.hits_considered))
        if not hits and query.filters is not None and query.filters.active:
            return Answer(query.text, (), answered=False, notice=_nothing_notice(query, filters))
        # renderings lift every cosine in their language: the floor reads the question's own
        answer = self.quote(query, hits, k, self.retriever.closest(query) if query.renderings else None)
        # syndicated copies: one quoted per story, the others listed with it
        answer = one_copy_per_story(answer, self.store.stories)
        answer = _timed(answer, query, self.retriever.time_params)
        answer = _in_its_language(answer, query, self.embedder.traits)
        searched_as = tuple((r.language, r.text) for r in query.renderings)
        return replace(answer, searched_as=searched_as) if searched_as else answer

    def quote(
        self, query: Query, hits: Sequence[Hit], k: int, relevance: tuple[float, str] | None = None
    ) -> Answer:
        """The quote composer over ``hits``, comparing sentences with the query's vector
        (vectors read from the store, or embedded once each)."""
        vector = query.vector

        def similarity(sentences: Sequence[str]) -> np.ndarray:
            return self.sentences.vectors(sentences) @ vector

        return compose_answer(
            query,
            hits,
            k=k,
            params=self.quote_params,
            similarity=similarity if vector is not None else None,
            relevance=relevance,
            reader=self.reader,
        )

    def latest(
        self, topic: str, k: int = 5, filters: Filters | None = None, as_of: AsOf | None = None
    ) -> Answer:
        """The newest articles on ``topic``: one quote each (its best), newest first, of the
        articles whose quote scores at least half the best one's."""
        answer = self.ask(topic, k=max(4 * k, 10), filters=filters, as_of=as_of)
        if not answer.answered or not answer.quotes:
            return answer
        floor = LATEST_SHARE * answer.quotes[0].score
        best: dict[str, Quote] = {}
        for quote in (*answer.quotes, *answer.more):
            if quote.score >= floor:
                best.setdefault(quote.article.id, quote)
        newest = sorted(best.values(), key=lambda q: q.article.published or "", reverse=True)
        return replace(answer, quotes=tuple(newest[:k]), more=())

    def _sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        keys = [sentence_key(t) for t in texts]
        stored = self.store.sentence_vectors(keys)
        missing = [t for t, key in zip(texts, keys, strict=True) if key not in stored]
        fresh = iter(self.embedder.embed_passages(missing) if missing else ())
        return np.array([stored[key] if key in stored else next(fresh) for key in keys], dtype=np.float32)

    def article(self, article_id: str) -> Article | None:
        return self.store.article(article_id)

    def articles(self) -> list[Article]:
        """Every article's metadata (the text may be empty)."""
        return self.store.catalog()

    def stats(self) -> StoreStats:
        return self.store.stats()


def _nothing_notice(query: Query, filters: Filters | None) -> str:
    """Why no article came back when filters (the user's, or the question's time) were on."""
    window = query.time.reading.window if query.time is not None else None
    if (filters is None or not filters.active) and window is not None and window.strict:
        return f"No article from {window.label or 'then'} in the archive."
    if filters is None or not filters.active:
        return "No article from then in the archive."
    return "No article matches those filters."


def _timed(answer: Answer, query: Query, params: TimeParams) -> Answer:
    """Newest relevant quote first for questions about the present, and a word on the dates."""
    if query.time is None:
        return answer
    quotes = present_first(answer.quotes, query.time)
    note = time_notice(quotes, query.time, params)
    notice = " ".join(n for n in (answer.notice, note) if n)
    short = answer.short
    if short is not None and quotes and quotes[0].article.id != short.article_id:
        short = None  # it came from the quote that is no longer first
    return replace(answer, quotes=quotes, notice=notice, short=short)


def _in_its_language(answer: Answer, query: Query, traits: ModelTraits) -> Answer:
    """A question in a language the model does not read (and no dictionary rendered) says
    so; quoted from an article in another language than its own, it is not answered with
    confidence either: across languages such a model's cosines say little."""
    known = traits.languages
    if known is None or not query.language or query.language in known or query.renderings:
        return answer
    notice = (
        f"This index's model reads {', '.join(sorted(known))} only; for questions in other "
        "languages, index with --model multilingual."
    )
    top = answer.quotes[0].article.language if answer.quotes else ""
    answered = answer.answered and top == query.language
    return replace(answer, answered=answered, notice=" ".join(n for n in (answer.notice, notice) if n))
