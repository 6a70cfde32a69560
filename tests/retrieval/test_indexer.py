"""Incremental indexing, manifest checks, crash safety and consistent reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.errors import IndexMismatchError, IndexMissingError, SourceError
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.store.manifest import FORMAT_VERSION
from retrieval.store.snapshots import current_version, load_snapshot
from tests.conftest import ROOT, SEEDS, write


class CountingEmbedder(HashingEmbedder):
    """The fake embedder, remembering every text it embedded."""

    def __init__(self) -> None:
        super().__init__(64)
        self.seen: list[str] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_batch(texts)


def _articles(folder: Path, n: int = 3) -> Path:
    for i in range(n):
        write(
            folder / f"a{i}.txt",
            f"Article {i} reports on topic{i}. It quotes official{i} at length. The end of story{i}.",
        )
    return folder


def test_first_build_then_nothing_to_do(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    emb = CountingEmbedder()
    first = refresh(idx, [src], emb)
    assert (len(first.added), first.wrote, first.embedded) == (3, True, first.passages)
    emb.seen.clear()
    again = refresh(idx, [src], emb)
    assert (again.unchanged, again.wrote, again.embedded, emb.seen) == (3, False, 0, [])


def test_only_the_changed_article_is_embedded(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    emb = CountingEmbedder()
    refresh(idx, [src], emb)

    write(src / "new.txt", "A brand new article about volcanoes.")
    emb.seen.clear()
    report = refresh(idx, [src], emb)
    assert report.added == ["new"] and report.unchanged == 3
    assert emb.seen == ["A brand new article about volcanoes."]

    write(src / "a1.txt", "Article 1 now reports on glaciers instead.")
    emb.seen.clear()
    report = refresh(idx, [src], emb)
    assert report.updated == ["a1"]
    assert emb.seen == ["Article 1 now reports on glaciers instead."]

    (src / "a2.txt").unlink()
    emb.seen.clear()
    report = refresh(idx, [src], emb)
    assert report.removed == ["a2"] and emb.seen == []
    snap = load_snapshot(idx)
    assert sorted(a.id for a in snap.articles) == ["a0", "a1", "new"]
    texts = [snap.passage_text(i) for i in range(snap.size)]
    assert not any("story2" in t for t in texts)
    assert any("glaciers" in t for t in texts)


def test_reused_vectors_equal_fresh_ones(tmp_path: Path) -> None:
    src = _articles(tmp_path / "src")
    emb = HashingEmbedder(64)
    refresh(tmp_path / "inc", [src], emb)
    write(src / "z.txt", "Zebra crossing news.")
    refresh(tmp_path / "inc", [src], emb)
    refresh(tmp_path / "full", [src], emb, full=True)
    inc, full = load_snapshot(tmp_path / "inc"), load_snapshot(tmp_path / "full")
    by_text_inc = {inc.passage_text(i): v for i, v in enumerate(inc.vectors())}
    by_text_full = {full.passage_text(i): v for i, v in enumerate(full.vectors())}
    assert by_text_inc.keys() == by_text_full.keys()
    for text, vec in by_text_full.items():
        np.testing.assert_allclose(by_text_inc[text], vec, atol=1e-6)


def test_metadata_change_rewrites_without_embedding(tmp_path: Path) -> None:
    src, idx = tmp_path / "src", tmp_path / "index"
    write(src / "a.md", "---\ntitle: Old title\n---\nBody of the article.")
    emb = CountingEmbedder()
    refresh(idx, [src], emb)
    write(src / "a.md", "---\ntitle: New title\n---\nBody of the article.")
    emb.seen.clear()
    report = refresh(idx, [src], emb)
    assert report.wrote and emb.seen == []
    assert load_snapshot(idx).articles[0].title == "New title"


def test_full_rebuild_embeds_everything(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    emb = CountingEmbedder()
    first = refresh(idx, [src], emb)
    emb.seen.clear()
    report = refresh(idx, [src], emb, full=True)
    assert report.embedded == first.passages == len(emb.seen)


def test_skipped_files_reported_good_ones_indexed(tmp_path: Path) -> None:
    src = _articles(tmp_path / "src", 2)
    write(src / "bad.json", "{oops")
    write(src / "empty.txt", "")
    report = refresh(tmp_path / "index", [src], HashingEmbedder(64))
    assert report.articles == 2
    assert sorted(Path(p.path).name for p in report.skipped) == ["bad.json", "empty.txt"]


def test_missing_articles_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="articles folder not found"):
        refresh(tmp_path / "index", [tmp_path / "nope"], HashingEmbedder(64))
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_other_model_is_refused_with_a_hint(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    refresh(idx, [src], HashingEmbedder(64))
    with pytest.raises(IndexMismatchError, match="--full"):
        refresh(idx, [src], HashingEmbedder(32))
    with pytest.raises(IndexMismatchError, match="newsbot index --full"):
        Retriever.open(idx, HashingEmbedder(32))
    # --full switches the model.
    refresh(idx, [src], HashingEmbedder(32), full=True)
    assert load_snapshot(idx).manifest.model == "hashing-32"


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    idx = tmp_path / "index"
    refresh(idx, [_articles(tmp_path / "src")], HashingEmbedder(64))
    manifest = current_version(idx) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = FORMAT_VERSION + 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="newsbot index --full"):
        load_snapshot(idx)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="newsbot index"):
        load_snapshot(tmp_path / "nothing")


def test_manifest_records_model_chunking_and_hashes(tmp_path: Path) -> None:
    idx = tmp_path / "index"
    refresh(idx, [SEEDS], HashingEmbedder(64))
    data = json.loads((current_version(idx) / "manifest.json").read_text())
    assert data["format_version"] == FORMAT_VERSION
    assert (data["model"], data["dim"]) == ("hashing-64", 64)
    assert set(data["chunking"]) == {"max_words", "overlap_sentences", "words"}
    [entry] = data["articles"].values()
    assert len(entry["hash"]) == 64 and entry["passages"] > 1
    # No pickle anywhere: every .npy loads with allow_pickle=False.
    for npy in current_version(idx).rglob("*.npy"):
        np.load(npy, allow_pickle=False)


# --------------------------------------------------------------------------- crash safety

KILL_SCRIPT = r"""
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
import numpy as np
import faiss
from retrieval.embedding import HashingEmbedder
from retrieval.ingest import indexer
from retrieval.store import snapshots

point = {point!r}
class Slow(HashingEmbedder):
    def embed_batch(self, texts):
        if point == "embedding":
            print("READY", flush=True); time.sleep(60)
        return super().embed_batch(texts)

real_write = faiss.write_index
def slow_write(index, path):
    real_write(index, path)
    if point == "writing":
        print("READY", flush=True); time.sleep(60)
faiss.write_index = slow_write

real_point = snapshots._point_current
def slow_point(index_dir, name):
    if point == "swapping":
        print("READY", flush=True); time.sleep(60)
    real_point(index_dir, name)
snapshots._point_current = slow_point

indexer.refresh(Path({index!r}), [Path({src!r})], Slow(64))
"""


@pytest.mark.parametrize("point", ["embedding", "writing", "swapping"])
def test_killed_rebuild_leaves_the_old_index_loadable(tmp_path: Path, point: str) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    refresh(idx, [src], HashingEmbedder(64))
    before = load_snapshot(idx)
    write(src / "extra.txt", "An extra article that the killed run was adding.")
    script = KILL_SCRIPT.format(root=str(ROOT), point=point, index=str(idx), src=str(src))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    after = load_snapshot(idx)
    assert [a.id for a in after.articles] == [a.id for a in before.articles]
    assert after.size == before.size
    # The next run cleans up and completes.
    report = refresh(idx, [src], HashingEmbedder(64))
    assert report.added == ["extra"]
    assert not list((idx / "versions").glob(".tmp-*"))


def test_reader_sees_old_or_new_never_a_mix(tmp_path: Path) -> None:
    src, idx = tmp_path / "src", tmp_path / "index"
    write(src / "a.txt", "Version zero of the article.")
    refresh(idx, [src], HashingEmbedder(64))
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        while not stop.is_set():
            snap = load_snapshot(idx)
            texts = {snap.passage_text(i) for i in range(snap.size)}
            ids = {a.id for a in snap.articles}
            # Each version holds article a plus exactly the b-file of the same version.
            versions = {t.split()[1] for t in texts}
            if len(versions) != 1 or ids != set(snap.manifest.articles):
                errors.append(f"mixed: {texts} {ids}")

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for v in range(1, 12):
            for old in src.glob("*.txt"):
                old.unlink()
            write(src / "a.txt", f"Version {v} of the article.")
            write(src / "b.txt", f"Version {v} of the sidebar.")
            refresh(idx, [src], HashingEmbedder(64))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert len(list((idx / "versions").iterdir())) <= 2


# --------------------------------------------------------------------------- safe removal


def test_an_emptied_source_folder_removes_nothing(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    refresh(idx, [src], HashingEmbedder(64))
    for f in src.iterdir():
        f.unlink()  # an unmounted disk looks like this
    report = refresh(idx, [src], HashingEmbedder(64))
    assert report.removed == [] and len(report.kept) == 3
    assert all("is empty now" in p.reason for p in report.kept)
    assert sorted(a.id for a in load_snapshot(idx).articles) == ["a0", "a1", "a2"]


def test_articles_of_an_unreadable_folder_or_file_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.ingest import articles

    src, idx = tmp_path / "src", tmp_path / "index"
    _articles(src / "world", 2)
    write(src / "local" / "harbour.txt", "The harbour reopened on Monday after the storm.")
    write(src / "local" / "bridge.txt", "The bridge closed on Friday for repairs.")
    refresh(idx, [src], HashingEmbedder(64))
    real = articles.os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "world":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(articles.os, "scandir", scandir)
    (src / "local" / "bridge.txt").unlink()
    report = refresh(idx, [src], HashingEmbedder(64), allow_removal=True)
    assert report.removed == ["local/bridge"]
    assert sorted(Path(p.path).name for p in report.kept) == ["a0.txt", "a1.txt"]
    assert all("world" in p.path and "Permission denied" in p.reason for p in report.kept)
    assert sorted(a.id for a in load_snapshot(idx).articles) == ["local/harbour", "world/a0", "world/a1"]


def test_removing_more_than_half_needs_allow_removal(tmp_path: Path) -> None:
    src, idx = _articles(tmp_path / "src", 4), tmp_path / "index"
    refresh(idx, [src], HashingEmbedder(64))
    for n in (0, 1, 2):
        (src / f"a{n}.txt").unlink()
    with pytest.raises(SourceError, match=r"would remove 3 of the 4 articles.*--allow-removal"):
        refresh(idx, [src], HashingEmbedder(64))
    assert len(load_snapshot(idx).articles) == 4  # nothing written
    report = refresh(idx, [src], HashingEmbedder(64), allow_removal=True)
    assert sorted(report.removed) == ["a0", "a1", "a2"]


def test_full_keeps_the_index_model_and_chunking_unless_told(tmp_path: Path) -> None:
    from retrieval.ingest.chunking import ChunkingParams

    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    refresh(idx, [src], "hashing-64", ChunkingParams(max_words=9, overlap_sentences=0))
    report = refresh(idx, [src], None, full=True)
    manifest = load_snapshot(idx).manifest
    assert (report.model, manifest.model) == ("hashing-64", "hashing-64")
    assert (manifest.chunking["max_words"], manifest.chunking["overlap_sentences"]) == (9, 0)
    refresh(idx, [src], "hashing-32", {"max_words": 12}, full=True)
    manifest = load_snapshot(idx).manifest
    assert (manifest.model, manifest.chunking["max_words"], manifest.chunking["overlap_sentences"]) == (
        "hashing-32",
        12,
        0,
    )


# --------------------------------------------------------------------------- disk trouble


@pytest.mark.parametrize("where", ["vectors", "pointer"])
def test_a_failed_write_is_one_line_and_leaves_the_old_index_and_no_litter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    import errno

    from retrieval.store import snapshots
    from retrieval.store.snapshots import IndexWriteError

    src, idx = _articles(tmp_path / "src"), tmp_path / "index"
    refresh(idx, [src], HashingEmbedder(64))
    before = current_version(idx)
    write(src / "new.txt", "A new article about the dam.")
    if where == "vectors":

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(snapshots.np, "save", full)
    else:
        real = snapshots.os.replace

        def replace(a: object, b: object) -> None:
            if str(b).endswith("CURRENT"):
                raise OSError(errno.EROFS, "Read-only file system")
            real(a, b)  # type: ignore[arg-type]

        monkeypatch.setattr(snapshots.os, "replace", replace)
    with pytest.raises(IndexWriteError) as caught:
        refresh(idx, [src], HashingEmbedder(64))
    message = str(caught.value)
    assert "\n" not in message and str(idx) in message and "the previous index stays in use" in message
    assert ("No space left" if where == "vectors" else "Read-only") in message
    assert current_version(idx) == before and len(load_snapshot(idx).articles) == 3
    litter = [p.name for p in idx.rglob("*") if p.name.startswith((".tmp-", ".CURRENT."))]
    assert litter == [] and sorted(p.name for p in (idx / "versions").iterdir()) == [before.name]
