"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused, filtered, diversified."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.embedding import DEFAULT_BACKEND, Embedder, load_embedder, resolve_model
from retrieval.language import detect
from retrieval.store_faiss import Snapshot, load_snapshot
from retrieval.text import clean_question
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


class Retriever:
    """Finds the passages of an index that best match a question.

    ``Retriever.open(index_dir).search(question, k, filters) -> list[Hit]``
    """

    def __init__(self, snapshot: Snapshot, embedder: Embedder, params: FusionParams = FusionParams()) -> None:
        snapshot.manifest.check_model(embedder.name)
        self.snapshot = snapshot
        self.embedder = embedder
        self.params = params
        self._article_of_row = snapshot.passages["article"]

    @classmethod
    def open(
        cls,
        index_dir: Path,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        params: FusionParams = FusionParams(),
    ) -> Retriever:
        """Load the index, and its own model unless ``embedder`` is given."""
        snapshot = load_snapshot(index_dir)
        if embedder is None:
            embedder = load_embedder(resolve_model(snapshot.manifest.model), backend, cache_dir)
        return cls(snapshot, embedder, params)

    def search(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: str = "hybrid",
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """``vector``: the question's embedding, when the caller has it already."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        question = clean_question(question)
        if not question or k <= 0 or self.snapshot.size == 0:
            return []
        rows = self._allowed_rows(filters)
        if rows is not None and len(rows) == 0:
            return []
        depth = max(self.params.depth, 4 * k)
        dense: list[tuple[int, float]] = []
        if mode != "lexical":
            if vector is None:
                vector = self.embedder.embed_query(question)
            dense = self.snapshot.dense_search(vector, depth, rows)
        lexical: list[tuple[int, float]] = []
        if mode != "dense":
            lexical = self._lexical(question, depth, rows)
        return self._hits(self._fuse(dense, lexical), dict(dense), dict(lexical), k)

    # ------------------------------------------------------------------ pieces

    def _allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or not filters.active:
            return None
        ok = np.array([filters.accepts(a) for a in self.snapshot.articles], dtype=bool)
        return np.flatnonzero(ok[self._article_of_row])

    def _lexical(self, question: str, depth: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        mask = None
        if rows is not None:
            mask = np.zeros(self.snapshot.size, dtype=bool)
            mask[rows] = True
        scores = self.snapshot.lexical.scores(question, mask, language=detect(question))
        if not scores.any():
            return []
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def _fuse(
        self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]
    ) -> list[tuple[int, float]]:
        p = self.params
        fused: dict[int, float] = {}
        for weight, ranked in ((p.dense_weight, dense), (p.lexical_weight, lexical)):
            for rank, (row, _) in enumerate(ranked):
                fused[row] = fused.get(row, 0.0) + weight / (p.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _hits(
        self,
        fused: list[tuple[int, float]],
        dense: dict[int, float],
        lexical: dict[int, float],
        k: int,
    ) -> list[Hit]:
        """Merge overlapping passages of one article; let other articles have a turn."""
        spans: list[_Span] = []
        deferred: list[_Span] = []
        for row, score in fused:
            p = self.snapshot.passages[row]
            span = _Span(
                int(p["article"]),
                int(p["start"]),
                int(p["end"]),
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
        arts = self.snapshot.articles
        spans.sort(key=lambda s: -s.score)
        return [
            Hit(arts[s.article], s.start, s.end, score=s.score, dense=s.dense, lexical=s.lexical)
            for s in spans[:k]
        ]


@dataclass
class _Span:
    article: int
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
