"""The BM25 side of the index: sparse, numpy only, saved without pickle.

Scores are Lucene BM25 (k1=1.5, b=0.75) exactly as bm25s computes them, and the
folder uses bm25s's file layout (``bm25s.BM25.load`` reads it), but neither
building, loading nor scoring imports bm25s: it pulls in scipy, which alone
costs a second of start-up. Each passage's term ids are kept too, so a rebuild
tokenizes only new passages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.text import terms

K1, B = 1.5, 0.75  # bm25s defaults ("lucene" BM25)
DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
VOCAB, PARAMS = "vocab.index.json", "params.index.json"
OWN_PARAMS = "newsbot.json"  # what bm25s does not know: the tokenizer version
DOC_TERMS = "doc_terms.npy"  # term ids of every passage, concatenated (int32)
DOC_OFFSETS = "doc_offsets.npy"  # where each passage's terms start (n_docs + 1, int64)
#: how passages become terms (retrieval.text.terms); stored term ids of another version are not reused
TOKENIZER = 2  # 2: stopwords and stemmer of the passage's own language


def bm25_idf(n_docs: int | np.ndarray, df: int | np.ndarray) -> Any:
    """Lucene's BM25 idf of a term found in ``df`` of ``n_docs`` passages (numpy arrays too);
    a term no passage holds (df 0) counts as the rarest."""
    return np.log(1 + (n_docs - df + 0.5) / (df + 0.5))


class LexicalIndex:
    """BM25 over passages; rows line up with the vector index rows.

    The score matrix is stored by term (CSC): ``indptr[t]:indptr[t+1]`` are the
    passages holding term ``t`` (``indices``) and their BM25 weights (``data``).
    """

    def __init__(
        self,
        vocab: dict[str, int],
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        n_docs: int,
        folder: Path | None = None,
    ) -> None:
        self._vocab = vocab
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self.n_docs = n_docs
        self._df = np.diff(indptr)
        self._folder = folder
        self._doc_terms: tuple[np.ndarray, np.ndarray] | None = None
        self.tokenizer = TOKENIZER

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        previous: LexicalIndex | None = None,
        reuse: Sequence[int] | np.ndarray | None = None,
        languages: Sequence[str] | None = None,
    ) -> LexicalIndex:
        """Index ``texts`` (``languages[i]``: the language of text i, for its stopwords);
        ``reuse[i]`` is a row of ``previous`` with the same text, or -1."""
        old = None
        vocab: dict[str, int] = {}
        if previous is not None and previous.tokenizer == TOKENIZER and reuse is not None:
            old = previous.doc_terms()
            vocab = dict(previous._vocab) if old is not None else {}
        langs = languages if languages is not None else [""] * len(texts)
        rows = np.asarray(reuse if old is not None else np.full(len(texts), -1), dtype=np.int64)
        fresh = {
            int(i): np.array(
                [vocab.setdefault(t, len(vocab)) for t in terms(texts[int(i)], language=langs[int(i)])],
                dtype=np.int32,
            )
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
        data, indices, indptr = _bm25_matrix(flat, offsets, len(vocab))
        index = cls(vocab, data, indices, indptr, len(texts))
        index._doc_terms = (flat, offsets)
        return index

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / DATA, self._data, allow_pickle=False)
        np.save(folder / INDICES, self._indices, allow_pickle=False)
        np.save(folder / INDPTR, self._indptr, allow_pickle=False)
        (folder / VOCAB).write_text(json.dumps(self._vocab, ensure_ascii=False), encoding="utf-8")
        params = {
            "k1": K1,
            "b": B,
            "delta": 0.5,
            "method": "lucene",
            "idf_method": "lucene",
            "dtype": "float32",
            "int_dtype": "int32",
            "num_docs": self.n_docs,
            "backend": "numpy",
        }
        (folder / PARAMS).write_text(json.dumps(params, indent=1), encoding="utf-8")
        (folder / OWN_PARAMS).write_text(json.dumps({"tokenizer": self.tokenizer}), encoding="utf-8")
        doc_terms = self.doc_terms()
        if doc_terms is not None:
            np.save(folder / DOC_TERMS, doc_terms[0], allow_pickle=False)
            np.save(folder / DOC_OFFSETS, doc_terms[1], allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        """Read a saved index (raises OSError / ValueError when damaged)."""
        if (folder / "EMPTY").exists():  # written for an empty archive by older versions
            return cls({}, np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), 0, folder)
        params = json.loads((folder / PARAMS).read_text(encoding="utf-8"))
        if params.get("method", "lucene") != "lucene" or (params.get("k1"), params.get("b")) != (K1, B):
            raise ValueError(f"unsupported BM25 parameters in {folder}")
        vocab = json.loads((folder / VOCAB).read_text(encoding="utf-8"))
        data = np.load(folder / DATA, allow_pickle=False)
        indices = np.load(folder / INDICES, allow_pickle=False)
        indptr = np.load(folder / INDPTR, allow_pickle=False)
        if len(indptr) == 0 or len(data) != len(indices) or int(indptr[-1]) != len(data):
            raise ValueError(f"inconsistent BM25 arrays in {folder}")
        index = cls(vocab, data, indices, indptr, n_docs, folder)
        try:  # beside bm25s's own files, which bm25s.BM25.load must still read
            own = json.loads((folder / OWN_PARAMS).read_text(encoding="utf-8"))
        except FileNotFoundError:
            own = {"tokenizer": 1}  # written before the file existed
        if not isinstance(own, dict) or not isinstance(own.get("tokenizer"), int):
            raise ValueError(f"unreadable {folder / OWN_PARAMS}")
        index.tokenizer = own["tokenizer"]
        return index

    def doc_terms(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Term ids of every passage and their offsets (read on first use), if stored."""
        if self._doc_terms is None and self._folder is not None:
            try:
                flat = np.load(self._folder / DOC_TERMS, allow_pickle=False)
                offsets = np.load(self._folder / DOC_OFFSETS, allow_pickle=False)
            except (OSError, ValueError):
                return None  # an index written before term ids were kept: tokenize again
            if len(offsets) != self.n_docs + 1 or int(offsets[-1]) != len(flat):
                return None
            self._doc_terms = (flat, offsets)
        return self._doc_terms

    def term_ids(self, words: Sequence[str]) -> list[int]:
        """Column ids of the search terms the index knows (a repeated term repeats)."""
        # bm25s files may list a term without a column (its "" placeholder): skip those.
        n_terms = len(self._indptr) - 1
        found = (self._vocab.get(t) for t in words)
        return [i for i in found if i is not None and i < n_terms]

    def scores(self, words: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for these search terms (0 where ``mask`` is False)."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        for tid in self.term_ids(words):  # a repeated query term counts again, as in bm25s
            lo, hi = self._indptr[tid], self._indptr[tid + 1]
            scores[self._indices[lo:hi]] += self._data[lo:hi]  # one entry per passage and term
        if mask is not None:
            scores *= mask
        return scores

    def idf(self, term: str) -> float:
        """Inverse document frequency of a search term (unknown terms count as rare)."""
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
        return float(bm25_idf(self.n_docs, df))


def _inverse(vocab: dict[str, int]) -> list[str]:
    by_id = [""] * len(vocab)
    for term, i in vocab.items():
        by_id[i] = term
    return by_id


def _bm25_matrix(flat: np.ndarray, offsets: np.ndarray, n_vocab: int) -> tuple[np.ndarray, ...]:
    """Lucene BM25 weights of every (term, passage) pair, in CSC order."""
    n_docs = len(offsets) - 1
    doc_len = np.diff(offsets)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len)
    # One sort by (term, passage) gives both the term frequencies and the CSC order.
    pairs, tf = np.unique(flat.astype(np.int64) * max(n_docs, 1) + doc_of, return_counts=True)
    term, doc = pairs // max(n_docs, 1), pairs % max(n_docs, 1)
    df = np.bincount(term, minlength=n_vocab)
    avg_len = float(doc_len.mean()) if n_docs and doc_len.sum() else 1.0
    idf = bm25_idf(n_docs, df).astype(np.float32)
    tfc = tf / (K1 * ((1 - B) + B * doc_len[doc] / avg_len) + tf)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return (idf[term] * tfc).astype(np.float32), doc.astype(np.int32), indptr
