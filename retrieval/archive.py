"""The one object the interfaces talk to: an index, its model, and answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.articles import Article
from retrieval.embedding import DEFAULT_BACKEND, Embedder
from retrieval.quotes import QuoteParams, compose_answer
from retrieval.retriever import FusionParams, Retriever
from retrieval.text import clean_question
from retrieval.types import Answer, Filters

MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class ArchiveStats:
    index_dir: str
    articles: int
    passages: int
    model: str
    index_type: str
    created: str  # ISO timestamp of the index build
    sources: tuple[tuple[str, int], ...]  # outlet, articles; most first
    languages: tuple[tuple[str, int], ...]
    first_published: str
    last_published: str


class Archive:
    """Answers questions from one index. Thread-safe for concurrent ``ask`` calls."""

    def __init__(
        self, retriever: Retriever, index_dir: Path, quote_params: QuoteParams | None = None
    ) -> None:
        """``quote_params`` default to :class:`QuoteParams` with the model's own relevance floor."""
        self.retriever = retriever
        self.index_dir = index_dir
        self.quote_params = quote_params or QuoteParams(min_dense=retriever.embedder.relevance_floor)
        self._by_id = {a.id: a for a in retriever.snapshot.articles}

    @classmethod
    def open(
        cls,
        index_dir: Path,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        fusion: FusionParams = FusionParams(),
    ) -> Archive:
        retriever = Retriever.open(index_dir, embedder, backend=backend, cache_dir=cache_dir, params=fusion)
        return cls(retriever, index_dir)

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    def ask(self, question: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid") -> Answer:
        """Quotes answering ``question``, best first; ``answer.more`` holds the next ones."""
        cleaned = clean_question(question)
        if not cleaned:
            return Answer(cleaned, (), answered=False, notice="Please type a question.")
        # Very long input: keep the start; a question is rarely longer than a paragraph.
        cleaned = cleaned[:MAX_QUESTION_CHARS]
        # Search deeper than the hits we quote from: neighbouring passages of a good
        # article merge into one wider hit instead of being cut off.
        depth = max(k, 2 * self.quote_params.hits_considered)
        vector = self.embedder.embed_query(cleaned) if mode != "lexical" else None
        hits = self.retriever.search(cleaned, k=depth, filters=filters, mode=mode, vector=vector)
        if not hits and filters is not None and filters.active:
            return Answer(cleaned, (), answered=False, notice="No article matches those filters.")

        def similarity(sentences: Sequence[str]) -> np.ndarray:
            return self.embedder.embed_passages(sentences) @ vector

        return compose_answer(
            cleaned,
            hits,
            self.retriever.snapshot.lexical.idf,
            k=k,
            params=self.quote_params,
            similarity=similarity if vector is not None else None,
        )

    def article(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def stats(self) -> ArchiveStats:
        snap = self.retriever.snapshot
        arts = snap.articles
        dates = sorted(a.published for a in arts if a.published)
        return ArchiveStats(
            index_dir=str(self.index_dir),
            articles=len(arts),
            passages=snap.size,
            model=snap.manifest.model,
            index_type=snap.manifest.index_type,
            created=snap.manifest.created,
            sources=tuple(Counter(a.source for a in arts if a.source).most_common()),
            languages=tuple(Counter(a.language for a in arts if a.language).most_common()),
            first_published=dates[0] if dates else "",
            last_published=dates[-1] if dates else "",
        )
