"""Hybrid retrieval: dense + lexical (BM25) from a vector store, fused, filtered, diversified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.dates import published_span
from retrieval.embedding import DEFAULT_BACKEND, Embedder, load_embedder, resolve_model
from retrieval.search.query import Query, make_query
from retrieval.search.recency import TimeContext, TimeParams, age_prior, preferred_window
from retrieval.search.translation import Translator, default_translators
from retrieval.store import Located, Location, Ranked, VectorStore, open_store
from retrieval.types import AsOf, Filters, Hit


@dataclass(frozen=True)
class FusionParams:
    """Weighted reciprocal rank fusion; chosen on the dev set (bench/quality.py)."""

    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    rrf_k: int = 60
    depth: int = 60  # candidates taken from each side
    per_article: int = 2  # hits from one article before others get a turn
    #: dense candidates are ranked by passage cosine + this x their best sentence's cosine,
    #: where the store holds sentence vectors (retrieval.store.sentences; bench/multilingual.py)
    best_sentence_weight: float = 0.5
    #: the question's word-by-word renderings (retrieval.search.translation) are searched for with
    #: BM25 too, their ranking fused with this weight x the share of their words the archive
    #: knows; and the query vector is the question's plus this x each rendering's
    #: (XQuAD zh->en; bench/multilingual.py)
    rendering_weight: float = 0.5
    rendering_vector_weight: float = 0.5


class Retriever:
    """Finds the passages of a store that best match a question.

    ``Retriever.open(index folder or database URL).search(query, k) -> list[Hit]``
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        params: FusionParams = FusionParams(),
        translators: Sequence[Translator] | None = None,
        time_params: TimeParams = TimeParams(),
    ) -> None:
        """``translators`` (default: every packaged dictionary) render questions word by
        word in other languages, for articles in those languages; ``time_params``: how the
        question's as-of date and named times weigh (retrieval.search.recency)."""
        store.manifest().check_model(embedder.name)
        self.store = store
        self.embedder = embedder
        self.params = params
        self.translators: Sequence[Translator] = default_translators() if translators is None else translators
        self.time_params = time_params
        self._newest: date | None = None

    @classmethod
    def open(
        cls,
        location: Location | Path | str,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        params: FusionParams = FusionParams(),
        translators: Sequence[Translator] | None = None,
    ) -> Retriever:
        """Open the store (an index folder or a ``postgresql://`` URL), and its own model
        unless ``embedder`` is given."""
        store = open_store(location)
        try:
            if embedder is None:
                embedder = load_embedder(resolve_model(store.manifest().model), backend, cache_dir)
            return cls(store, embedder, params, translators)
        except BaseException:
            store.close()
            raise

    def query(
        self,
        question: str,
        filters: Filters | None = None,
        mode: str = "hybrid",
        as_of: AsOf | None = None,
    ) -> Query:
        """``question`` worked out once (terms, renderings, idf, vectors) for this store;
        ``as_of``: the day it is asked (see :func:`retrieval.search.query.make_query`)."""
        return make_query(
            question,
            embed=self.embedder.embed_query,
            idfs=self.store.idfs,
            unseen_idf=self.store.unseen_idf,
            translators=self.translators,
            lean=self.params.rendering_vector_weight,
            filters=filters,
            mode=mode,
            as_of=as_of,
        )

    def reopened(self) -> Retriever:
        """The same retriever over what its store holds now (see VectorStore.reopened)."""
        store = self.store.reopened()
        if store is self.store:
            return self
        return Retriever(store, self.embedder, self.params, self.translators, self.time_params)

    def search(self, query: Query, k: int = 5) -> list[Hit]:
        """The ``k`` best hits for ``query``: dense and BM25 rankings fused (and BM25
        rankings of its renderings), overlapping passages of one article merged. A query
        with a time (``query.time``) also draws candidates from the days it prefers and
        weighs every candidate by its article's age (retrieval.search.recency)."""
        if not query.text or k <= 0 or self.store.count() == 0:
            return []
        depth = max(self.params.depth, 4 * k)
        p = self.params
        window = self._window_filters(query)
        dense: Ranked = []
        if query.vector is not None and query.mode != "lexical":
            dense = self.store.dense_search(query.vector, depth, query.filters)
            if window is not None:  # the preferred days' best compete on their cosines
                dense = _merged(dense, self.store.dense_search(query.vector, depth, window))
        cosines = dict(dense)  # hits report the passage cosine: the relevance floor reads it
        if query.vector is not None:
            dense = self._by_sentences(query.vector, dense)
        rankings: list[tuple[float, Ranked]] = [(p.dense_weight, dense)]
        lexical: Ranked = []
        if query.mode != "dense":
            lexical = self.store.lexical_search(query.terms, depth, query.filters)
            if window is not None:
                lexical = _merged(lexical, self.store.lexical_search(query.terms, depth, window))
            share = query.known_share(query.terms) if query.mode == "hybrid" and lexical else 1.0
            rankings.append((p.lexical_weight * share, lexical))
            for rendering in query.renderings if p.rendering_weight > 0 else ():
                found = self.store.lexical_search(rendering.terms, depth, query.filters)
                if found:
                    rankings.append((p.rendering_weight * query.known_share(rendering.terms), found))
        fused = self._fuse(rankings)
        located = self.store.locate([row for row, _ in fused])
        if query.time is not None:
            fused = self._aged(fused, located, query.time)
        return self._hits(fused, located, cosines, dict(lexical), k)

    def _window_filters(self, query: Query) -> Filters | None:
        """The query's filters narrowed to the days it prefers (None: no such days)."""
        window = preferred_window(query.time, self.time_params)
        if window is None:
            return None
        user = query.filters
        since = max(window[0], user.since) if user and user.since else window[0]
        until = min(window[1], user.until) if user and user.until else window[1]
        if since > until:
            return None
        return Filters(
            sources=user.sources if user else (),
            since=since,
            until=until,
            published_by=user.published_by if user else None,
        )

    def _aged(self, fused: Ranked, located: dict[int, Located], time: TimeContext) -> Ranked:
        """Fused scores times the age prior of their articles, best first again."""
        reference = time.as_of if time.given else min(time.as_of, self.newest_day() or time.as_of)
        scored = [
            (row, score * age_prior(located[row].article.published, time, self.time_params, reference))
            for row, score in fused
            if row in located
        ]
        return sorted(scored, key=lambda item: (-item[1], item[0]))

    def newest_day(self) -> date | None:
        """The newest publication day in the store (read once)."""
        if self._newest is None:
            span = published_span(self.store.stats().last_published)
            self._newest = span[1] if span else date.min
        return self._newest if self._newest != date.min else None

    def closest(self, query: Query) -> tuple[float, str] | None:
        """The cosine of the question's own vector to its closest passage, and that
        article's language (what the no-answer floor reads when renderings lean the
        search vector)."""
        if query.own_vector is None:
            return None
        found = self.store.dense_search(query.own_vector, 1, query.filters)
        located = self.store.locate([found[0][0]]) if found else {}
        if not located:
            return None
        return found[0][1], located[found[0][0]].article.language

    # ------------------------------------------------------------------ pieces

    def _by_sentences(self, vector: np.ndarray, dense: Ranked) -> Ranked:
        """Dense candidates re-ranked with their best sentence (unchanged without sentence vectors)."""
        weight = self.params.best_sentence_weight
        best = self.store.sentence_scores(vector, [row for row, _ in dense]) if weight > 0 and dense else {}
        if not best:
            return dense
        scored = [(row, cos + weight * best.get(row, cos)) for row, cos in dense]
        return sorted(scored, key=lambda item: (-item[1], item[0]))

    def _fuse(self, rankings: Sequence[tuple[float, Ranked]]) -> Ranked:
        """Weighted reciprocal rank fusion of ``(weight, ranked rows)`` lists."""
        fused: dict[int, float] = {}
        for weight, ranked in rankings:
            for rank, (row, _) in enumerate(ranked):
                fused[row] = fused.get(row, 0.0) + weight / (self.params.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _hits(
        self,
        fused: Ranked,
        located: dict[int, Located],
        dense: dict[int, float],
        lexical: dict[int, float],
        k: int,
    ) -> list[Hit]:
        """Merge overlapping passages of one article; let other articles have a turn."""
        spans: list[_Span] = []
        deferred: list[_Span] = []
        articles = {}
        for row, score in fused:
            p = located.get(row)
            if p is None:  # removed since the search (a live store)
                continue
            articles[p.article.id] = p.article
            span = _Span(
                p.article.id,
                p.start,
                p.end,
                score,
                dense.get(row, -1.0),
                lexical.get(row, 0.0),
            )
            if _merge_into(spans, span):
                continue
            if sum(s.article == span.article for s in spans) >= self.params.per_article:
                deferred.append(span)
                continue
            spans.append(span)
            if len(spans) >= k:
                break
        for span in deferred:
            if len(spans) >= k:
                break
            if not _merge_into(spans, span):
                spans.append(span)
        spans.sort(key=lambda s: -s.score)
        return [
            Hit(articles[s.article], s.start, s.end, score=s.score, dense=s.dense, lexical=s.lexical)
            for s in spans[:k]
        ]


def _merged(ranked: Ranked, more: Ranked) -> Ranked:
    """Two rankings of one score (cosines, or BM25 of one index) as one, best first; ties
    keep ``ranked``'s order, then ``more``'s."""
    if not more:
        return ranked
    seen = {row for row, _ in ranked}
    both = [*ranked, *((row, score) for row, score in more if row not in seen)]
    return sorted(both, key=lambda item: -item[1])


@dataclass
class _Span:
    article: str  # id
    start: int
    end: int
    score: float
    dense: float
    lexical: float


def _merge_into(spans: list[_Span], new: _Span) -> bool:
    """Fold ``new`` into every span of its article it overlaps; False when it overlaps none."""
    touching = [s for s in spans if s.article == new.article and new.start < s.end and new.end > s.start]
    if not touching:
        return False
    keep = touching[0]
    for other in [new, *touching[1:]]:
        keep.start, keep.end = min(keep.start, other.start), max(keep.end, other.end)
        keep.score = max(keep.score, other.score)
        keep.dense, keep.lexical = max(keep.dense, other.dense), max(keep.lexical, other.lexical)
    for other in touching[1:]:
        spans.remove(other)
    return True
