"""The on-disk index: versioned snapshot folders swapped in atomically.

Layout of an index folder::

    index/
      CURRENT              name of the live version (replaced atomically)
      versions/<name>/     manifest.json, vectors.faiss, passages.npy, keys.npy,
                           articles.jsonl, bm25/, and for models that index
                           sentences sentences.npy, sentence_keys.npy,
                           sentence_vectors.npy (written complete, then renamed)
      .lock                held by the one writer at a time

A rebuild writes a new version beside the live one and only then points
``CURRENT`` at it, so a crash at any moment leaves the previous index intact
and a reader always sees one whole version, never a mix. No pickle anywhere.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retrieval.articles import Article
from retrieval.language import detect
from retrieval.lexical import LexicalIndex
from retrieval.manifest import (
    MANIFEST_NAME,
    ArticleEntry,
    IndexError_,
    IndexMismatchError,
    IndexMissingError,
    Manifest,
)
from retrieval.sentences import SentenceTable
from retrieval.store import (
    KEY_DTYPE,
    SPAN_DTYPE,
    Located,
    Ranked,
    StoreStats,
    VectorStore,
    passage_key,
    stats_of,
    top_k,
    vectors_by_key,
)
from retrieval.types import Filters

CURRENT = "CURRENT"
VERSIONS = "versions"
PASSAGE_DTYPE = SPAN_DTYPE
INDEX_TYPES = ("auto", "flat", "hnsw", "ivf-sq8")
#: passages; from here on "auto" builds IVF-SQ8 instead of exact search (bench/speed.py)
ANN_THRESHOLD = 50_000
HNSW_THRESHOLD = ANN_THRESHOLD  # the old name
#: index types whose stored vectors are approximate: exact ones are kept in vectors.npy
LOSSY_TYPES = frozenset({"ivf-sq8"})
EXACT_VECTORS = "vectors.npy"
HNSW_EF_SEARCH = 128
#: a filter leaving at most this many rows is searched exactly, row by row
EXACT_FILTERED_ROWS = 50_000


#: candidates fetched from an approximate index per result, then re-scored exactly
RERANK_FACTOR = 4


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: a power of two near sqrt(n), 39+ points each
    (1M passages: 1,024 lists; training and adding stay cheap on two cores)."""
    nlist = 1 << max(0, round(math.log2(math.sqrt(max(n, 1)))))
    return max(1, min(nlist, n // 39))


def ivf_probes(nlist: int) -> int:
    """Lists scanned per query: 1/32 of them, 8 to 64 (recall@10 vs exact: bench/speed.py)."""
    return min(nlist, max(8, min(64, nlist // 32)))


def build_faiss(vectors: np.ndarray, index_type: str = "auto") -> tuple[object, str]:
    """A FAISS inner-product index over normalized vectors; type chosen by size.

    ``flat`` is exact; ``ivf-sq8`` (inverted lists, 8-bit scalar codes: 4x less
    memory) and ``hnsw`` (graph over full vectors) are approximate and fast at
    millions of passages.
    """
    import faiss

    n, dim = vectors.shape if vectors.size else (0, vectors.shape[1])
    if index_type == "auto":
        index_type = "ivf-sq8" if n >= ANN_THRESHOLD else "flat"
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if index_type == "flat" or (index_type == "ivf-sq8" and n == 0):
        index_type = "flat"
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif index_type == "ivf-sq8":
        nlist = ivf_lists(n)
        index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        sample = min(n, 64 * nlist)
        rows = (
            np.sort(np.random.default_rng(0).choice(n, sample, replace=False)) if sample < n else slice(None)
        )
        index.train(vectors[rows])
        index.nprobe = ivf_probes(nlist)
    else:
        raise ValueError(f"unknown index type {index_type!r}: use one of {', '.join(INDEX_TYPES)}")
    if n:
        index.add(vectors)
    return index, index_type


@dataclass
class Snapshot:
    """One complete, immutable version of the index, loaded into memory."""

    folder: Path
    manifest: Manifest
    articles: list[Article]
    passages: np.ndarray  # PASSAGE_DTYPE rows, aligned with the vector index
    keys: np.ndarray  # KEY_DTYPE content hash of each passage text
    faiss_index: object
    lexical: LexicalIndex
    _exact: np.ndarray | None = field(default=None, repr=False)  # vectors.npy, mapped
    #: one vector per article sentence, for models that index them (else None)
    sentences: SentenceTable | None = None

    @property
    def size(self) -> int:
        return len(self.passages)

    def passage_text(self, row: int) -> str:
        p = self.passages[row]
        return self.articles[p["article"]].text[p["start"] : p["end"]]

    def vectors(self) -> np.ndarray:
        """All passage vectors, exact, in row order (flat and HNSW keep full vectors;
        for the lossy types they are read, memory-mapped, from vectors.npy)."""
        n = self.size
        if n == 0:
            return np.zeros((0, self.manifest.dim), dtype=np.float32)
        if self.manifest.index_type in LOSSY_TYPES:
            if self._exact is None:
                self._exact = np.load(self.folder / EXACT_VECTORS, mmap_mode="r", allow_pickle=False)
            return self._exact
        return self.faiss_index.reconstruct_n(0, n)  # type: ignore[attr-defined]

    def dense_search(
        self, vector: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` rows by cosine; restricted to ``rows`` when given. Never yields -1."""
        import faiss

        if self.size == 0 or k <= 0:
            return []
        # One query is too small to share between threads; OpenMP's hand-offs cost
        # more than they save, badly so on a busy machine. (Per calling thread.)
        faiss.omp_set_num_threads(1)
        kind = self.manifest.index_type
        params = sel = None
        if rows is not None:
            if len(rows) == 0:
                return []
            if kind in LOSSY_TYPES and len(rows) <= EXACT_FILTERED_ROWS:
                return self._exact_search(vector, k, rows)
            # ``sel`` must outlive the search: the parameters only point at it.
            sel = faiss.IDSelectorBatch(rows.astype("int64"))
            if kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, k))
            elif kind == "ivf-sq8":
                # Fewer allowed rows per list: scan proportionally more lists.
                index = self.faiss_index
                share = self.size / len(rows)
                nprobe = min(index.nlist, math.ceil(index.nprobe * share))  # type: ignore[attr-defined]
                params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
            else:
                params = faiss.SearchParameters(sel=sel)
        k = min(k, self.size)
        fetch = min(self.size, RERANK_FACTOR * k) if kind in LOSSY_TYPES else k
        query = vector.reshape(1, -1).astype(np.float32)
        scores, ids = self.faiss_index.search(query, fetch, params=params)  # type: ignore[attr-defined]
        del sel
        if kind in LOSSY_TYPES:  # 8-bit codes blur near-ties: re-score candidates exactly
            return self._exact_search(vector, k, ids[0][ids[0] >= 0])
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _exact_search(self, vector: np.ndarray, k: int, rows: np.ndarray) -> list[tuple[int, float]]:
        if len(rows) == 0:
            return []
        rows = np.sort(rows)  # sequential reads from the memory-mapped vectors
        scores = np.asarray(self.vectors()[rows] @ vector.astype(np.float32), dtype=np.float32)
        k = min(k, len(rows))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(rows[i]), float(scores[i])) for i in top]


class FaissStore(VectorStore):
    """The index folder as a :class:`VectorStore`.

    Reads come from one loaded :class:`Snapshot` (a fixed version: open a new store
    to see later writes). Each write is a complete new version, swapped in
    atomically; :func:`retrieval.indexer.refresh_index` batches a whole refresh
    into one version instead.
    """

    def __init__(self, index_dir: Path, snapshot: Snapshot | None = None) -> None:
        self.index_dir = index_dir
        self.location = str(index_dir)
        self._snapshot = snapshot
        self._by_id: dict[str, Article] | None = None
        self._filtered: tuple[Filters, np.ndarray] | None = None

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> FaissStore:
        return cls(snapshot.folder.parent.parent, snapshot)

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = load_snapshot(self.index_dir)
        return self._snapshot

    # ------------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        return self.snapshot.manifest

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
        ok = np.array([filters.accepts(a) for a in snap.articles], dtype=bool)
        rows = np.flatnonzero(ok[snap.passages["article"]]) if len(ok) else np.zeros(0, np.int64)
        self._filtered = (filters, rows)
        return rows

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        rows = self._rows(filters)
        if rows is not None and len(rows) == 0:
            return []
        return self.snapshot.dense_search(vector, k, rows)

    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        rows = self._rows(filters)
        mask = None
        if rows is not None:
            mask = np.zeros(self.snapshot.size, dtype=bool)
            mask[rows] = True
        return list(top_k(self.snapshot.lexical.scores(query, mask, language=detect(query)), k))

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

    def article(self, article_id: str) -> Article | None:
        if self._by_id is None:
            self._by_id = {a.id: a for a in self.snapshot.articles}
        return self._by_id.get(article_id)

    def catalog(self) -> list[Article]:
        return self.snapshot.articles

    def stats(self) -> StoreStats:
        snap = self.snapshot
        return stats_of(snap.articles, snap.size, snap.manifest, len(snap.sentences or ()))

    # ------------------------------------------------------------------ writing

    def writer(self) -> AbstractContextManager[None]:
        return writer_lock(self.index_dir)

    def reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        manifest = Manifest(model=model, dim=dim, chunking=dict(chunking), created=_now())
        empty = np.zeros((0, dim), dtype=np.float32)
        index, _ = build_faiss(empty, "flat")
        passages, keys = np.zeros(0, PASSAGE_DTYPE), np.zeros(0, KEY_DTYPE)
        write_snapshot(self.index_dir, manifest, [], passages, keys, index, LexicalIndex.build([]), empty)
        self._reload()

    def put_article(
        self,
        article: Article,
        spans: Sequence[tuple[int, int]],
        vectors: np.ndarray,
        sentences: SentenceTable | None = None,
    ) -> None:
        self._rewrite(article.id, (article, spans, vectors), sentences)

    def remove_article(self, article_id: str) -> None:
        self._rewrite(article_id, None)

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        snap = self.snapshot
        if not snap.size or not keys:
            return {}
        return vectors_by_key({k: i for i, k in enumerate(snap.keys.tolist())}, snap.vectors(), keys)

    def _rewrite(
        self,
        drop: str,
        add: tuple[Article, Sequence[tuple[int, int]], np.ndarray] | None,
        add_sentences: SentenceTable | None = None,
    ) -> None:
        """A new version without article ``drop``, plus ``add`` (and its sentences) when given."""
        snap = load_snapshot(self.index_dir)  # the live version, not a stale one
        articles = [a for a in snap.articles if a.id != drop]
        position = {a.id: i for i, a in enumerate(articles)}
        remap = np.array([position.get(a.id, -1) for a in snap.articles], dtype=np.int64)
        keep = np.flatnonzero(remap[snap.passages["article"]] >= 0) if snap.size else np.zeros(0, np.int64)
        sentences = snap.sentences.remapped(remap) if snap.sentences is not None else None
        if add is not None and add_sentences is not None:
            base = sentences if sentences is not None else SentenceTable.empty(snap.manifest.dim)
            sentences = base.appended(add_sentences, len(articles))
        table = snap.passages[keep].copy()
        table["article"] = remap[table["article"]]
        tables, keys = [table], [snap.keys[keep]]
        vectors = [np.asarray(snap.vectors()[keep], dtype=np.float32).reshape(-1, snap.manifest.dim)]
        texts = [snap.passage_text(int(r)) for r in keep]
        reuse = [keep]
        if add is not None:
            article, spans, new_vectors = add
            if len(spans) != len(new_vectors):
                raise ValueError(f"{len(spans)} passages but {len(new_vectors)} vectors")
            fresh = np.zeros(len(spans), dtype=PASSAGE_DTYPE)
            fresh["article"] = len(articles)
            fresh["start"] = [s for s, _ in spans]
            fresh["end"] = [e for _, e in spans]
            articles.append(article)
            tables.append(fresh)
            new_texts = [article.text[s:e] for s, e in spans]
            keys.append(np.array([passage_key(t) for t in new_texts], dtype=KEY_DTYPE))
            vectors.append(np.asarray(new_vectors, dtype=np.float32).reshape(-1, snap.manifest.dim))
            texts.extend(new_texts)
            reuse.append(np.full(len(spans), -1, dtype=np.int64))
        passages, all_vectors = np.concatenate(tables), np.concatenate(vectors)
        counts = np.bincount(passages["article"], minlength=len(articles)).tolist()
        manifest = replace(
            snap.manifest,
            articles={
                a.id: ArticleEntry(hash=a.content_hash, passages=n, path=a.path)
                for a, n in zip(articles, counts, strict=True)
            },
            passages=len(passages),
            created=_now(),
        )
        # Keep an explicitly chosen type; "flat" may grow into an approximate one.
        kind = "auto" if manifest.index_type == "flat" else manifest.index_type
        index, kind = build_faiss(all_vectors, kind)
        manifest = replace(manifest, index_type=kind)
        languages = [articles[i].language for i in passages["article"].tolist()]
        lexical = LexicalIndex.build(texts, snap.lexical, np.concatenate(reuse), languages)
        write_snapshot(
            self.index_dir,
            manifest,
            articles,
            passages,
            np.concatenate(keys),
            index,
            lexical,
            all_vectors,
            sentences,
        )
        self._reload()

    def _reload(self) -> None:
        self._snapshot, self._by_id, self._filtered = None, None, None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- reading


def current_version(index_dir: Path) -> Path:
    """The folder of the live version; a clear error when there is no index."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise IndexMissingError(
            f"no index in {index_dir}: build one with `newsbot index` (add --articles DIR for your articles)"
        ) from exc
    folder = index_dir / VERSIONS / name
    if not name or not folder.is_dir():
        raise IndexMismatchError(
            f"the index in {index_dir} points at a missing version {name!r}; "
            "rebuild it with `newsbot index --full`"
        )
    return folder


def read_manifest(index_dir: Path) -> Manifest:
    return Manifest.read(current_version(index_dir) / MANIFEST_NAME)


def load_snapshot(index_dir: Path, mmap: bool = True) -> Snapshot:
    """Load the live version: every file comes from the one version ``CURRENT`` names.

    If a rebuild retires that version while we read it (two rebuilds during one
    load), start again from the new ``CURRENT``.
    """
    for _ in range(5):
        folder = current_version(index_dir)
        try:
            return _load_version(index_dir, folder, mmap)
        except IndexError_:
            if folder.is_dir() and current_version(index_dir) == folder:
                raise
    return _load_version(index_dir, current_version(index_dir), mmap)


def _load_version(index_dir: Path, folder: Path, mmap: bool) -> Snapshot:
    manifest = Manifest.read(folder / MANIFEST_NAME)
    try:
        articles = [
            _article_from_json(line)
            for line in (folder / "articles.jsonl").read_text("utf-8").splitlines()
            if line
        ]
        passages = np.load(folder / "passages.npy", allow_pickle=False)
        keys = np.load(folder / "keys.npy", allow_pickle=False)
        index = _read_faiss(folder / "vectors.faiss", mmap)
        lexical = LexicalIndex.load(folder / "bm25", len(passages))
        sentences = SentenceTable.load(folder, mmap)
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as exc:
        raise IndexMismatchError(
            f"the index in {index_dir} is damaged ({exc}); rebuild it with `newsbot index --full`"
        ) from exc
    if passages.dtype != PASSAGE_DTYPE or index.ntotal != len(passages) or index.d != manifest.dim:
        raise IndexMismatchError(
            f"the index in {index_dir} is inconsistent; rebuild it with `newsbot index --full`"
        )
    if sentences is not None and (
        sentences.vectors.shape[1:] != (manifest.dim,)
        or (len(sentences) and int(sentences.spans["article"].max()) >= len(articles))
    ):
        raise IndexMismatchError(
            f"the sentence vectors in {index_dir} do not fit its articles; rebuild it with `newsbot index --full`"
        )
    return Snapshot(folder, manifest, articles, passages, keys, index, lexical, sentences=sentences)


def _read_faiss(path: Path, mmap: bool) -> object:
    """Memory-map the stored vectors when FAISS can (flat, IVF and HNSW storage can with
    ``IO_FLAG_MMAP_IFC``): start-up reads no vectors and processes share the page cache."""
    import faiss

    if mmap:
        flag = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP)
        try:
            return faiss.read_index(str(path), flag | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:
            pass  # a type this FAISS cannot map: read it whole
    return faiss.read_index(str(path))


def _article_from_json(line: str) -> Article:
    data = json.loads(line)
    return Article(**data)


# --------------------------------------------------------------------------- writing


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (others wait)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_snapshot(
    index_dir: Path,
    manifest: Manifest,
    articles: Sequence[Article],
    passages: np.ndarray,
    keys: np.ndarray,
    faiss_index: object,
    lexical: LexicalIndex,
    vectors: np.ndarray | None = None,
    sentences: SentenceTable | None = None,
) -> Path:
    """Write a complete new version and make it live. Call under :func:`writer_lock`.

    ``vectors`` (exact, row order) is required for the lossy index types.
    """
    import faiss

    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(versions)
    name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = versions / f".tmp-{name}"
    tmp.mkdir()
    try:
        with open(tmp / "articles.jsonl", "w", encoding="utf-8") as fh:
            for art in articles:
                data = art.metadata() | {"text": art.text, "content_hash": art.content_hash}
                fh.write(json.dumps(data, ensure_ascii=False) + "\n")
        np.save(tmp / "passages.npy", passages.astype(PASSAGE_DTYPE, copy=False), allow_pickle=False)
        np.save(tmp / "keys.npy", keys.astype(KEY_DTYPE, copy=False), allow_pickle=False)
        faiss.write_index(faiss_index, str(tmp / "vectors.faiss"))
        if manifest.index_type in LOSSY_TYPES:
            if vectors is None:
                raise ValueError(f"a {manifest.index_type} index needs its exact vectors")
            np.save(tmp / EXACT_VECTORS, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
        (tmp / "bm25").mkdir()
        lexical.save(tmp / "bm25")
        if sentences is not None:
            sentences.save(tmp)
        (tmp / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
        _fsync_tree(tmp)
        final = versions / name
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point_current(index_dir, name)
    _remove_old_versions(versions, keep={name, *_previous(index_dir, name)})
    return final


def _point_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    previous = index_dir / CURRENT
    if previous.exists():
        prev_name = previous.read_text(encoding="utf-8").strip()
        (index_dir / ".PREVIOUS").write_text(prev_name + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def _previous(index_dir: Path, current: str) -> set[str]:
    prev = index_dir / ".PREVIOUS"
    # Keep the previous version one cycle longer: a reader may have just resolved it.
    return {prev.read_text(encoding="utf-8").strip()} if prev.exists() else set()


def _remove_old_versions(versions: Path, keep: set[str]) -> None:
    for child in versions.iterdir():
        if child.name not in keep and not child.name.startswith(".tmp-"):
            shutil.rmtree(child, ignore_errors=True)


def _remove_stale_temporaries(versions: Path) -> None:
    # Only called under the writer lock, so any temporary folder is a crashed writer's.
    for child in versions.glob(".tmp-*"):
        shutil.rmtree(child, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "FaissStore",
    "IndexMismatchError",
    "IndexMissingError",
    "Snapshot",
    "build_faiss",
    "current_version",
    "load_snapshot",
    "read_manifest",
    "write_snapshot",
    "writer_lock",
]
