"""The embedder contract: text in, L2-normalized float32 vectors out.

An embedder implements one method, :meth:`Embedder.embed_batch`; batching,
length-sorting, normalization and progress reporting are written once here.
What a model is (its name, traits, where it loads from) lives in
:mod:`retrieval.embedding.models`, readable without loading any weights.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.errors import ModelError

Progress = Callable[[int], None]
__all__ = ["Embedder", "ModelError", "ModelTraits", "Progress", "normalize"]


@dataclass(frozen=True)
class ModelTraits:
    """How a model's scores are read; known from its spec, before any weights load."""

    #: cosine (question vs best passage) below which the archive "holds no answer";
    #: each model scores on its own scale (bench/quality.py, bench/multilingual.py --calibrate)
    relevance_floor: float = 0.30
    #: the floor for a question in another language than the closest article (None: the same)
    cross_lingual_floor: float | None = None
    #: weight of question-vs-sentence cosines when quotes are chosen in the question's own
    #: language (QuoteParams.sentence_cosine_same_language): 0 unless they measured better there
    sentence_cosine_weight: float = 0.0
    #: whether indexes for this model hold a vector per sentence (retrieval.store.sentences):
    #: a second, sentence-level look at each passage, at about twice the indexing time
    index_sentences: bool = False
    #: the languages the model understands (None: any, or not known)
    languages: frozenset[str] | None = None


class Embedder(ABC):
    """Turns texts into unit-length vectors of dimension :attr:`dim`."""

    #: name recorded in the index manifest; an index only loads with the same name
    name: str = "embedder"
    dim: int = 0
    traits: ModelTraits = ModelTraits()
    #: prepended to questions / passages (e5-style models need these)
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 32

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

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([self.query_prefix + text])[0]

    def load(self) -> None:  # noqa: B027 - only lazy embedders have something to do
        """Be ready to embed (a lazy embedder loads its model), so timings leave loading out."""


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)
