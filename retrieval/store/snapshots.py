"""The index folder's versions on disk: each one written complete, then swapped in atomically.

Layout of an index folder::

    index/
      CURRENT              name of the live version (replaced atomically)
      versions/<name>/     manifest.json, vectors.faiss, passages.npy, keys.npy,
                           articles.jsonl, signatures.npy (the articles' MinHash
                           signatures, in their order), bm25/, and for models that
                           index sentences sentences.npy, sentence_keys.npy,
                           sentence_vectors.npy (written complete, then renamed)
      .lock                held by the one writer at a time

A write makes a new version beside the live one and only then points ``CURRENT`` at
it, so a crash at any moment leaves the previous index intact and a reader always
sees one whole version, never a mix. No pickle anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.durable import fsync_dir, fsync_tree
from retrieval.errors import ArchiveError, IndexMismatchError, IndexMissingError
from retrieval.store.faiss_index import LOSSY_TYPES
from retrieval.store.lexical import LexicalIndex
from retrieval.store.manifest import MANIFEST_NAME, Manifest
from retrieval.store.rows import KEY_DTYPE, SPAN_DTYPE
from retrieval.store.sentences import SentenceTable
from retrieval.types import Article

CURRENT = "CURRENT"
PREVIOUS = ".PREVIOUS"
VERSIONS = "versions"
EXACT_VECTORS = "vectors.npy"
SIGNATURES = "signatures.npy"


class IndexWriteError(ArchiveError):
    """The index folder cannot be written (disk full, read-only, permissions)."""


@dataclass
class Snapshot:
    """One complete, immutable version of the index, loaded into memory."""

    folder: Path
    manifest: Manifest
    articles: list[Article]
    passages: np.ndarray  # SPAN_DTYPE rows, aligned with the vector index
    keys: np.ndarray  # KEY_DTYPE content hash of each passage text
    faiss_index: Any
    lexical: LexicalIndex
    #: one vector per article sentence, for models that index them (else None)
    sentences: SentenceTable | None = None
    #: uint32 MinHash signature per article, in article order (None: a version written
    #: before stories; an article stored without one has the empty signature)
    signatures: np.ndarray | None = None
    _exact: np.ndarray | None = field(default=None, repr=False)  # vectors.npy, mapped

    @property
    def size(self) -> int:
        return len(self.passages)

    def passage_text(self, row: int) -> str:
        p = self.passages[row]
        return self.articles[p["article"]].text[p["start"] : p["end"]]

    def vectors(self) -> np.ndarray:
        """All passage vectors, exact, in row order (flat and HNSW keep full vectors;
        for the lossy types they are read, memory-mapped, from vectors.npy)."""
        if self.size == 0:
            return np.zeros((0, self.manifest.dim), dtype=np.float32)
        if self._exact is None:
            if self.manifest.index_type in LOSSY_TYPES:
                self._exact = np.load(self.folder / EXACT_VECTORS, mmap_mode="r", allow_pickle=False)
            else:
                self._exact = _stored_vectors(self.faiss_index, self.size)
        return self._exact


def _stored_vectors(index: Any, n: int) -> np.ndarray:
    """The full vectors a flat (or HNSW) index holds, as a read-only view of its memory (no
    copy: it lives as long as the index, which the snapshot keeps)."""
    import faiss

    flat: Any = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
    try:
        view = faiss.rev_swig_ptr(flat.get_xb(), n * flat.d).reshape(n, flat.d)
    except (AttributeError, RuntimeError, TypeError):  # an index type without raw storage
        return np.asarray(index.reconstruct_n(0, n))
    view.flags.writeable = False
    return view


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
    except OSError as exc:
        raise IndexMismatchError(f"cannot read the index in {index_dir}: {exc.strerror or exc}") from exc
    folder = index_dir / VERSIONS / name
    if not name or not folder.is_dir():
        raise IndexMismatchError(
            f"the index in {index_dir} points at a missing version {name!r}; "
            "rebuild it with `newsbot index --full`"
        )
    return folder


def load_snapshot(index_dir: Path, mmap: bool = True) -> Snapshot:
    """Load the live version: every file comes from the one version ``CURRENT`` names.

    If a rebuild retires that version while we read it (two rebuilds during one
    load), start again from the new ``CURRENT``.
    """
    for _ in range(5):
        folder = current_version(index_dir)
        try:
            return _load_version(index_dir, folder, mmap)
        except ArchiveError:
            if folder.is_dir() and current_version(index_dir) == folder:
                raise
    return _load_version(index_dir, current_version(index_dir), mmap)


def _load_version(index_dir: Path, folder: Path, mmap: bool) -> Snapshot:
    manifest = Manifest.read(folder / MANIFEST_NAME)
    try:
        lines = (folder / "articles.jsonl").read_text("utf-8").splitlines()
        articles = [Article(**json.loads(line)) for line in lines if line]
        passages = np.load(folder / "passages.npy", allow_pickle=False)
        keys = np.load(folder / "keys.npy", allow_pickle=False)
        index = _read_faiss(folder / "vectors.faiss", mmap)
        lexical = LexicalIndex.load(folder / "bm25", len(passages))
        sentences = SentenceTable.load(folder, mmap)
        signatures = (
            np.load(folder / SIGNATURES, allow_pickle=False) if (folder / SIGNATURES).exists() else None
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexMismatchError(
            f"the index in {index_dir} is damaged ({exc}); rebuild it with `newsbot index --full`"
        ) from exc
    if passages.dtype != SPAN_DTYPE or index.ntotal != len(passages) or index.d != manifest.dim:
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
    if signatures is not None and (signatures.dtype != np.uint32 or len(signatures) != len(articles)):
        raise IndexMismatchError(
            f"the signatures in {index_dir} do not fit its articles; rebuild it with `newsbot index --full`"
        )
    return Snapshot(
        folder, manifest, articles, passages, keys, index, lexical, sentences=sentences, signatures=signatures
    )


def _read_faiss(path: Path, mmap: bool) -> Any:
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


# --------------------------------------------------------------------------- writing


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (others wait)."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = open(index_dir / ".lock", "a+")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise _write_error(index_dir, exc) from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_snapshot(
    index_dir: Path,
    manifest: Manifest,
    articles: Sequence[Article],
    passages: np.ndarray,
    keys: np.ndarray,
    faiss_index: Any,
    lexical: LexicalIndex,
    vectors: np.ndarray | None = None,
    sentences: SentenceTable | None = None,
    signatures: np.ndarray | None = None,
) -> Path:
    """Write a complete new version and make it live. Call under :func:`writer_lock`.

    ``vectors`` (exact, row order) is required for the lossy index types; ``signatures``
    (uint32, one row per article) are the articles' MinHash signatures. On any
    failure nothing is left behind and the previous version stays live.
    """
    import faiss

    versions = index_dir / VERSIONS
    name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = versions / f".tmp-{name}"
    try:
        versions.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(index_dir)
        tmp.mkdir()
        with open(tmp / "articles.jsonl", "w", encoding="utf-8") as fh:
            for art in articles:
                data = art.metadata() | {"text": art.text, "content_hash": art.content_hash}
                fh.write(json.dumps(data, ensure_ascii=False) + "\n")
        np.save(tmp / "passages.npy", passages.astype(SPAN_DTYPE, copy=False), allow_pickle=False)
        np.save(tmp / "keys.npy", keys.astype(KEY_DTYPE, copy=False), allow_pickle=False)
        if signatures is not None:
            if len(signatures) != len(articles):
                raise ValueError(f"{len(signatures)} signatures for {len(articles)} articles")
            np.save(tmp / SIGNATURES, np.asarray(signatures, dtype=np.uint32), allow_pickle=False)
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
        fsync_tree(tmp)
        os.rename(tmp, versions / name)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError | RuntimeError):  # FAISS reports I/O errors as RuntimeError
            raise _write_error(index_dir, exc) from exc
        raise
    try:
        _point_current(index_dir, name)
    except OSError as exc:
        shutil.rmtree(versions / name, ignore_errors=True)
        raise _write_error(index_dir, exc) from exc
    _remove_old_versions(versions, keep={name, *_kept_previous(index_dir)})
    return versions / name


def _write_error(index_dir: Path, exc: BaseException) -> IndexWriteError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return IndexWriteError(
        f"cannot write the index in {index_dir}: {reason}; the previous index stays in use"
    )


def _point_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        previous = index_dir / CURRENT
        if previous.exists():
            prev_name = previous.read_text(encoding="utf-8").strip()
            (index_dir / PREVIOUS).write_text(prev_name + "\n", encoding="utf-8")
        os.replace(tmp, index_dir / CURRENT)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(index_dir)


def _kept_previous(index_dir: Path) -> set[str]:
    """The version live before the current one, kept one cycle longer: a reader may
    have just resolved it."""
    prev = index_dir / PREVIOUS
    return {prev.read_text(encoding="utf-8").strip()} if prev.exists() else set()


def _remove_old_versions(versions: Path, keep: set[str]) -> None:
    for child in versions.iterdir():
        if child.name not in keep and not child.name.startswith(".tmp-"):
            shutil.rmtree(child, ignore_errors=True)


def _remove_stale_temporaries(index_dir: Path) -> None:
    # Only called under the writer lock, so any temporary is a crashed writer's.
    for child in (index_dir / VERSIONS).glob(".tmp-*"):
        shutil.rmtree(child, ignore_errors=True)
    for pointer in index_dir.glob(f".{CURRENT}.*"):
        pointer.unlink(missing_ok=True)
