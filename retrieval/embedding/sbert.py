"""Any sentence-transformers model directory, run with PyTorch on the CPU (fp32)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embedding.base import Embedder, ModelError


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, path: Path, name: str | None = None, batch_size: int = 32) -> None:
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(f"{path} is not a sentence-transformers model directory")
        from sentence_transformers import SentenceTransformer  # heavy: imported lazily

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ModelError(f"cannot tell the embedding dimension of {path}")
        self.dim = int(dim)
        self.name = name or path.name
        self.batch_size = batch_size

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            self._model.encode(
                list(texts), batch_size=len(texts), convert_to_numpy=True, show_progress_bar=False
            )
        )
