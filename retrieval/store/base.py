"""The vector-store contract: one archive's articles, passages, vectors and lexical side.

Readers use :class:`VectorStore`; one indexing run at a time writes through the
:class:`StoreWriter` that :meth:`VectorStore.writer` hands out. Passage rows are integers
unique within a store; scores are cosine similarity (dense) and Lucene BM25 (lexical).
A new store is one file in this package and one line in :func:`retrieval.store.open_store`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from retrieval.store.lexical import bm25_idf
from retrieval.store.location import Location
from retrieval.store.manifest import Manifest
from retrieval.store.rows import Located, Ranked
from retrieval.store.sentences import SentenceTable
from retrieval.types import Article, Filters


@dataclass(frozen=True)
class StoreStats:
    location: str  # the index folder, or the database URL without its password
    articles: int
    passages: int
    model: str
    index_type: str
    created: str  # ISO timestamp of the last write
    sources: tuple[tuple[str, int], ...]  # outlet, articles; most first
    languages: tuple[tuple[str, int], ...]
    first_published: str
    last_published: str
    sentences: int = 0  # sentence vectors (models that index them)


@dataclass(frozen=True)
class Story:
    """Near-duplicate copies of one article (syndicated, lightly edited): the story's id and
    every member's metadata (text left empty), the article asked about included."""

    id: str
    members: tuple[Article, ...]


class VectorStore(ABC):
    """What the retriever reads and the indexer writes (through :meth:`writer`)."""

    #: where the store lives (its folder or database URL), and that place for messages (the
    #: folder, or the URL without its password)
    where: Location
    location: str

    @abstractmethod
    def manifest(self) -> Manifest:
        """Model, dimension, chunking and per-article entries; IndexMissingError when empty."""

    @abstractmethod
    def count(self) -> int:
        """Passages stored."""

    @abstractmethod
    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        """Top ``k`` rows by cosine similarity to ``vector`` among those ``filters`` accept."""

    @abstractmethod
    def lexical_search(self, terms: Sequence[str], k: int, filters: Filters | None = None) -> Ranked:
        """Top ``k`` rows by BM25 of these search terms (a repeated term counts again; only
        rows scoring above 0)."""

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

    @abstractmethod
    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of passages whose text hashes to these keys (re-used, not re-embedded)."""

    def stories(self, article_ids: Sequence[str]) -> dict[str, Story]:
        """The story of each of these articles that has other copies (one look-up); articles
        without copies, or unknown, are left out."""
        return {}

    def sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        """Per passage row, the best cosine of ``vector`` to one of its sentences; empty when
        the store holds no sentence vectors (see :mod:`retrieval.store.sentences`)."""
        return {}

    def sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of the sentences whose text hashes to these keys."""
        return {}

    def unseen_idf(self) -> float:
        """The idf :meth:`idfs` gives a term no passage holds."""
        return bm25_idf(self.count(), 0)

    def reopened(self) -> VectorStore:
        """A store reading what is live now: stores that read one fixed version (the FAISS
        index folder) open the newest; live ones (PostgreSQL) are that already."""
        return self

    @abstractmethod
    def writer(self) -> AbstractContextManager[StoreWriter]:
        """The one indexing run at a time (others wait); its writes are kept when the block
        ends normally (see :class:`StoreWriter` for what a crash leaves)."""

    def close(self) -> None:  # noqa: B027 - optional for stores holding no resources
        """Release connections; the store is not used afterwards."""


class StoreWriter(ABC):
    """One indexing run's view of a store: the live state, and the writes.

    Readers never see half an article. The FAISS store keeps every write of a run in
    memory and makes them live in one atomic swap when the run ends (a crash keeps the
    previous version whole); PostgreSQL commits each article on its own (a crash keeps
    the articles written so far, and the next run does the rest).
    """

    @abstractmethod
    def manifest(self) -> Manifest | None:
        """The live manifest (None: the store holds no archive yet)."""

    @abstractmethod
    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Live passage vectors by the key of their text."""

    def known_sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Live sentence vectors by the key of their text."""
        return {}

    def signatures(self) -> dict[str, np.ndarray]:
        """Live articles' MinHash signatures (``near_duplicates.signature``), of those stored
        with one."""
        return {}

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
        layout: str = "",
        signature: np.ndarray | None = None,
        story: str = "",
    ) -> None:
        """Add ``article`` with passages ``article.text[start:end]`` and their vectors (and
        its sentence vectors, for models that index them), replacing whatever was stored
        under its id; ``layout`` says how the passages were made (ArticleEntry.layout);
        ``signature``: its MinHash signature (none: never grouped); ``story``: its story id
        (default: its own id)."""

    @abstractmethod
    def remove_article(self, article_id: str) -> None: ...

    @abstractmethod
    def set_stories(self, stories: Mapping[str, str]) -> None:
        """Set the story id of stored articles (article id -> story id; ids not stored are
        ignored)."""

    def set_chunking(self, chunking: dict[str, int]) -> None:  # noqa: B027 - optional
        """Record the chunking the archive's articles are being brought to."""

    @abstractmethod
    def set_sources(self, sources: Sequence[Mapping[str, str]]) -> None:
        """Record the sources the archive remembers (``Manifest.extra["sources"]``)."""


def stats_of(
    location: str, articles: Sequence[Article], passages: int, manifest: Manifest, sentences: int = 0
) -> StoreStats:
    """Stats computed from the articles in memory."""
    dates = sorted(a.published for a in articles if a.published)
    return StoreStats(
        location=location,
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
