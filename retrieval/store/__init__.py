"""Vector stores: the contract (``base``), one file per store, and :func:`open_store` on top.

A new store is one file here (a :class:`VectorStore` and its :class:`StoreWriter`) and
one line in :func:`open_store`.
"""

from __future__ import annotations

from pathlib import Path

from retrieval.store.base import StoreStats, StoreWriter, Story, VectorStore
from retrieval.store.manifest import ArticleEntry, Manifest
from retrieval.store.rows import Located, Ranked, passage_key

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(DATABASE_SCHEMES)


def open_store(location: str | Path, *, index_type: str = "auto") -> VectorStore:
    """A PostgreSQL store for a ``postgresql://`` URL, else the FAISS index folder
    (``index_type``: the FAISS index type its next versions get)."""
    if is_database_url(location):
        from retrieval.store.pg import PgStore

        if index_type != "auto":
            raise ValueError("FAISS index types apply to index folders only, not to PostgreSQL")
        return PgStore(str(location))
    from retrieval.store.faiss import FaissStore

    return FaissStore(Path(location), index_type=index_type)


__all__ = [
    "ArticleEntry",
    "Located",
    "Manifest",
    "Ranked",
    "StoreStats",
    "StoreWriter",
    "Story",
    "VectorStore",
    "is_database_url",
    "open_store",
    "passage_key",
]
