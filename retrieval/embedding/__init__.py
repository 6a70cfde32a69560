"""Embedders: the contract (``base``), one file per model kind, and the factory (``models``).

A new model kind is one file here (a subclass of :class:`Embedder` implementing
``embed_batch``) and one branch in :func:`load_embedder`.
"""

from retrieval.embedding.base import Embedder, ModelError, ModelTraits, Progress, normalize
from retrieval.embedding.hashing import HashingEmbedder
from retrieval.embedding.models import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    MULTILINGUAL_MODEL,
    LazyEmbedder,
    ModelSpec,
    load_embedder,
    resolve_model,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "MULTILINGUAL_MODEL",
    "Embedder",
    "HashingEmbedder",
    "LazyEmbedder",
    "ModelError",
    "ModelSpec",
    "ModelTraits",
    "Progress",
    "load_embedder",
    "normalize",
    "resolve_model",
]
