"""Vector stores: the contract (``base``), one file per store, and :func:`open_store` on top.

A new store is one file here (a :class:`VectorStore` and its :class:`StoreWriter`) and
one line in :func:`open_store`.
"""

from __future__ import annotations

from pathlib import Path

from retrieval.store.base import StoreStats, StoreWriter, Story, VectorStore
from retrieval.store.location import Location, is_database_url
from retrieval.store.manifest import ArticleEntry, Manifest
from retrieval.store.rows import Located, Ranked, passage_key


def open_store(location: Location | Path | str, *, index_type: str = "auto") -> VectorStore:
    """A PostgreSQL store for a database location (or ``postgresql://`` URL), else the FAISS
    index folder (``index_type``: the FAISS index type its next versions get)."""
    where = Location.of(location)
    if where.url is not None:
        from retrieval.store.pg import PgStore

        if index_type != "auto":
            raise ValueError("FAISS index types apply to index folders only, not to PostgreSQL")
        return PgStore(where.url)
    from retrieval.store.faiss import FaissStore

    assert where.folder is not None
    return FaissStore(where.folder, index_type=index_type)


__all__ = [
    "ArticleEntry",
    "Located",
    "Location",
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
