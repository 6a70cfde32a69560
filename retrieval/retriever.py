"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused, filtered, diversified."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.embedding import DEFAULT_BACKEND, Embedder, load_embedder, resolve_model
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
    ) -> list[Hit]:
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
        scores = self.snapshot.lexical.scores(question, mask)
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
        spans: list[list] = []  # [article_idx, start, end, score, dense, lexical]
        per_article: dict[int, int] = {}
        deferred: list[list] = []
        for row, score in fused:
            p = self.snapshot.passages[row]
            art, start, end = int(p["article"]), int(p["start"]), int(p["end"])
            d, lx = dense.get(row, -1.0), lexical.get(row, 0.0)
            merged = False
            for span in spans:
                if span[0] == art and start <= span[2] and end >= span[1]:
                    span[1], span[2] = min(span[1], start), max(span[2], end)
                    span[4], span[5] = max(span[4], d), max(span[5], lx)
                    merged = True
                    break
            if merged:
                continue
            entry = [art, start, end, score, d, lx]
            if per_article.get(art, 0) >= self.params.per_article:
                deferred.append(entry)
                continue
            per_article[art] = per_article.get(art, 0) + 1
            spans.append(entry)
            if len(spans) >= k:
                break
        spans.extend(deferred[: max(0, k - len(spans))])
        arts = self.snapshot.articles
        return [
            Hit(arts[a], s, e, score=sc, dense=d, lexical=lx)
            for a, s, e, sc, d, lx in sorted(spans, key=lambda x: -x[3])[:k]
        ]
