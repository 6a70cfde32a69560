"""Building and searching the FAISS index of one version: the type follows the size.

``flat`` is exact; ``ivf-sq8`` (inverted lists, 8-bit scalar codes: 4x less memory)
and ``hnsw`` (a graph over full vectors) are approximate and fast at millions of
passages. Vectors are normalized and searched by inner product (cosine).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from retrieval.store.rows import Ranked, top_k

INDEX_TYPES = ("auto", "flat", "hnsw", "ivf-sq8")
#: passages; from here on "auto" builds IVF-SQ8 instead of exact search (bench/speed.py)
ANN_THRESHOLD = 50_000
#: index types whose stored vectors are approximate: exact ones are kept beside them
LOSSY_TYPES = frozenset({"ivf-sq8"})
HNSW_EF_SEARCH = 128
#: a filter leaving at most this many rows is searched exactly, row by row
EXACT_FILTERED_ROWS = 50_000
#: ... for a flat index, at most this many (its own filtered scan is quicker past it)
FLAT_GATHER_ROWS = 2_000
#: candidates fetched from an approximate index per result, then re-scored exactly
RERANK_FACTOR = 4


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: a power of two near sqrt(n), 39+ points each."""
    nlist = 1 << max(0, round(math.log2(math.sqrt(max(n, 1)))))
    return max(1, min(nlist, n // 39))


def ivf_probes(nlist: int) -> int:
    """Lists scanned per query: 1/32 of them, 8 to 64 (recall@10 vs exact: bench/speed.py)."""
    return min(nlist, max(8, min(64, nlist // 32)))


def build_faiss(vectors: np.ndarray, index_type: str = "auto") -> tuple[Any, str]:
    """A FAISS inner-product index over normalized vectors, and the type it has."""
    import faiss

    n, dim = vectors.shape if vectors.size else (0, vectors.shape[1])
    if index_type == "auto":
        index_type = "ivf-sq8" if n >= ANN_THRESHOLD else "flat"
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index: Any  # one of three faiss classes; the stubs lack the attributes each branch sets
    if index_type == "flat" or (index_type == "ivf-sq8" and n == 0):
        index_type = "flat"
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif index_type == "ivf-sq8":
        nlist = ivf_lists(n)
        index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        sample = min(n, 64 * nlist)
        rows = (
            np.sort(np.random.default_rng(0).choice(n, sample, replace=False)) if sample < n else slice(None)
        )
        index.train(vectors[rows])
        index.nprobe = ivf_probes(nlist)
    else:
        raise ValueError(f"unknown index type {index_type!r}: use one of {', '.join(INDEX_TYPES)}")
    if n:
        index.add(vectors)
    return index, index_type


def search_index(
    index: Any,
    kind: str,
    exact: Callable[[], np.ndarray],
    vector: np.ndarray,
    k: int,
    rows: np.ndarray | None = None,
) -> Ranked:
    """Top ``k`` rows of ``index`` (of type ``kind``) by cosine to ``vector``, restricted to
    ``rows`` when given; ``exact()`` gives the exact vectors the lossy types re-score with.
    Never yields -1."""
    import faiss

    size = int(index.ntotal)
    if size == 0 or k <= 0 or (rows is not None and len(rows) == 0):
        return []
    # One query is too small to share between threads; OpenMP's hand-offs cost
    # more than they save, badly so on a busy machine. (Per calling thread.)
    faiss.omp_set_num_threads(1)
    params = sel = None
    if rows is not None:
        # Gathering few rows is cheaper than a filtered scan, and exact; for a flat index
        # (exact too) faiss's own filtered scan wins once the rows are many.
        few = FLAT_GATHER_ROWS if kind == "flat" else EXACT_FILTERED_ROWS
        if len(rows) <= few:
            return exact_search(exact(), vector, k, rows)
        # ``sel`` must outlive the search: the parameters only point at it.
        sel = faiss.IDSelectorBatch(rows.astype("int64"))
        if kind == "hnsw":
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]  # faiss stubs lack SearchParametersHNSW
                sel=sel, efSearch=max(HNSW_EF_SEARCH, k)
            )
        elif kind == "ivf-sq8":
            # Fewer allowed rows per list: scan proportionally more lists.
            nprobe = min(index.nlist, math.ceil(index.nprobe * size / len(rows)))
            params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)  # type: ignore[call-arg]  # faiss stubs lack the keyword fields its wrapper takes
        else:
            params = faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]  # faiss stubs lack the keyword fields its wrapper takes
    k = min(k, size)
    fetch = min(size, RERANK_FACTOR * k) if kind in LOSSY_TYPES else k
    scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), fetch, params=params)
    del sel
    if kind in LOSSY_TYPES:  # 8-bit codes blur near-ties: re-score candidates exactly
        return exact_search(exact(), vector, k, ids[0][ids[0] >= 0])
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def exact_search(vectors: np.ndarray, vector: np.ndarray, k: int, rows: np.ndarray) -> Ranked:
    """Top ``k`` of ``rows`` by cosine, computed from the exact ``vectors``."""
    if len(rows) == 0:
        return []
    rows = np.sort(rows)  # sequential reads from memory-mapped vectors
    scores = np.asarray(vectors[rows] @ vector.astype(np.float32), dtype=np.float32)
    return [(int(rows[i]), s) for i, s in top_k(scores, k, positive=False)]
