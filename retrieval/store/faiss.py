"""The index folder (FAISS files) as a :class:`VectorStore`.

Reads come from one loaded :class:`Snapshot`, a fixed version: open a new store to
see later writes. A :class:`FaissWriter` keeps a run's writes in memory and makes them
live as one new version (:mod:`retrieval.store.snapshots`) when the run ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retrieval.dates import published_span
from retrieval.errors import IndexMissingError
from retrieval.store.base import StoreStats, StoreWriter, Story, VectorStore, stats_of
from retrieval.store.faiss_index import INDEX_TYPES, build_faiss, search_index
from retrieval.store.lexical import LexicalIndex
from retrieval.store.location import Location
from retrieval.store.manifest import ArticleEntry, Manifest, metadata_hash
from retrieval.store.near_duplicates import DuplicateParams
from retrieval.store.rows import KEY_DTYPE, SPAN_DTYPE, Located, Ranked, passage_key, top_k, vectors_by_key
from retrieval.store.sentences import SentenceTable
from retrieval.store.snapshots import Snapshot, load_snapshot, write_snapshot, writer_lock
from retrieval.types import Article, Filters


class FaissStore(VectorStore):
    """``index_type`` applies to the versions this store writes (``auto``: by size; a type
    chosen explicitly before is kept)."""

    def __init__(self, index_dir: Path, snapshot: Snapshot | None = None, index_type: str = "auto") -> None:
        if index_type not in INDEX_TYPES:
            raise ValueError(f"unknown index type {index_type!r}: use one of {', '.join(INDEX_TYPES)}")
        self.index_dir = index_dir
        self.where = Location(folder=index_dir)
        self.location = self.where.shown
        self.index_type = index_type
        self._snapshot = snapshot
        self._by_id: dict[str, Article] | None = None
        self._by_key: dict[bytes, int] | None = None
        self._filtered: tuple[Filters, np.ndarray] | None = None
        self._days: tuple[np.ndarray, np.ndarray] | None = None  # per article: first, last day
        self._stories: dict[str, Story] | None = None  # article id -> its story of several copies

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = load_snapshot(self.index_dir)
        return self._snapshot

    def reopened(self) -> FaissStore:
        """A store on the same folder that reads the version live now."""
        return FaissStore(self.index_dir, index_type=self.index_type)

    # ------------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        snap = self.snapshot
        return replace(snap.manifest, extra=snap.manifest.extra | {"tokenizer": snap.lexical.tokenizer})

    def count(self) -> int:
        return self.snapshot.size

    def _rows(self, filters: Filters | None) -> np.ndarray | None:
        """Rows of the articles ``filters`` accept (None: all); the last answer is kept,
        since the dense and the lexical side of one search ask the same."""
        if filters is None or not filters.active:
            return None
        cached = self._filtered
        if cached is not None and cached[0] == filters:
            return cached[1]
        snap = self.snapshot
        ok = self._accepted(filters)
        rows = np.flatnonzero(ok[snap.passages["article"]]) if len(ok) else np.zeros(0, np.int64)
        self._filtered = (filters, rows)
        return rows

    def _accepted(self, filters: Filters) -> np.ndarray:
        """Per article, whether ``filters`` accept it (what Filters.accepts says, the dates
        compared as day numbers for all articles at once)."""
        snap = self.snapshot
        if self._days is None:
            spans = [published_span(a.published) for a in snap.articles]
            first = np.array([s[0].toordinal() if s else 0 for s in spans], dtype=np.int64)
            last = np.array([s[1].toordinal() if s else 0 for s in spans], dtype=np.int64)
            self._days = first, last
        first, last = self._days
        ok = np.ones(len(snap.articles), dtype=bool)
        if filters.since or filters.until:
            ok &= first > 0
        if filters.since:
            ok &= last >= filters.since.toordinal()
        if filters.until:
            ok &= first <= filters.until.toordinal()
        if filters.published_by:
            ok &= (first == 0) | (first <= filters.published_by.toordinal())
        if filters.sources:
            wanted = [s.lower() for s in filters.sources]
            ok &= np.array([any(w in a.source.lower() for w in wanted) for a in snap.articles], dtype=bool)
        return ok

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        snap = self.snapshot
        return search_index(
            snap.faiss_index, snap.manifest.index_type, snap.vectors, vector, k, self._rows(filters)
        )

    def lexical_search(self, terms: Sequence[str], k: int, filters: Filters | None = None) -> Ranked:
        rows = self._rows(filters)
        mask = None
        if rows is not None:
            mask = np.zeros(self.snapshot.size, dtype=bool)
            mask[rows] = True
        return top_k(self.snapshot.lexical.scores(terms, mask), k)

    def locate(self, rows: Sequence[int]) -> dict[int, Located]:
        snap = self.snapshot
        out = {}
        for row in rows:
            if 0 <= row < snap.size:
                p = snap.passages[row]
                out[row] = Located(snap.articles[p["article"]], int(p["start"]), int(p["end"]))
        return out

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        return {t: self.snapshot.lexical.idf(t) for t in terms}

    def sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        snap = self.snapshot
        rows = [r for r in rows if 0 <= r < snap.size]
        if snap.sentences is None or not rows:
            return {}
        best = snap.sentences.best(vector, snap.passages[np.array(rows)])
        return {r: float(b) for r, b in zip(rows, best.tolist(), strict=True) if b == b}

    def sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        sentences = self.snapshot.sentences
        return sentences.lookup(keys) if sentences is not None else {}

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        snap = self.snapshot
        if not snap.size or not keys:
            return {}
        if self._by_key is None:
            self._by_key = {k: i for i, k in enumerate(snap.keys.tolist())}
        return vectors_by_key(self._by_key, snap.vectors(), keys)

    def article(self, article_id: str) -> Article | None:
        if self._by_id is None:
            self._by_id = {a.id: a for a in self.snapshot.articles}
        return self._by_id.get(article_id)

    def catalog(self) -> list[Article]:
        return self.snapshot.articles

    def stories(self, article_ids: Sequence[str]) -> dict[str, Story]:
        if self._stories is None:
            snap = self.snapshot
            entries = snap.manifest.articles
            members: dict[str, list[Article]] = {}
            for a in snap.articles:
                entry = entries.get(a.id)
                members.setdefault((entry.story if entry else "") or a.id, []).append(a)
            by_article: dict[str, Story] = {}
            for story_id, group in members.items():
                if len(group) > 1:
                    story = Story(story_id, tuple(replace(a, text="") for a in group))
                    by_article.update((a.id, story) for a in group)
            self._stories = by_article
        return {i: self._stories[i] for i in article_ids if i in self._stories}

    def stats(self) -> StoreStats:
        snap = self.snapshot
        return stats_of(self.location, snap.articles, snap.size, snap.manifest, len(snap.sentences or ()))

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[FaissWriter]:
        with writer_lock(self.index_dir):
            live: FaissStore | None
            try:
                live = self.reopened()
                live.snapshot  # noqa: B018 - the version live now, read under the lock
            except IndexMissingError:
                live = None
            writer = FaissWriter(self.index_dir, live, self.index_type)
            yield writer
            writer.commit()  # readers of this store keep their version: reopen to see it


@dataclass
class _Put:
    article: Article
    spans: Sequence[tuple[int, int]]
    vectors: np.ndarray
    sentences: SentenceTable | None
    layout: str
    signature: np.ndarray | None = None
    story: str = ""


class FaissWriter(StoreWriter):
    """A run's writes, made live as one new version by :meth:`commit`."""

    def __init__(self, index_dir: Path, live: FaissStore | None, index_type: str) -> None:
        self.index_dir = index_dir
        self._live = live
        self._index_type = index_type
        self._fresh: Manifest | None = None  # set by reset
        self._puts: dict[str, _Put] = {}
        self._removed: set[str] = set()
        self._chunking: dict[str, int] | None = None
        self._stories: dict[str, str] = {}  # set_stories of live articles
        self._sources: list[dict[str, str]] | None = None

    def manifest(self) -> Manifest | None:
        if self._fresh is not None:
            return self._fresh
        return self._live.manifest() if self._live is not None else None

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self._live.known_vectors(keys) if self._live is not None and self._fresh is None else {}

    def known_sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self._live.sentence_vectors(keys) if self._live is not None and self._fresh is None else {}

    def signatures(self) -> dict[str, np.ndarray]:
        if self._live is None or self._fresh is not None:
            return {}
        snap = self._live.snapshot
        if snap.signatures is None:
            return {}
        sigs = np.asarray(snap.signatures)
        present = ~np.all(sigs == np.uint32(0xFFFFFFFF), axis=1)
        return {snap.articles[i].id: sigs[i].copy() for i in np.flatnonzero(present).tolist()}

    def reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        self._fresh = Manifest(model=model, dim=dim, chunking=dict(chunking), index_type=self._index_type)
        self._puts.clear()
        self._removed.clear()
        self._stories.clear()

    def set_chunking(self, chunking: dict[str, int]) -> None:
        self._chunking = dict(chunking)

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
        if len(spans) != len(vectors):
            raise ValueError(f"{len(spans)} passages but {len(vectors)} vectors")
        self._removed.discard(article.id)
        self._stories.pop(article.id, None)
        sig = None if signature is None else np.asarray(signature, dtype=np.uint32).ravel()
        self._puts[article.id] = _Put(
            article, list(spans), np.asarray(vectors, np.float32), sentences, layout, sig, story or article.id
        )

    def remove_article(self, article_id: str) -> None:
        self._puts.pop(article_id, None)
        self._stories.pop(article_id, None)
        self._removed.add(article_id)

    def set_sources(self, sources: Sequence[Mapping[str, str]]) -> None:
        self._sources = [dict(s) for s in sources]

    def set_stories(self, stories: Mapping[str, str]) -> None:
        for article_id, story in stories.items():
            put = self._puts.get(article_id)
            if put is not None:
                put.story = story or article_id
            elif article_id not in self._removed:
                self._stories[article_id] = story or article_id

    def commit(self) -> bool:
        """Write the new version (nothing when nothing changed); True when one was written."""
        base = None if self._fresh is not None or self._live is None else self._live.snapshot
        manifest = self._fresh or (base.manifest if base is not None else None)
        if manifest is None:
            if not self._puts:
                return False
            raise IndexMissingError(f"no index in {self.index_dir} to add articles to (reset it first)")
        if (
            self._fresh is None
            and not self._puts
            and not self._removed
            and self._chunking in (None, manifest.chunking)
            and self._sources in (None, manifest.extra.get("sources"))
            and not self._changed_stories(base)
        ):
            return False
        if self._chunking is not None:
            manifest = replace(manifest, chunking=self._chunking)
        if self._sources is not None:
            manifest = replace(manifest, extra=manifest.extra | {"sources": self._sources})
        stories = self._stories if base is not None else {}
        _Version(manifest, base, self._puts, self._removed, self._index_type, stories).write(self.index_dir)
        return True

    def _changed_stories(self, base: Snapshot | None) -> bool:
        entries = base.manifest.articles if base is not None else {}
        return any(i in entries and entries[i].story != s for i, s in self._stories.items())


class _Version:
    """The next version's tables: the live version's articles kept in their order, then
    the new and rewritten ones in the order they were put."""

    def __init__(
        self,
        manifest: Manifest,
        base: Snapshot | None,
        puts: dict[str, _Put],
        removed: set[str],
        index_type: str,
        stories: Mapping[str, str],
    ) -> None:
        self.manifest = manifest
        self.base = base
        self.puts = puts
        self.removed = removed
        self.index_type = index_type
        self.stories = stories

    def write(self, index_dir: Path) -> None:
        base, dim = self.base, self.manifest.dim
        kept = (
            [a for a in base.articles if a.id not in self.removed and a.id not in self.puts] if base else []
        )
        articles = kept + [p.article for p in self.puts.values()]
        tables: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        reuse: list[np.ndarray] = []
        texts: list[str] = []
        sentences = None
        entries: dict[str, ArticleEntry] = {}
        signatures = self._signatures(kept)
        if base is not None and kept:
            positions = {a.id: i for i, a in enumerate(kept)}
            remap = np.array([positions.get(a.id, -1) for a in base.articles], dtype=np.int64)
            rows = np.flatnonzero(remap[base.passages["article"]] >= 0)
            table = base.passages[rows].copy()
            table["article"] = remap[table["article"]]
            tables.append(table)
            keys.append(base.keys[rows])
            vectors.append(np.asarray(base.vectors()[rows], dtype=np.float32).reshape(-1, dim))
            reuse.append(rows)
            texts.extend(base.passage_text(int(r)) for r in rows)
            if base.sentences is not None:
                sentences = base.sentences.remapped(remap)
            entries.update(
                (a.id, base.manifest.articles[a.id]) for a in kept if a.id in base.manifest.articles
            )
            for article_id, story in self.stories.items():
                if article_id in entries:
                    entries[article_id] = replace(entries[article_id], story=story)
        reusable = self._reusable_rows()
        for position, put in enumerate(self.puts.values(), start=len(kept)):
            fresh = np.zeros(len(put.spans), dtype=SPAN_DTYPE)
            fresh["article"] = position
            fresh["start"] = [s for s, _ in put.spans]
            fresh["end"] = [e for _, e in put.spans]
            new_texts = [put.article.text[s:e] for s, e in put.spans]
            new_keys = np.array([passage_key(t) for t in new_texts], dtype=KEY_DTYPE)
            tables.append(fresh)
            keys.append(new_keys)
            vectors.append(put.vectors.reshape(-1, dim))
            texts.extend(new_texts)
            language = put.article.language
            reuse.append(np.array([reusable.get((k, language), -1) for k in new_keys.tolist()], np.int64))
            if put.sentences is not None:
                base_table = sentences if sentences is not None else SentenceTable.empty(dim)
                sentences = base_table.appended(put.sentences, position)
            entries[put.article.id] = ArticleEntry(
                hash=put.article.content_hash,
                passages=len(put.spans),
                path=put.article.path,
                layout=put.layout,
                meta=metadata_hash(put.article),
                story=put.story or put.article.id,
            )
        passages = np.concatenate(tables) if tables else np.zeros(0, SPAN_DTYPE)
        all_vectors = np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)
        # A type chosen explicitly stays until another is; "auto" follows the size.
        asked = (
            self.index_type if self.index_type != "auto" else self.manifest.extra.get("index_type", "auto")
        )
        index, kind = build_faiss(all_vectors, asked)
        languages = [articles[i].language for i in passages["article"].tolist()]
        previous = base.lexical if base is not None else None
        lexical = LexicalIndex.build(
            texts, previous, np.concatenate(reuse) if reuse else np.zeros(0, np.int64), languages
        )
        manifest = replace(
            self.manifest,
            articles={a.id: entries[a.id] for a in articles},
            passages=len(passages),
            index_type=kind,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            extra=self.manifest.extra | {"index_type": asked},
        )
        all_keys = np.concatenate(keys) if keys else np.zeros(0, KEY_DTYPE)
        write_snapshot(
            index_dir,
            manifest,
            articles,
            passages,
            all_keys,
            index,
            lexical,
            all_vectors,
            sentences,
            signatures,
        )

    def _signatures(self, kept: list[Article]) -> np.ndarray:
        """One row per article of the new version (kept, then put); the empty signature
        (never grouped) for articles stored without one."""
        base = self.base
        known = [p.signature for p in self.puts.values() if p.signature is not None]
        width = (
            base.signatures.shape[1]
            if base is not None and base.signatures is not None
            else len(known[0])
            if known
            else DuplicateParams().num_perm
        )
        out = np.full((len(kept) + len(self.puts), width), 0xFFFFFFFF, dtype=np.uint32)
        if base is not None and base.signatures is not None and kept:
            position = {a.id: i for i, a in enumerate(base.articles)}
            out[: len(kept)] = base.signatures[[position[a.id] for a in kept]]
        for row, put in enumerate(self.puts.values(), start=len(kept)):
            if put.signature is not None:
                if len(put.signature) != width:
                    raise ValueError(
                        f"signature of {put.article.id!r} has {len(put.signature)} values, not {width}"
                    )
                out[row] = put.signature
        return out

    def _reusable_rows(self) -> dict[tuple[bytes, str], int]:
        """Rows of the live version by (passage key, language): their BM25 terms are reused."""
        base = self.base
        if base is None or not base.size:
            return {}
        languages = [a.language for a in base.articles]
        article_of = base.passages["article"].tolist()
        return {
            (k, languages[a]): row
            for row, (k, a) in enumerate(zip(base.keys.tolist(), article_of, strict=True))
        }
