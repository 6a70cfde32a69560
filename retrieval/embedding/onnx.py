"""ONNX Runtime embedder: a sentence-transformers model run from its int8 ONNX export.

Later loads need neither PyTorch nor sentence-transformers: only onnxruntime and
the ``tokenizers`` fast tokenizer (:mod:`retrieval.embedding.onnx_export` makes
the file once). Pooling, sequence length and normalization follow the model's own
sentence-transformers configuration, so vectors agree with the PyTorch embedder
and an index built one way answers queries embedded the other way.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding.base import Embedder, ModelError
from retrieval.embedding.onnx_export import ensure_exported, read_layout


def _default_cache() -> Path:
    return Path(tempfile.gettempdir()) / "newsbot-onnx-cache"


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class OnnxEmbedder(Embedder):
    """A sentence-transformers model run by ONNX Runtime (int8 weights by default)."""

    def __init__(
        self,
        path: Path,
        name: str | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 8,
        threads: int | None = None,
        quantize: bool = True,
    ) -> None:
        from tokenizers import Tokenizer

        layout = read_layout(Path(path))
        self.layout = layout
        self.model_file = ensure_exported(layout, cache_dir or _default_cache(), quantize)
        self.dim = layout.dim
        self.name = name or Path(path).name
        self.batch_size = batch_size
        self.threads = threads or cpu_threads()
        self._lock = threading.Lock()
        # Two sessions over one file: a single question runs on one thread (too small
        # to split; p50 ~6 ms), batches on all cores. Only what is used gets created,
        # so the bot never builds the batch one. The query one also checks the file.
        self._single = self._session(1)
        self._batch: Any = None
        self._inputs = [i.name for i in self._single.get_inputs()]
        tok = Tokenizer.from_file(str(layout.tokenizer))
        tok.enable_truncation(max_length=layout.max_seq_length)
        pad = tok.padding or {}
        tok.enable_padding(pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]"))
        self._tokenizer = tok

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts: sorting by them, not by characters, leaves less padding per batch."""
        return [sum(e.attention_mask) for e in self._tokenizer.encode_batch(list(texts))]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        session = self._single if len(texts) == 1 else self._batch_session()
        (hidden,) = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return _pool(hidden, mask, self.layout.pooling)

    def _batch_session(self) -> Any:
        with self._lock:
            if self._batch is None:
                self._batch = self._session(self.threads)
            return self._batch

    def _session(self, threads: int) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: ~30% less CPU for the same
        # batches, which matters on a small machine that serves while it indexes.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            return ort.InferenceSession(str(self.model_file), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types; the file may be damaged
            raise ModelError(
                f"cannot load the ONNX model {self.model_file} ({exc}); delete it to export again"
            ) from exc


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    m = mask[:, :, None].astype(np.float32)
    if mode == "cls":
        return hidden[:, 0]
    if mode == "max":
        return np.where(m > 0, hidden, -1e9).max(axis=1)
    summed = (hidden * m).sum(axis=1)
    count = np.clip(m.sum(axis=1), 1e-9, None)
    return summed / (np.sqrt(count) if mode == "mean_sqrt_len" else count)
