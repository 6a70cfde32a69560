"""The BM25 side of the index (bm25s: sparse, fast, saved without pickle)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.text import terms

DOC_TERMS = "doc_terms.npy"  # term ids of every passage, concatenated (int32)
DOC_OFFSETS = "doc_offsets.npy"  # where each passage's terms start (n_docs + 1, int64)
K1, B = 1.5, 0.75  # bm25s defaults ("lucene" BM25)


class LexicalIndex:
    """BM25 over passages; rows line up with the vector index rows.

    Besides the bm25s score matrix it keeps each passage's term ids, so a
    rebuild tokenizes only new passages and the matrix is computed in numpy
    (the same scores bm25s computes, without its per-document Python loop).
    """

    def __init__(self, bm25: object, n_docs: int, folder: Path | None = None) -> None:
        self._bm25 = bm25
        self.n_docs = n_docs
        vocab: dict[str, int] = getattr(bm25, "vocab_dict", None) or {}
        self._vocab = vocab
        indptr = bm25.scores["indptr"]  # type: ignore[attr-defined]
        self._df = np.diff(indptr)
        self._folder = folder
        self._doc_terms: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        previous: LexicalIndex | None = None,
        reuse: Sequence[int] | None = None,
    ) -> LexicalIndex:
        """Index ``texts``; ``reuse[i]`` is a row of ``previous`` with the same text, or -1."""
        old = None
        if previous is not None and reuse is not None:
            old = previous.doc_terms()
        rows = np.asarray(reuse if old is not None else np.full(len(texts), -1), dtype=np.int64)
        vocab: dict[str, int] = dict(previous._vocab) if old is not None else {}  # type: ignore[union-attr]
        fresh = {
            int(i): np.array([vocab.setdefault(t, len(vocab)) for t in terms(texts[i])], dtype=np.int32)
            for i in np.flatnonzero(rows < 0)
        }
        lengths = np.zeros(len(texts), dtype=np.int64)
        kept = np.flatnonzero(rows >= 0)
        if old is not None:
            lengths[kept] = old[1][rows[kept] + 1] - old[1][rows[kept]]
        for i, ids in fresh.items():
            lengths[i] = len(ids)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.zeros(int(offsets[-1]), dtype=np.int32)
        if old is not None and len(kept):
            # Copy every kept passage's run of term ids in one vectorized step.
            n = lengths[kept]
            within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
            flat[np.repeat(offsets[kept], n) + within] = old[0][np.repeat(old[1][rows[kept]], n) + within]
        for i, ids in fresh.items():
            flat[offsets[i] : offsets[i + 1]] = ids
        # Drop terms no passage uses any more; keep ids dense.
        used = np.bincount(flat, minlength=len(vocab)) > 0
        flat = (np.cumsum(used) - 1).astype(np.int32)[flat]
        by_id = _inverse(vocab)
        vocab = {by_id[old_id]: new_id for new_id, old_id in enumerate(np.flatnonzero(used).tolist())}
        bm25 = _bm25_from_ids(flat, offsets, vocab)
        index = cls(bm25, len(texts))
        index._doc_terms = (flat, offsets)
        return index

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)  # type: ignore[attr-defined]
        terms_ = self.doc_terms()
        if terms_ is not None:
            np.save(folder / DOC_TERMS, terms_[0], allow_pickle=False)
            np.save(folder / DOC_OFFSETS, terms_[1], allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False, verbosity=0)
        return cls(bm25, n_docs, folder)

    def doc_terms(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Term ids of every passage and their offsets (read on first use), if stored."""
        if self._doc_terms is None and self._folder is not None:
            try:
                flat = np.load(self._folder / DOC_TERMS, mmap_mode="r", allow_pickle=False)
                offsets = np.load(self._folder / DOC_OFFSETS, allow_pickle=False)
            except (OSError, ValueError):
                return None  # an index written before term ids were kept: tokenize again
            if len(offsets) != self.n_docs + 1:
                return None
            self._doc_terms = (flat, offsets)
        return self._doc_terms

    def query_ids(self, query: str) -> list[int]:
        return [self._vocab[t] for t in terms(query) if t in self._vocab]

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for ``query`` (0 where ``mask`` is False)."""
        ids = self.query_ids(query)
        if not ids or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        weight = None if mask is None else mask.astype(np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids, weight_mask=weight), dtype=np.float32)  # type: ignore[attr-defined]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a search term (unknown terms count as rare)."""
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))


def _inverse(vocab: dict[str, int]) -> list[str]:
    by_id = [""] * len(vocab)
    for term, i in vocab.items():
        by_id[i] = term
    return by_id


def _bm25_from_ids(flat: np.ndarray, offsets: np.ndarray, vocab: dict[str, int]) -> object:
    """A bm25s index (Lucene BM25, k1=1.5, b=0.75) from term ids, computed with numpy."""
    import bm25s

    n_docs, n_vocab = len(offsets) - 1, len(vocab)
    doc_len = np.diff(offsets)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len)
    # One sort by (term, passage) gives both the term frequencies and the CSC order.
    pairs, tf = np.unique(flat.astype(np.int64) * max(n_docs, 1) + doc_of, return_counts=True)
    term, doc = pairs // max(n_docs, 1), pairs % max(n_docs, 1)
    df = np.bincount(term, minlength=n_vocab)
    avg_len = float(doc_len.mean()) if n_docs and doc_len.sum() else 1.0
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    tfc = tf / (K1 * ((1 - B) + B * doc_len[doc] / avg_len) + tf)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
    bm25.scores = {
        "data": (idf[term] * tfc).astype(np.float32),
        "indices": doc.astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }
    bm25.vocab_dict = vocab
    bm25.unique_token_ids_set = set(vocab.values())
    bm25.nonoccurrence_array = None
    return bm25
