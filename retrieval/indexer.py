"""Bring an index in step with a set of article folders, embedding only what changed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.articles import Article, Loaded, Problem, load_articles
from retrieval.chunking import ChunkingParams, chunk_text
from retrieval.embedding import Embedder
from retrieval.lexical import TOKENIZER, LexicalIndex
from retrieval.manifest import ArticleEntry, IndexMismatchError, IndexMissingError, Manifest
from retrieval.sentences import SentenceTable
from retrieval.store import VectorStore, passage_key
from retrieval.store_faiss import (
    KEY_DTYPE,
    PASSAGE_DTYPE,
    Snapshot,
    build_faiss,
    load_snapshot,
    write_snapshot,
    writer_lock,
)

OnProgress = Callable[[int, int], None]  # (done, total) passages embedded


class SourceError(Exception):
    """An articles folder or file given on the command line does not exist."""


@dataclass(frozen=True)
class IndexReport:
    index_dir: str
    model: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    articles: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    wrote: bool = False
    #: sentence vectors (models that index them): embedded now, and the seconds it took
    sentences_embedded: int = 0
    sentence_seconds: float = 0.0

    @property
    def passages_per_second(self) -> float:
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index_dir,
            "model": self.model,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": p.path, "reason": p.reason} for p in self.skipped],
            "duplicates": [{"path": p.path, "reason": p.reason} for p in self.duplicates],
            "articles": self.articles,
            "passages": self.passages,
            "embedded": self.embedded,
            "reused": self.reused,
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "passages_per_second": round(self.passages_per_second, 1),
            "sentences_embedded": self.sentences_embedded,
            "sentence_seconds": round(self.sentence_seconds, 3),
            "wrote": self.wrote,
        }


def refresh_index(
    index_dir: Path,
    sources: Sequence[Path],
    embedder: Embedder,
    params: ChunkingParams = ChunkingParams(),
    *,
    full: bool = False,
    index_type: str = "auto",
    on_progress: OnProgress | None = None,
) -> IndexReport:
    """Index every article under ``sources`` into ``index_dir``.

    Unchanged passages reuse their vectors (looked up by content hash), so only
    new or edited text is embedded. With ``full`` nothing is reused. The new
    index replaces the old one atomically; on any failure the old one stays.
    """
    started = time.perf_counter()
    _check_sources(sources)
    with writer_lock(index_dir):
        previous = None if full else _previous(index_dir, embedder.name)
        loaded = load_articles(sources)
        articles = loaded.articles
        base = _diff(str(index_dir), embedder.name, loaded, previous.manifest.articles if previous else {})
        if previous is not None and _same_content(previous, articles, params, embedder):
            return IndexReport(
                **base,
                passages=previous.size,
                reused=previous.size,  # type: ignore[arg-type]
                seconds=time.perf_counter() - started,
            )

        rows = _passages(articles, params, previous)
        vectors, embedded, embed_seconds = _vectors(rows, previous, embedder, on_progress)
        sentences, sentences_embedded, sentence_seconds = None, 0, 0.0
        if embedder.index_sentences:
            t0 = time.perf_counter()
            sentences, sentences_embedded = SentenceTable.build(
                [a.text for a in articles],
                _embedding(embedder, on_progress),
                vectors.shape[1],
                previous.sentences.lookup if previous is not None and previous.sentences else None,
            )
            sentence_seconds = time.perf_counter() - t0 if sentences_embedded else 0.0
        faiss_index, kind = build_faiss(vectors, index_type)
        manifest = Manifest(
            model=embedder.name,
            dim=vectors.shape[1],
            chunking=params.as_dict(),
            articles=_entries(articles, rows.table),
            passages=rows.size,
            index_type=kind,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        languages = [articles[i].language for i in rows.table["article"].tolist()]
        lexical = LexicalIndex.build(rows.texts, previous.lexical if previous else None, rows.old, languages)
        write_snapshot(
            index_dir, manifest, articles, rows.table, rows.keys, faiss_index, lexical, vectors, sentences
        )
        return IndexReport(
            **base,  # type: ignore[arg-type]
            passages=rows.size,
            embedded=embedded,
            reused=rows.size - embedded,
            seconds=time.perf_counter() - started,
            embed_seconds=embed_seconds,
            wrote=True,
            sentences_embedded=sentences_embedded,
            sentence_seconds=sentence_seconds,
        )


def _check_sources(sources: Sequence[Path]) -> None:
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise SourceError(f"articles folder not found: {', '.join(missing)}")


def _diff(location: str, model: str, loaded: Loaded, old: dict[str, ArticleEntry]) -> dict[str, Any]:
    """The report's fields that compare the articles read with those indexed before."""
    articles = loaded.articles
    added = [a.id for a in articles if a.id not in old]
    updated = [a.id for a in articles if a.id in old and old[a.id].hash != a.content_hash]
    removed = sorted(set(old) - {a.id for a in articles})
    return dict(
        index_dir=location,
        model=model,
        added=added,
        updated=updated,
        removed=removed,
        unchanged=len(articles) - len(added) - len(updated),
        skipped=loaded.problems,
        duplicates=loaded.duplicates,
        articles=len(articles),
    )


def refresh_store(
    store: VectorStore,
    sources: Sequence[Path],
    embedder: Embedder,
    params: ChunkingParams = ChunkingParams(),
    *,
    full: bool = False,
    on_progress: OnProgress | None = None,
    batch: int = 256,
) -> IndexReport:
    """Index every article under ``sources`` into ``store``, one article at a time.

    For stores whose writes are cheap per article (PostgreSQL): only new or edited
    articles are written, each in one atomic step, so an indexer killed at any
    moment leaves whole articles only (and the next run picks up the rest).
    Passages whose text is stored already keep their vectors. With ``full`` the
    store is emptied first and everything embedded again.
    """
    started = time.perf_counter()
    _check_sources(sources)
    with store.writer():
        manifest: Manifest | None = None
        if not full:
            try:
                manifest = store.manifest()
            except IndexMissingError:
                manifest = None
        if manifest is not None:
            manifest.check_model(embedder.name)
            if manifest.extra.get("tokenizer", TOKENIZER) != TOKENIZER:
                raise IndexMismatchError(
                    f"the BM25 terms in {store.location} come from another newsbot version; "
                    "rebuild it with `newsbot index --full`"
                )
            if manifest.chunking != params.as_dict():
                raise IndexMismatchError(
                    f"the index in {store.location} was built with passages of {manifest.chunking}, "
                    f"not {params.as_dict()}; rebuild it with `newsbot index --full`"
                )
        loaded = load_articles(sources)
        old = manifest.articles if manifest is not None else {}
        base = _diff(store.location, embedder.name, loaded, old)
        # A store filled before its model indexed sentences gets them for every article
        # (passage vectors are kept: only the sentences are embedded).
        upgrade = bool(
            embedder.index_sentences
            and manifest is not None
            and store.count()
            and not store.stats().sentences
        )
        todo = [
            a
            for a in loaded.articles
            if upgrade or a.id not in old or old[a.id].hash != a.content_hash or old[a.id].path != a.path
        ]
        if manifest is None:
            store.reset(embedder.name, embedder.dim, params.as_dict())
        chunked = [(a, [(p.start, p.end) for p in chunk_text(a.id, a.text, params)]) for a in todo]
        keys = {passage_key(a.text[s:e]) for a, spans in chunked for s, e in spans}
        known = store.known_vectors(sorted(keys)) if manifest is not None else {}
        total = len(keys - known.keys())
        embedded, embed_seconds = 0, 0.0
        sentences_embedded, sentence_seconds = 0, 0.0
        embed_sentences = _embedding(embedder, None)
        pending: list[tuple[Article, list[tuple[int, int]]]] = []
        pending_texts: dict[bytes, str] = {}

        def flush() -> None:
            nonlocal embedded, embed_seconds, sentences_embedded, sentence_seconds
            if pending_texts:
                embedder.load()  # passages per second measure embedding, not loading the model
                t0 = time.perf_counter()
                fresh = embedder.embed_passages(list(pending_texts.values()))
                embed_seconds += time.perf_counter() - t0
                known.update(zip(pending_texts, fresh, strict=True))
                embedded += len(pending_texts)
                if on_progress is not None:
                    on_progress(embedded, total)
            for article, spans in pending:
                vectors = [known[passage_key(article.text[s:e])] for s, e in spans]
                sentences = None
                if embedder.index_sentences:
                    t0 = time.perf_counter()
                    sentences, n = SentenceTable.build(
                        [article.text], embed_sentences, embedder.dim, store.sentence_vectors
                    )
                    sentences_embedded += n
                    sentence_seconds += time.perf_counter() - t0 if n else 0.0
                store.put_article(
                    article, spans, np.array(vectors, dtype=np.float32).reshape(len(spans), -1), sentences
                )
            pending.clear()
            pending_texts.clear()

        for article, spans in chunked:
            for s, e in spans:
                key = passage_key(article.text[s:e])
                if key not in known:
                    pending_texts.setdefault(key, article.text[s:e])
            pending.append((article, spans))
            if len(pending_texts) >= batch:
                flush()
        flush()
        for article_id in base["removed"]:
            store.remove_article(article_id)
        passages = store.count()
    return IndexReport(
        **base,
        passages=passages,
        embedded=embedded,
        reused=passages - embedded,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        wrote=bool(todo or base["removed"] or manifest is None),
        sentences_embedded=sentences_embedded,
        sentence_seconds=sentence_seconds,
    )


def _previous(index_dir: Path, model: str) -> Snapshot | None:
    try:
        snapshot = load_snapshot(index_dir)  # memory-mapped: vectors are read once, when reused
    except IndexMissingError:
        return None
    snapshot.manifest.check_model(model)
    return snapshot


def _same_content(
    previous: Snapshot, articles: list[Article], params: ChunkingParams, embedder: Embedder
) -> bool:
    if previous.manifest.chunking != params.as_dict() or len(previous.articles) != len(articles):
        return False
    if (previous.sentences is not None) != embedder.index_sentences:
        return False  # sentence vectors to add (or drop)
    if previous.lexical.tokenizer != TOKENIZER:
        return False
    return all(
        a.content_hash == b.content_hash and a.metadata() == b.metadata()
        for a, b in zip(previous.articles, articles, strict=True)
    )


@dataclass(frozen=True)
class _Rows:
    """The passages of the new index, as columns aligned with its vector rows."""

    table: np.ndarray  # PASSAGE_DTYPE
    texts: list[str]
    keys: np.ndarray  # KEY_DTYPE
    old: np.ndarray  # row of the previous index with the same text, else -1

    @property
    def size(self) -> int:
        return len(self.table)


def _passages(articles: list[Article], params: ChunkingParams, previous: Snapshot | None) -> _Rows:
    """Chunk the articles; one whose text was indexed before with the same chunking
    keeps its passages, keys and vectors without being chunked again (chunking is a
    pure function of text and parameters)."""
    known: dict[str, np.ndarray] = {}
    by_key: dict[bytes, int] = {}
    if previous is not None and previous.size:
        by_key = {k: i for i, k in enumerate(previous.keys.tolist())}
        if previous.manifest.chunking == params.as_dict():
            article_of = previous.passages["article"]
            order = np.argsort(article_of, kind="stable")
            cuts = np.flatnonzero(np.diff(article_of[order])) + 1
            for group in np.split(order, cuts):
                known[previous.articles[int(article_of[group[0]])].content_hash] = group
    tables: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    old: list[np.ndarray] = []
    texts: list[str] = []
    for position, a in enumerate(articles):
        group = known.get(a.content_hash)
        if group is not None:
            table = previous.passages[group]  # type: ignore[union-attr]
            table["article"] = position
            tables.append(table)
            keys.append(previous.keys[group])  # type: ignore[union-attr]
            old.append(group)
            texts.extend(
                a.text[s:e] for s, e in zip(table["start"].tolist(), table["end"].tolist(), strict=True)
            )
            continue
        chunks = chunk_text(a.id, a.text, params)
        table = np.zeros(len(chunks), dtype=PASSAGE_DTYPE)
        table["article"] = position
        table["start"] = [p.start for p in chunks]
        table["end"] = [p.end for p in chunks]
        tables.append(table)
        # Compared as numpy stores them: fixed-width bytes drop trailing NULs.
        fresh = np.array([passage_key(p.text) for p in chunks], dtype=KEY_DTYPE)
        keys.append(fresh)
        old.append(np.array([by_key.get(k, -1) for k in fresh.tolist()], dtype=np.int64))
        texts.extend(p.text for p in chunks)
    if not tables:
        return _Rows(np.zeros(0, PASSAGE_DTYPE), [], np.zeros(0, KEY_DTYPE), np.zeros(0, np.int64))
    return _Rows(np.concatenate(tables), texts, np.concatenate(keys), np.concatenate(old).astype(np.int64))


def _vectors(
    rows: _Rows,
    previous: Snapshot | None,
    embedder: Embedder,
    on_progress: OnProgress | None,
) -> tuple[np.ndarray, int, float]:
    old_rows = rows.old
    todo = np.flatnonzero(old_rows < 0)
    embed_seconds = 0.0
    new_vectors = None
    if len(todo):
        embed = _embedding(embedder, on_progress)
        texts = [rows.texts[i] for i in todo]
        embedder.load()  # passages per second measure embedding, not loading the model
        t0 = time.perf_counter()
        new_vectors = embed(texts)
        embed_seconds = time.perf_counter() - t0
    reuse = np.flatnonzero(old_rows >= 0)
    old_vectors = previous.vectors() if previous is not None and len(reuse) else None
    dim = (
        new_vectors.shape[1]
        if new_vectors is not None
        else (old_vectors.shape[1] if old_vectors is not None else embedder.dim)
    )
    out = np.zeros((rows.size, dim), dtype=np.float32)
    if new_vectors is not None:
        out[todo] = new_vectors
    if old_vectors is not None:
        out[reuse] = old_vectors[old_rows[reuse]]
    return out, len(todo), embed_seconds


def _embedding(embedder: Embedder, on_progress: OnProgress | None) -> Callable[[Sequence[str]], np.ndarray]:
    """``embedder.embed_passages``, reporting (done, total) texts to ``on_progress``."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if on_progress is not None:
                on_progress(done, len(texts))

        embedder.load()
        return embedder.embed_passages(texts, tick)

    return embed


def _entries(articles: list[Article], table: np.ndarray) -> dict[str, ArticleEntry]:
    counts = np.bincount(table["article"], minlength=len(articles)).tolist()
    return {
        a.id: ArticleEntry(hash=a.content_hash, passages=n, path=a.path)
        for a, n in zip(articles, counts, strict=True)
    }
