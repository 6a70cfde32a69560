"""The vector-store contract: one archive's articles, passages, vectors and lexical side.

Two implementations: FAISS files in an index folder (``store_faiss.FaissStore``, the
embedded default) and PostgreSQL with pgvector (``store_pg.PgStore``), which several
bot processes can share live. Passage rows are integers unique within a store;
scores are cosine similarity (dense) and Lucene BM25 (lexical) in both.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval.articles import Article
from retrieval.manifest import Manifest
from retrieval.types import Filters

if TYPE_CHECKING:
    from retrieval.sentences import SentenceTable

#: ``(row, score)`` pairs, best first
Ranked = list[tuple[int, float]]
#: where a passage or sentence lies, as stored in numpy tables: article position, offsets
SPAN_DTYPE = np.dtype([("article", "<i4"), ("start", "<i4"), ("end", "<i4")])
#: a text's content hash (:func:`passage_key`), as stored in numpy tables
KEY_DTYPE = np.dtype("S16")


class StoreUnavailableError(Exception):
    """The store cannot be reached (e.g. the database is down); retrying later may work."""


@dataclass(frozen=True)
class Located:
    """Where a passage row lies: its article and character offsets."""

    article: Article
    start: int
    end: int


@dataclass(frozen=True)
class StoreStats:
    articles: int
    passages: int
    model: str
    index_type: str
    created: str
    sources: tuple[tuple[str, int], ...]  # outlet, articles; most first
    languages: tuple[tuple[str, int], ...]
    first_published: str
    last_published: str
    sentences: int = 0  # sentence vectors (models that index them)


class VectorStore(ABC):
    """What the retriever reads and the indexer writes.

    Writes (``reset``, ``put_article``, ``remove_article``) are each atomic: a reader
    sees an article's passages all old or all new, never a mix.
    """

    #: where the store lives, for messages (an index folder, or a URL without its password)
    location: str

    # ------------------------------------------------------------------ reading

    @abstractmethod
    def manifest(self) -> Manifest:
        """Model, dimension, chunking and per-article hashes; IndexMissingError when empty."""

    @abstractmethod
    def count(self) -> int:
        """Passages stored."""

    @abstractmethod
    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        """Top ``k`` rows by cosine similarity to ``vector`` among those ``filters`` accept."""

    @abstractmethod
    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        """Top ``k`` rows by BM25 (only rows scoring above 0)."""

    @abstractmethod
    def locate(self, rows: Sequence[int]) -> dict[int, Located]:
        """The article and offsets of each known row."""

    @abstractmethod
    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of search terms (unknown terms count as rare)."""

    @abstractmethod
    def article(self, article_id: str) -> Article | None: ...

    @abstractmethod
    def catalog(self) -> list[Article]:
        """Every article's metadata; the text may be left empty."""

    @abstractmethod
    def stats(self) -> StoreStats: ...

    def sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        """Per passage row, the best cosine of ``vector`` to one of its sentences; empty when
        the store holds no sentence vectors (see :mod:`retrieval.sentences`)."""
        return {}

    def sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of the sentences whose text hashes to these keys."""
        return {}

    def idf(self, term: str) -> float:
        return self.idfs([term])[term]

    def unseen_idf(self) -> float:
        """The idf :meth:`idfs` gives a term no passage holds (Lucene BM25, as both stores)."""
        n = self.count()
        return math.log(1 + (n + 0.5) / 0.5)

    # ------------------------------------------------------------------ writing

    @abstractmethod
    def writer(self) -> AbstractContextManager[None]:
        """Held by one writer (indexer) at a time; others wait."""

    @abstractmethod
    def reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        """Start an empty archive for this model and chunking (drops everything stored)."""

    @abstractmethod
    def put_article(
        self,
        article: Article,
        spans: Sequence[tuple[int, int]],
        vectors: np.ndarray,
        sentences: SentenceTable | None = None,
    ) -> None:
        """Add ``article`` with passages ``article.text[start:end]`` and their vectors (and
        its sentence vectors, for models that index them), replacing whatever was stored
        under its id."""

    @abstractmethod
    def remove_article(self, article_id: str) -> None: ...

    @abstractmethod
    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of passages whose text hashes to these keys (re-used, not re-embedded)."""

    def close(self) -> None:  # noqa: B027 - optional for stores holding no resources
        """Release connections; the store is not used afterwards."""


def passage_key(text: str) -> bytes:
    """The content hash of a passage's text: stored vectors are re-used by it."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def vectors_by_key(
    rows_by_key: dict[bytes, int], vectors: np.ndarray, keys: Sequence[bytes]
) -> dict[bytes, np.ndarray]:
    """The rows of ``vectors`` (as float32) stored under ``keys``; ``rows_by_key`` maps the
    stored KEY_DTYPE values to rows."""
    # Compared as numpy stores them: fixed-width bytes drop trailing NULs.
    wanted = np.array(list(keys), dtype=KEY_DTYPE).tolist()
    rows = {key: rows_by_key[w] for key, w in zip(keys, wanted, strict=True) if w in rows_by_key}
    if not rows:
        return {}
    found = np.asarray(vectors[np.array(list(rows.values()))], dtype=np.float32)
    return {key: found[i] for i, key in enumerate(rows)}


def is_database_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | Path, **options: object) -> VectorStore:
    """A PostgreSQL store for a ``postgresql://`` URL, else the FAISS index folder."""
    if is_database_url(location):
        from retrieval.store_pg import PgStore

        return PgStore(str(location), **options)  # type: ignore[arg-type]
    from retrieval.store_faiss import FaissStore

    return FaissStore(Path(location))


def stats_of(
    articles: Sequence[Article], passages: int, manifest: Manifest, sentences: int = 0
) -> StoreStats:
    """Stats computed from the articles in memory."""
    from collections import Counter

    dates = sorted(a.published for a in articles if a.published)
    return StoreStats(
        articles=len(articles),
        passages=passages,
        model=manifest.model,
        index_type=manifest.index_type,
        created=manifest.created,
        sources=tuple(Counter(a.source for a in articles if a.source).most_common()),
        languages=tuple(Counter(a.language for a in articles if a.language).most_common()),
        first_published=dates[0] if dates else "",
        last_published=dates[-1] if dates else "",
        sentences=sentences,
    )


def top_k(scores: np.ndarray, k: int) -> Iterator[tuple[int, float]]:
    """Indices of the ``k`` highest positive scores, best first."""
    if not scores.any() or k <= 0:
        return iter(())
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return ((int(i), float(scores[i])) for i in top if scores[i] > 0)
