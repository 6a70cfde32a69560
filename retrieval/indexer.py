"""Bring an index in step with a set of article folders, embedding only what changed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retrieval.articles import Article, Problem, load_articles
from retrieval.chunking import ChunkingParams, Passage, chunk_text
from retrieval.embedding import Embedder
from retrieval.lexical import LexicalIndex
from retrieval.manifest import ArticleEntry, IndexMissingError, Manifest
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
            "wrote": self.wrote,
        }


def passage_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


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
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise SourceError(f"articles folder not found: {', '.join(missing)}")
    with writer_lock(index_dir):
        previous = None if full else _previous(index_dir, embedder.name)
        loaded = load_articles(sources)
        articles = loaded.articles
        old = previous.manifest.articles if previous else {}
        added = [a.id for a in articles if a.id not in old]
        updated = [a.id for a in articles if a.id in old and old[a.id].hash != a.content_hash]
        current_ids = {a.id for a in articles}
        removed = sorted(set(old) - current_ids)
        base = dict(
            index_dir=str(index_dir),
            model=embedder.name,
            added=added,
            updated=updated,
            removed=removed,
            unchanged=len(articles) - len(added) - len(updated),
            skipped=loaded.problems,
            duplicates=loaded.duplicates,
            articles=len(articles),
        )
        if previous is not None and _same_content(previous, articles, params):
            return IndexReport(
                **base,
                passages=previous.size,
                reused=previous.size,  # type: ignore[arg-type]
                seconds=time.perf_counter() - started,
            )

        passages = [p for a in articles for p in chunk_text(a.id, a.text, params)]
        keys = [passage_key(p.text) for p in passages]
        vectors, embedded, embed_seconds = _vectors(passages, keys, previous, embedder, on_progress)
        table = _passage_table(articles, passages)
        faiss_index, kind = build_faiss(vectors, index_type)
        manifest = Manifest(
            model=embedder.name,
            dim=vectors.shape[1],
            chunking=params.as_dict(),
            articles=_entries(articles, passages),
            passages=len(passages),
            index_type=kind,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        lexical = LexicalIndex.build([p.text for p in passages])
        write_snapshot(
            index_dir, manifest, articles, table, np.array(keys, dtype=KEY_DTYPE), faiss_index, lexical
        )
        return IndexReport(
            **base,  # type: ignore[arg-type]
            passages=len(passages),
            embedded=embedded,
            reused=len(passages) - embedded,
            seconds=time.perf_counter() - started,
            embed_seconds=embed_seconds,
            wrote=True,
        )


def _previous(index_dir: Path, model: str) -> Snapshot | None:
    try:
        snapshot = load_snapshot(index_dir, mmap=False)
    except IndexMissingError:
        return None
    snapshot.manifest.check_model(model)
    return snapshot


def _same_content(previous: Snapshot, articles: list[Article], params: ChunkingParams) -> bool:
    if previous.manifest.chunking != params.as_dict() or len(previous.articles) != len(articles):
        return False
    return all(
        a.content_hash == b.content_hash and a.metadata() == b.metadata()
        for a, b in zip(previous.articles, articles, strict=True)
    )


def _vectors(
    passages: list[Passage],
    keys: list[bytes],
    previous: Snapshot | None,
    embedder: Embedder,
    on_progress: OnProgress | None,
) -> tuple[np.ndarray, int, float]:
    cached: dict[bytes, int] = {}
    old_vectors = None
    if previous is not None and previous.size:
        old_vectors = previous.vectors()
        cached = {bytes(k): i for i, k in enumerate(previous.keys)}
    todo = [i for i, k in enumerate(keys) if k not in cached]
    embed_seconds = 0.0
    new_vectors = None
    if todo:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if on_progress is not None:
                on_progress(done, len(todo))

        t0 = time.perf_counter()
        new_vectors = embedder.embed_passages([passages[i].text for i in todo], tick)
        embed_seconds = time.perf_counter() - t0
    dim = (
        new_vectors.shape[1]
        if new_vectors is not None
        else (old_vectors.shape[1] if old_vectors is not None else embedder.dim)
    )
    out = np.zeros((len(passages), dim), dtype=np.float32)
    if new_vectors is not None:
        out[todo] = new_vectors
    if old_vectors is not None:
        reuse = [(i, cached[k]) for i, k in enumerate(keys) if k in cached]
        if reuse:
            rows, src = zip(*reuse, strict=True)
            out[list(rows)] = old_vectors[list(src)]
    return out, len(todo), embed_seconds


def _passage_table(articles: list[Article], passages: list[Passage]) -> np.ndarray:
    position = {a.id: i for i, a in enumerate(articles)}
    table = np.zeros(len(passages), dtype=PASSAGE_DTYPE)
    for row, p in enumerate(passages):
        table[row] = (position[p.article_id], p.start, p.end)
    return table


def _entries(articles: list[Article], passages: list[Passage]) -> dict[str, ArticleEntry]:
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.article_id] = counts.get(p.article_id, 0) + 1
    return {
        a.id: ArticleEntry(hash=a.content_hash, passages=counts.get(a.id, 0), path=a.path) for a in articles
    }
