"""Re-indexing reuses what did not change and ends exactly where a full rebuild ends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import Embedder, HashingEmbedder
from retrieval.ingest.chunking import ChunkingParams
from retrieval.ingest.indexer import refresh
from retrieval.store import passage_key
from retrieval.store.lexical import LexicalIndex
from retrieval.store.snapshots import Snapshot, load_snapshot
from retrieval.text import terms
from tests.conftest import write

SENTENCES = [
    "The city council approved a new budget for public transport on Monday.",
    "Bus fares will fall by ten percent from March, the mayor said.",
    "Critics warned that the plan leaves the tram network underfunded.",
    "A storm brought heavy snow to the northern valleys overnight.",
    "Several roads were closed and schools stayed shut in three towns.",
    "The national team won the regional football cup after extra time.",
    "Their captain scored the winning goal from a free kick.",
]


def article_text(i: int, extra: str = "") -> str:
    body = " ".join(SENTENCES[(i + j) % len(SENTENCES)] for j in range(5))
    return f"Report number {i}.\n\n{body}\n\n{extra}".strip()


def write_articles(folder: Path, texts: dict[str, str]) -> None:
    for name, text in texts.items():
        write(folder / f"{name}.txt", text)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.seen: list[str] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return super().embed_batch(texts)


def passage_texts(index_dir: Path) -> list[str]:
    snapshot = load_snapshot(index_dir)
    return [snapshot.passage_text(row) for row in range(snapshot.size)]


def assert_same_index(a: Path, b: Path, questions: list[str]) -> None:
    """The same articles, passages, keys, vectors and BM25 scores (rows may be in another
    order: an incremental run appends what it rewrote)."""
    x, y = load_snapshot(a), load_snapshot(b)
    assert sorted(art.id for art in x.articles) == sorted(art.id for art in y.articles)
    assert x.manifest.articles == y.manifest.articles
    rx, ry = _rows_by_span(x), _rows_by_span(y)
    assert rx.keys() == ry.keys()
    order_x, order_y = [rx[k] for k in sorted(rx)], [ry[k] for k in sorted(ry)]
    np.testing.assert_array_equal(x.keys[order_x], y.keys[order_y])
    np.testing.assert_allclose(x.vectors()[order_x], y.vectors()[order_y], atol=1e-6)
    for q in questions:
        words = terms(q)
        np.testing.assert_allclose(
            x.lexical.scores(words)[order_x], y.lexical.scores(words)[order_y], atol=1e-6
        )
        assert x.lexical.idf("budget") == pytest.approx(y.lexical.idf("budget"))


def _rows_by_span(snap: Snapshot) -> dict[tuple[str, int, int], int]:
    return {
        (snap.articles[int(p["article"])].id, int(p["start"]), int(p["end"])): row
        for row, p in enumerate(snap.passages)
    }


def test_changing_one_article_embeds_only_its_new_passages(tmp_path: Path) -> None:
    src = tmp_path / "articles"
    texts = {f"a{i}": article_text(i) for i in range(6)}
    write_articles(src, texts)
    embedder = CountingEmbedder()
    refresh(tmp_path / "index", [src], embedder, ChunkingParams(max_words=20))
    before = passage_texts(tmp_path / "index")
    embedder.seen.clear()

    texts["a2"] = article_text(2, "An unexpected late correction about tram tickets was published.")
    texts["a9"] = "A brand new article about a bakery that opened in the old station."
    del texts["a4"]
    (src / "a4.txt").unlink()
    write_articles(src, texts)
    report = refresh(tmp_path / "index", [src], embedder, ChunkingParams(max_words=20))

    assert report.added == ["a9"] and report.updated == ["a2"] and report.removed == ["a4"]
    # Only text that was never embedded before: around the correction, and the new article.
    after = passage_texts(tmp_path / "index")
    assert sorted(embedder.seen) == sorted(set(after) - set(before))
    assert texts["a9"] in embedder.seen
    assert 0 < report.embedded == len(embedder.seen) <= 3 < len(after)
    refresh(tmp_path / "full", [src], HashingEmbedder(64), ChunkingParams(max_words=20), full=True)
    assert_same_index(tmp_path / "index", tmp_path / "full", ["tram budget", "football cup", "bakery"])


def test_new_chunking_rechunks_but_reuses_vectors_of_unchanged_text(tmp_path: Path) -> None:
    src = tmp_path / "articles"
    write_articles(src, {f"a{i}": article_text(i) for i in range(4)})
    embedder = CountingEmbedder()
    refresh(tmp_path / "index", [src], embedder, ChunkingParams(max_words=12, overlap_sentences=0))
    first = len(embedder.seen)
    embedder.seen.clear()
    # One sentence per passage both times (each is 11-13 words), so the texts repeat.
    report = refresh(tmp_path / "index", [src], embedder, ChunkingParams(max_words=13, overlap_sentences=0))
    assert report.wrote and first > 0
    assert report.embedded == len(embedder.seen) < first
    refresh(
        tmp_path / "full",
        [src],
        HashingEmbedder(64),
        ChunkingParams(max_words=13, overlap_sentences=0),
        full=True,
    )
    assert_same_index(tmp_path / "index", tmp_path / "full", ["snow roads", "mayor fares"])


def test_passage_keys_ending_in_nul_bytes_are_still_reused(tmp_path: Path) -> None:
    """numpy's fixed-width bytes drop trailing NULs; a key must match after the round trip."""
    text = next(
        t
        for t in (f"Sentence number {i} of the archive." for i in range(100_000))
        if hashlib.blake2b(t.encode(), digest_size=16).digest().endswith(b"\0")
    )
    assert passage_key(text).endswith(b"\0")
    src = tmp_path / "articles"
    write_articles(src, {"nul": text})
    embedder = CountingEmbedder()
    refresh(tmp_path / "index", [src], embedder)
    embedder.seen.clear()
    write_articles(src, {"other": "Something else entirely happened in the harbour."})
    report = refresh(tmp_path / "index", [src], embedder)
    assert embedder.seen == ["Something else entirely happened in the harbour."]
    assert report.reused == 1


def test_index_without_stored_terms_still_refreshes(tmp_path: Path, fake_embedder: Embedder) -> None:
    """An index written before per-passage term ids were kept: BM25 tokenizes again."""
    src = tmp_path / "articles"
    write_articles(src, {f"a{i}": article_text(i) for i in range(3)})
    refresh(tmp_path / "index", [src], fake_embedder)
    bm25 = load_snapshot(tmp_path / "index").folder / "bm25"
    (bm25 / "doc_terms.npy").unlink()
    (bm25 / "doc_offsets.npy").unlink()
    write_articles(src, {"a3": article_text(3)})
    refresh(tmp_path / "index", [src], fake_embedder)
    refresh(tmp_path / "full", [src], fake_embedder, full=True)
    assert_same_index(tmp_path / "index", tmp_path / "full", ["storm snow", "captain goal"])


def test_numpy_bm25_matches_bm25s(tmp_path: Path) -> None:
    """Our numpy BM25 gives bm25s's scores, in a folder bm25s itself can load."""
    import bm25s

    texts = [article_text(i) for i in range(7)] + ["", "snow snow snow"]
    ours = LexicalIndex.build(texts)
    ref = bm25s.BM25()
    ref.index([terms(t) for t in texts], show_progress=False)
    ours.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, len(texts))
    theirs_loading_ours = bm25s.BM25.load(str(tmp_path), show_progress=False, verbosity=0)
    for q in ["snow", "budget transport mayor", "football captain goal snow snow", "nothing matches zzz"]:
        expected = ref.get_scores(terms(q)) if any(t in ref.vocab_dict for t in terms(q)) else 0
        np.testing.assert_allclose(ours.scores(terms(q)), expected, rtol=1e-6)
        np.testing.assert_allclose(loaded.scores(terms(q)), ours.scores(terms(q)))
        ids = loaded.term_ids(terms(q))
        if ids:
            np.testing.assert_allclose(theirs_loading_ours.get_scores_from_ids(ids), ours.scores(terms(q)))
    mask = np.zeros(len(texts), dtype=bool)
    mask[[1, 8]] = True
    np.testing.assert_allclose(ours.scores(["snow"], mask), np.where(mask, ours.scores(["snow"]), 0))
    assert ours.idf("snow") > ours.idf("the") or "the" not in ours._vocab
    flat, offsets = loaded.doc_terms()  # type: ignore[misc]
    assert len(offsets) == len(texts) + 1 and offsets[-1] == len(flat)
    assert json.loads((tmp_path / "params.index.json").read_text())["k1"] == 1.5


def test_damaged_lexical_folder_is_an_error(tmp_path: Path) -> None:
    LexicalIndex.build([article_text(1), article_text(2)]).save(tmp_path)
    np.save(tmp_path / "indptr.csc.index.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        LexicalIndex.load(tmp_path, 2)
