"""A deterministic bag-of-terms embedder for tests and dry runs (no model)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from retrieval.embedding.base import Embedder
from retrieval.text import terms


class HashingEmbedder(Embedder):
    """Each stemmed term is hashed to a few signed dimensions, so texts sharing
    words get a high cosine similarity: good enough to exercise retrieval."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
                for j in range(0, 8, 4):
                    h = int.from_bytes(digest[j : j + 4], "little")
                    out[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return out
