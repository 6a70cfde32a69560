"""Index types chosen by size: exact flat, IVF with 8-bit codes, HNSW; all memory-mapped."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.store import faiss_index
from retrieval.store.faiss_index import build_faiss, exact_search, ivf_lists, ivf_probes, search_index
from retrieval.store.rows import Ranked
from retrieval.store.snapshots import Snapshot, load_snapshot
from tests.conftest import write


def dense(snap: Snapshot, vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> Ranked:
    return search_index(snap.faiss_index, snap.manifest.index_type, snap.vectors, vector, k, rows)


WORDS = [
    "council",
    "budget",
    "transport",
    "mayor",
    "storm",
    "snow",
    "road",
    "school",
    "football",
    "cup",
    "captain",
    "goal",
    "bank",
    "rates",
    "inflation",
    "election",
    "governor",
    "voters",
    "hospital",
    "doctors",
    "vaccine",
    "court",
    "judge",
    "trial",
    "police",
    "fire",
    "harbour",
    "ship",
    "festival",
    "music",
    "film",
    "museum",
    "river",
    "bridge",
    "train",
    "airport",
    "strike",
    "union",
    "wages",
]


def synthetic_articles(folder: Path, n_articles: int = 60, seed: int = 0) -> None:
    rng = random.Random(seed)
    for i in range(n_articles):
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize() + "."
            for _ in range(12)
        ]
        write(folder / f"art{i:03d}.txt", f"Story {i}.\n\n" + " ".join(sentences))


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic")
    synthetic_articles(folder)
    return folder


def test_auto_picks_exact_search_below_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = HashingEmbedder(32).embed([f"text {i} {WORDS[i % len(WORDS)]}" for i in range(400)])
    assert build_faiss(vectors)[1] == "flat"
    monkeypatch.setattr(faiss_index, "ANN_THRESHOLD", 300)
    index, kind = build_faiss(vectors)
    assert kind == "ivf-sq8"
    assert index.ntotal == 400  # type: ignore[attr-defined]
    assert build_faiss(vectors[:0])[1] == "flat"  # nothing to train on


def test_ivf_parameters_grow_with_size() -> None:
    assert ivf_lists(1_000_000) == 1024
    assert ivf_lists(100) == 2  # never fewer than 39 training points per list
    assert ivf_lists(0) == 1
    assert ivf_probes(1024) == 32 and ivf_probes(4096) == 64 and ivf_probes(2) == 2


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf-sq8"])
def test_every_type_answers_like_exact_search(tmp_path: Path, articles: Path, kind: str) -> None:
    embedder = HashingEmbedder(64)
    refresh(tmp_path / "exact", [articles], embedder, index_type="flat")
    refresh(tmp_path / kind, [articles], embedder, index_type=kind)
    exact, other = load_snapshot(tmp_path / "exact"), load_snapshot(tmp_path / kind)
    assert other.manifest.index_type == kind
    # The embedding cache always gets exact vectors back, even from 8-bit codes.
    np.testing.assert_allclose(other.vectors(), exact.vectors(), atol=1e-6)
    queries = embedder.embed([" ".join(WORDS[i : i + 4]) for i in range(0, 40, 4)])
    overlap = []
    for q in queries:
        want = {row for row, _ in dense(exact, q, 10)}
        got = dense(other, q, 10)
        assert len(got) == 10 and len({row for row, _ in got}) == 10
        overlap.append(len(want & {row for row, _ in got}) / 10)
    assert np.mean(overlap) >= 0.9, overlap


@pytest.mark.parametrize(
    ("kind", "exact_rows"),
    [("flat", 0), ("flat", 10_000), ("hnsw", 0), ("ivf-sq8", 0), ("ivf-sq8", 10_000)],
)
def test_filtered_search_only_returns_allowed_rows(
    tmp_path: Path, articles: Path, kind: str, exact_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small filters are searched row by row, big ones through the index (more lists probed)."""
    monkeypatch.setattr(faiss_index, "EXACT_FILTERED_ROWS", exact_rows)
    monkeypatch.setattr(faiss_index, "FLAT_GATHER_ROWS", exact_rows)
    embedder = HashingEmbedder(64)
    refresh(tmp_path / "index", [articles], embedder, index_type=kind)
    snap = load_snapshot(tmp_path / "index")
    allowed = np.arange(0, snap.size, 7)
    q = embedder.embed_query("storm snow road school")
    hits = dense(snap, q, 5, allowed)
    assert len(hits) == 5 and {row for row, _ in hits} <= set(allowed.tolist())
    # Exactly the best allowed rows, whatever the index type.
    best = allowed[np.argsort(-(snap.vectors()[allowed] @ q), kind="stable")[:5]]
    assert [row for row, _ in hits] == best.tolist()
    assert dense(snap, q, 5, np.array([], dtype=np.int64)) == []


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf-sq8"])
def test_memory_mapped_load_matches_a_full_read(tmp_path: Path, articles: Path, kind: str) -> None:
    embedder = HashingEmbedder(64)
    refresh(tmp_path / "index", [articles], embedder, index_type=kind)
    mapped, read = load_snapshot(tmp_path / "index"), load_snapshot(tmp_path / "index", mmap=False)
    q = embedder.embed_query("court judge trial")
    assert dense(mapped, q, 8) == dense(read, q, 8)


def test_refreshing_an_ivf_index_reuses_exact_vectors(tmp_path: Path, articles: Path) -> None:
    embedder = HashingEmbedder(64)
    refresh(tmp_path / "index", [articles], embedder, index_type="ivf-sq8")
    write(articles / "zzz-new.txt", "A festival of film and music opened by the river bridge.")
    try:
        report = refresh(tmp_path / "index", [articles], embedder, index_type="ivf-sq8")
    finally:
        (articles / "zzz-new.txt").unlink()
    assert report.embedded == 1 and report.reused == report.passages - 1
    snap = load_snapshot(tmp_path / "index")
    texts = [snap.passage_text(r) for r in range(snap.size)]
    np.testing.assert_allclose(snap.vectors(), embedder.embed_passages(texts), atol=1e-6)


@pytest.mark.parametrize("share", [0.05, 0.5, 1.0])
def test_exact_search_over_a_subset_is_exact(share: float) -> None:
    """Few rows are gathered, many are scored in one scan: the same top k either way."""
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((400, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    rows = rng.choice(400, int(400 * share), replace=False)
    scores = vectors[rows] @ query
    expected = [int(rows[i]) for i in np.argsort(-scores)[:7]]
    found = exact_search(vectors, query, 7, rows)
    assert [r for r, _ in found] == expected
    assert all(abs(s - float(vectors[r] @ query)) < 1e-4 for r, s in found)
