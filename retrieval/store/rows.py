"""What both stores share below the contract: row tables, content keys, ranked results."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.types import Article

#: ``(row, score)`` pairs, best first
Ranked = list[tuple[int, float]]
#: where a passage or sentence lies, as stored in numpy tables: article position, offsets
SPAN_DTYPE = np.dtype([("article", "<i4"), ("start", "<i4"), ("end", "<i4")])
#: a text's content hash (:func:`passage_key`), as stored in numpy tables
KEY_DTYPE = np.dtype("S16")


@dataclass(frozen=True)
class Located:
    """Where a passage row lies: its article and character offsets."""

    article: Article
    start: int
    end: int


def passage_key(text: str) -> bytes:
    """The content hash of a passage's (or sentence's) text: stored vectors are re-used by it."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def vectors_by_key(
    rows_by_key: dict[bytes, int], vectors: np.ndarray, keys: Sequence[bytes]
) -> dict[bytes, np.ndarray]:
    """The rows of ``vectors`` (as float32) stored under ``keys``; ``rows_by_key`` maps the
    stored KEY_DTYPE values to rows."""
    # Compared as numpy stores them: fixed-width bytes drop trailing NULs.
    wanted = np.array(list(keys), dtype=KEY_DTYPE).tolist()
    rows = {key: rows_by_key[w] for key, w in zip(keys, wanted, strict=True) if w in rows_by_key}
    if not rows:
        return {}
    found = np.asarray(vectors[np.array(list(rows.values()))], dtype=np.float32)
    return {key: found[i] for i, key in enumerate(rows)}


def top_k(scores: np.ndarray, k: int, positive: bool = True) -> Ranked:
    """Positions of the ``k`` highest scores, best first; with ``positive`` only scores above 0."""
    if k <= 0 or not len(scores) or (positive and not scores.any()):
        return []
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top if not positive or scores[i] > 0]
