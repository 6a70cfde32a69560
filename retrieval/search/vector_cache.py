"""A bounded, thread-safe cache of text vectors: embed each text once per process.

The quote composer embeds candidate sentences at question time (cross-lingual
questions, and every question with the multilingual model). Readers ask several
questions about the same story, and `/more` re-reads the same hits, so the same
sentences come back; only the ones not seen recently are embedded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]


class VectorCache:
    """Least-recently-used vectors by text, at most ``size`` of them (384 floats: 1.5 KB each)."""

    def __init__(self, embed: Embed, size: int = 4096) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order; the unseen ones embedded in one batch."""
        if not texts:
            return np.asarray(self._embed([]), dtype=np.float32)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = np.asarray(self._embed(missing), dtype=np.float32)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                    self._vectors.move_to_end(text)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])
