"""The BM25 side of the index (bm25s: sparse, fast, saved without pickle)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.text import terms


class LexicalIndex:
    """BM25 over passages; rows line up with the vector index rows."""

    def __init__(self, bm25: object | None, n_docs: int) -> None:
        self._bm25 = bm25  # None for an empty archive
        self.n_docs = n_docs
        vocab: dict[str, int] = getattr(bm25, "vocab_dict", None) or {}
        self._vocab = vocab
        self._df = np.diff(bm25.scores["indptr"]) if bm25 is not None else np.zeros(0)  # type: ignore[attr-defined]

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        if not texts:
            return cls(None, 0)
        import bm25s

        corpus = [terms(t) for t in texts]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        if self._bm25 is None:
            (folder / "EMPTY").write_text("no passages\n", encoding="utf-8")
            return
        self._bm25.save(str(folder), show_progress=False)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        if (folder / "EMPTY").exists():
            return cls(None, 0)
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False, verbosity=0)
        return cls(bm25, n_docs)

    def query_ids(self, query: str) -> list[int]:
        return [self._vocab[t] for t in terms(query) if t in self._vocab]

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for ``query`` (0 where ``mask`` is False)."""
        ids = self.query_ids(query)
        if not ids or self._bm25 is None:
            return np.zeros(self.n_docs, dtype=np.float32)
        weight = None if mask is None else mask.astype(np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids, weight_mask=weight), dtype=np.float32)  # type: ignore[attr-defined]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a search term (unknown terms count as rare)."""
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))
