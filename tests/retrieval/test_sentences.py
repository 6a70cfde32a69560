"""Sentence vectors: the table, its index files, its use in ranking and quoting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.render_telegram import stats_html
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder, ModelTraits, Progress
from retrieval.errors import IndexMismatchError
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import FusionParams, Retriever
from retrieval.store.sentences import FILES, SENTENCE_CHARS, SentenceTable, sentence_key, sentence_text
from retrieval.store.snapshots import current_version, load_snapshot
from retrieval.text import sentence_spans
from tests.conftest import write

DIM = 64


class SentenceEmbedder(HashingEmbedder):
    """A hashing embedder whose indexes hold sentence vectors; records what it embeds."""

    traits = ModelTraits(index_sentences=True)

    def __init__(self, dim: int = DIM) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_passages(texts, progress)


TEXTS = [
    "The bridge closed on Monday. Repairs will take three weeks.\nTraffic goes by the ring road.",
    "Voters chose a new mayor. Turnout was low.",
]


def test_build_holds_every_sentence_and_reuses_known_vectors() -> None:
    embedder = SentenceEmbedder()
    table, embedded = SentenceTable.build(TEXTS, embedder.embed_passages, DIM)
    expected = [(i, a, b) for i, text in enumerate(TEXTS) for a, b in sentence_spans(text)]
    assert [tuple(r) for r in table.spans.tolist()] == expected
    assert embedded == len(expected) == len(table) == 5
    first = table.spans[0]
    stored = table.lookup([sentence_key(sentence_text(TEXTS[0], first["start"], first["end"]))])
    np.testing.assert_allclose(
        next(iter(stored.values())), embedder.embed_passages(["The bridge closed on Monday."])[0], atol=2e-3
    )
    embedder.embedded.clear()
    edited = [TEXTS[0], "Voters chose a new mayor. Turnout was high."]
    again, embedded = SentenceTable.build(edited, embedder.embed_passages, DIM, table.lookup)
    assert embedded == 1 and embedder.embedded == ["Turnout was high."]
    assert len(again) == 5


def test_long_sentences_are_embedded_by_their_start() -> None:
    long = "word " * 200
    assert len(sentence_text(long, 0, len(long))) == SENTENCE_CHARS


def test_best_is_the_closest_sentence_overlapping_each_passage() -> None:
    embedder = SentenceEmbedder()
    table, _ = SentenceTable.build(TEXTS, embedder.embed_passages, DIM)
    question = embedder.embed_query("Repairs will take three weeks.")
    spans = sentence_spans(TEXTS[0])
    passages = np.zeros(4, table.spans.dtype)
    passages[0] = (0, 0, len(TEXTS[0]))  # the whole first article
    passages[1] = (0, spans[0][0], spans[0][1])  # its first sentence only
    passages[2] = (1, 0, len(TEXTS[1]))
    passages[3] = (5, 0, 10)  # an article with no sentences
    best = table.best(question, passages)
    cosines = table.vectors.astype(np.float32) @ question
    assert best[0] == pytest.approx(cosines[:3].max()) and best[0] == pytest.approx(1.0, abs=2e-3)
    assert best[1] == pytest.approx(cosines[0])
    assert best[2] == pytest.approx(cosines[3:].max())
    assert np.isnan(best[3])


def test_remapped_and_appended_keep_rows_in_article_order() -> None:
    embedder = SentenceEmbedder()
    table, _ = SentenceTable.build(TEXTS, embedder.embed_passages, DIM)
    dropped = table.remapped(np.array([-1, 0]))  # the first article is gone
    assert dropped.spans["article"].tolist() == [0, 0]
    single, _ = SentenceTable.build([TEXTS[0]], embedder.embed_passages, DIM)
    both = dropped.appended(single, 1)
    assert both.spans["article"].tolist() == [0, 0, 1, 1, 1]
    assert both.keys.tolist()[2:] == single.keys.tolist()


def test_save_and_load(tmp_path: Path) -> None:
    assert SentenceTable.load(tmp_path) is None
    table, _ = SentenceTable.build(TEXTS, SentenceEmbedder().embed_passages, DIM)
    table.save(tmp_path)
    loaded = SentenceTable.load(tmp_path)
    assert loaded is not None and loaded.spans.tolist() == table.spans.tolist()
    np.testing.assert_array_equal(loaded.vectors, table.vectors)
    np.save(tmp_path / FILES[1], table.keys[:2], allow_pickle=False)
    with pytest.raises(ValueError, match="disagree"):
        SentenceTable.load(tmp_path)


# --------------------------------------------------------------------------- in an index


def articles(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    write(src / "bridge.txt", TEXTS[0])
    write(src / "mayor.txt", TEXTS[1])
    return src


def test_an_index_for_such_a_model_holds_its_sentences(tmp_path: Path) -> None:
    src, embedder = articles(tmp_path), SentenceEmbedder()
    report = refresh(tmp_path / "index", [src], embedder)
    assert report.sentences_embedded == 5 and report.as_dict()["sentences_embedded"] == 5
    snap = load_snapshot(tmp_path / "index")
    assert snap.sentences is not None and len(snap.sentences) == 5
    embedder.embedded.clear()
    write(src / "mayor.txt", "Voters chose a new mayor. Turnout was high.")
    again = refresh(tmp_path / "index", [src], embedder)
    assert again.sentences_embedded == 1 and "Turnout was high." in embedder.embedded
    assert len(load_snapshot(tmp_path / "index").sentences or ()) == 5


def test_sentences_are_added_to_an_index_built_without_them(tmp_path: Path) -> None:
    src = articles(tmp_path)
    refresh(tmp_path / "index", [src], HashingEmbedder(DIM))
    assert load_snapshot(tmp_path / "index").sentences is None
    report = refresh(tmp_path / "index", [src], SentenceEmbedder())
    assert report.embedded == 0 and report.sentences_embedded == 5  # passages kept, sentences added
    assert load_snapshot(tmp_path / "index").sentences is not None


def test_damaged_sentence_files_are_reported(tmp_path: Path) -> None:
    refresh(tmp_path / "index", [articles(tmp_path)], SentenceEmbedder())
    (current_version(tmp_path / "index") / FILES[2]).write_bytes(b"not numpy")
    with pytest.raises(IndexMismatchError, match="newsbot index --full"):
        load_snapshot(tmp_path / "index")


def test_passages_rank_by_their_best_sentence_too(tmp_path: Path) -> None:
    """A passage with one sentence saying just what was asked beats one sharing more words thinly."""
    src = tmp_path / "src"
    write(src / "a.txt", "Bridge repairs in the city. The bridge repairs need money, the mayor said.")
    write(src / "b.txt", "The bridge closed for repairs on Monday.\n" + "Unrelated words " * 3)
    embedder = SentenceEmbedder()
    refresh(tmp_path / "index", [src], embedder)
    question = "When was the bridge closed for repairs on Monday?"
    vector = embedder.embed_query(question)
    plain = Retriever.open(tmp_path / "index", embedder, params=FusionParams(best_sentence_weight=0))
    by_passage = plain.search(plain.query(question, mode="dense"), k=2)
    assert [h.article.id for h in by_passage] == ["a", "b"]  # the premise: b's passage is diluted
    retriever = Retriever.open(tmp_path / "index", embedder)
    ranked = retriever.search(retriever.query(question, mode="dense"), k=2)
    assert [h.article.id for h in ranked] == ["b", "a"]
    # hits keep the passage cosine (the relevance floor reads it), not the re-ranking score
    assert {h.article.id: round(h.dense, 5) for h in ranked} == {
        h.article.id: round(h.dense, 5) for h in by_passage
    }
    assert ranked[0].dense == pytest.approx(
        float(embedder.embed_passages([ranked[0].text])[0] @ vector), abs=1e-5
    )


def test_quotes_read_sentence_vectors_from_the_index(tmp_path: Path) -> None:
    embedder = SentenceEmbedder()
    # weigh sentences within a language, as the multilingual model
    embedder.traits = ModelTraits(index_sentences=True, sentence_cosine_weight=0.3)
    refresh(tmp_path / "index", [articles(tmp_path)], embedder)
    archive = Archive.open(tmp_path / "index", embedder)
    assert archive.quote_params.dense_sentences == 20 and archive.quote_params.dense_passage == 1.0
    assert archive.stats().sentences == 5
    assert "<b>Passages:</b> 2 (5 sentence vectors)" in stats_html(archive.stats())
    embedder.embedded.clear()
    answer = archive.ask("How long will the bridge repairs take?", k=2)
    assert answer.quotes and "three weeks" in answer.quotes[0].text
    assert embedder.embedded == []  # nothing embedded while the user waits but the question
    assert len(archive.sentences) >= 2
