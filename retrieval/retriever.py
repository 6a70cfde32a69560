"""Hybrid retrieval: dense + lexical (BM25) from a vector store, fused, filtered, diversified."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.embedding import DEFAULT_BACKEND, Embedder, load_embedder, resolve_model
from retrieval.language import detect
from retrieval.store import Located, VectorStore, open_store
from retrieval.store_faiss import FaissStore, Snapshot
from retrieval.text import clean_question, terms
from retrieval.types import Filters, Hit

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class FusionParams:
    """Weighted reciprocal rank fusion; chosen on the dev set (bench/quality.py)."""

    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    rrf_k: int = 60
    depth: int = 60  # candidates taken from each side
    per_article: int = 2  # hits from one article before others get a turn
    #: dense candidates are ranked by passage cosine + this x their best sentence's cosine,
    #: where the store holds sentence vectors (retrieval.sentences; bench/multilingual.py)
    sentence_weight: float = 0.5
    #: the question's word-by-word translations (retrieval.translation) are searched for
    #: with BM25 too, their ranking fused with this weight x the share of their words the
    #: archive knows; and the query vector is the question's plus this x each translation's
    #: (XQuAD zh->en; bench/multilingual.py)
    translation_weight: float = 0.5
    translated_query_weight: float = 0.5


class Retriever:
    """Finds the passages of a store that best match a question.

    ``Retriever.open(index_dir or database URL).search(question, k, filters) -> list[Hit]``
    """

    def __init__(
        self, store: VectorStore | Snapshot, embedder: Embedder, params: FusionParams = FusionParams()
    ) -> None:
        if isinstance(store, Snapshot):
            store = FaissStore.from_snapshot(store)
        store.manifest().check_model(embedder.name)
        self.store = store
        self.embedder = embedder
        self.params = params

    @property
    def snapshot(self) -> Snapshot:
        """The loaded FAISS version (FAISS stores only)."""
        if not isinstance(self.store, FaissStore):
            raise AttributeError(f"{type(self.store).__name__} has no FAISS snapshot")
        return self.store.snapshot

    @classmethod
    def open(
        cls,
        location: Path | str,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        params: FusionParams = FusionParams(),
    ) -> Retriever:
        """Open the store (an index folder or a ``postgresql://`` URL), and its own model
        unless ``embedder`` is given."""
        store = open_store(location)
        try:
            if embedder is None:
                embedder = load_embedder(resolve_model(store.manifest().model), backend, cache_dir)
            return cls(store, embedder, params)
        except BaseException:
            store.close()
            raise

    def search(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: str = "hybrid",
        vector: np.ndarray | None = None,
        idfs: Mapping[str, float] | None = None,
        translations: Sequence[str] = (),
    ) -> list[Hit]:
        """``vector`` and ``idfs`` (of the question's terms): when the caller has them already
        (then ``vector`` includes the translations: :meth:`query_vector`); ``translations``:
        the question in other languages' words, searched for with BM25 as well."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        question = clean_question(question)
        if not question or k <= 0 or self.store.count() == 0:
            return []
        depth = max(self.params.depth, 4 * k)
        dense: list[tuple[int, float]] = []
        if mode != "lexical":
            if vector is None:
                vector = self.query_vector(question, translations)
            dense = self.store.dense_search(vector, depth, filters)
        cosines = dict(dense)  # hits report the passage cosine: the relevance floor reads it
        dense = self._by_sentences(vector, dense) if vector is not None else dense
        p = self.params
        rankings = [(p.dense_weight, dense)]
        lexical: list[tuple[int, float]] = []
        if mode != "dense":
            lexical = self.store.lexical_search(question, depth, filters)
            share = self._known_share(question, idfs) if mode == "hybrid" and lexical else 1.0
            rankings.append((p.lexical_weight * share, lexical))
            for text in translations if p.translation_weight > 0 else ():
                found = self.store.lexical_search(text, depth, filters)
                if found:
                    rankings.append((p.translation_weight * self._known_share(text, idfs), found))
        fused = self._fuse(rankings)
        located = self.store.locate([row for row, _ in fused])
        return self._hits(fused, located, cosines, dict(lexical), k)

    def query_vector(
        self, question: str, translations: Sequence[str] = (), own: np.ndarray | None = None
    ) -> np.ndarray:
        """The question's vector (``own``, when the caller has it), plus
        ``translated_query_weight`` x each translation's (the model matches a passage
        better in the passage's own language)."""
        vector = self.embedder.embed_query(question) if own is None else own
        weight = self.params.translated_query_weight
        if not translations or weight <= 0:
            return vector
        for text in translations:
            vector = vector + weight * self.embedder.embed_query(text)
        return (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)

    # ------------------------------------------------------------------ pieces

    def _by_sentences(self, vector: np.ndarray, dense: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Dense candidates re-ranked with their best sentence (unchanged without sentence vectors)."""
        weight = self.params.sentence_weight
        best = self.store.sentence_scores(vector, [row for row, _ in dense]) if weight > 0 and dense else {}
        if not best:
            return dense
        scored = [(row, cos + weight * best.get(row, cos)) for row, cos in dense]
        return sorted(scored, key=lambda item: (-item[1], item[0]))

    def _known_share(self, question: str, idfs: Mapping[str, float] | None = None) -> float:
        """Share of the question's search terms that occur in the archive at all.

        BM25 can only speak for words the archive knows: a question in another
        language than the articles matches them on a stray name or number, and
        its lexical ranking then counts for that much less in the fusion.
        """
        wanted = sorted(set(terms(question, language=detect(question))))
        if not wanted:
            return 1.0
        found = dict(idfs or {})
        missing = [t for t in wanted if t not in found]
        if missing:  # one look-up for what the caller did not have
            found.update(self.store.idfs(missing))
        unseen = self.store.unseen_idf()
        return sum(found.get(t, unseen) < unseen for t in wanted) / len(wanted)

    def _fuse(self, rankings: Sequence[tuple[float, list[tuple[int, float]]]]) -> list[tuple[int, float]]:
        """Weighted reciprocal rank fusion of ``(weight, ranked rows)`` lists."""
        fused: dict[int, float] = {}
        for weight, ranked in rankings:
            for rank, (row, _) in enumerate(ranked):
                fused[row] = fused.get(row, 0.0) + weight / (self.params.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _hits(
        self,
        fused: list[tuple[int, float]],
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
