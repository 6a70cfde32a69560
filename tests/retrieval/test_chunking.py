"""Sentence splitting and passages: offsets are exact, sentences stay whole."""

from __future__ import annotations

import itertools

import pytest

from retrieval.ingest.chunking import ChunkingParams, chunk_text
from retrieval.text import sentence_spans, terms, word_count
from tests.conftest import SEEDS

SEED = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").strip()


def test_sentences_of_the_seed() -> None:
    spans = sentence_spans(SEED)
    sentences = [SEED[a:b] for a, b in spans]
    assert sentences[1].startswith("Speaking at the international conference titled")
    assert sentences[1].endswith("extremist elements.")
    # The quoted speech stays together with its closing quote mark.
    assert (
        "“The world must not turn a blind eye to the persistent dangers emanating from Afghanistan,” Naghiyev stated."
        in sentences
    )


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Mr. Smith went to Washington. He arrived on Jan. 5 at noon. Then he left.", 3),
        ("The U.S. economy grew. Prices rose.", 2),
        ("J. R. R. Tolkien wrote books. They sold well.", 2),
        ("Is it true? Yes! It is.", 3),
        ("Line one without stop\nLine two.", 2),
        ("北京今天下雨。明天会晴天！", 2),
    ],
)
def test_sentence_boundaries(text: str, count: int) -> None:
    assert len(sentence_spans(text)) == count


def test_passages_are_exact_substrings_with_overlap() -> None:
    params = ChunkingParams(max_words=60, overlap_sentences=1)
    passages = chunk_text("seed", SEED, params)
    assert len(passages) > 3
    for p in passages:
        assert p.text == SEED[p.start : p.end]
        assert p.article_id == "seed"
    sentence_texts = {SEED[a:b] for a, b in sentence_spans(SEED)}
    for prev, nxt in itertools.pairwise(passages):
        assert nxt.start > prev.start
        if len(sentence_spans(SEED, prev.start, prev.end)) > 1:
            assert nxt.start < prev.end  # the last sentence is shared
        else:
            assert nxt.start <= prev.end + 2
    # Every passage starts on a sentence start: no sentence is cut.
    starts = {a for a, _ in sentence_spans(SEED)}
    assert all(p.start in starts for p in passages)
    assert all(word_count(p.text) <= 60 or p.text in sentence_texts for p in passages)


def test_every_sentence_is_covered() -> None:
    passages = chunk_text("seed", SEED, ChunkingParams(max_words=30, overlap_sentences=0))
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    for a, b in sentence_spans(SEED):
        words = [SEED[x] for x in range(a, b) if not SEED[x].isspace()]
        assert len(words) == sum(1 for x in range(a, b) if x in covered and not SEED[x].isspace())


def test_a_sentence_longer_than_the_limit_is_cut_at_words() -> None:
    text = " ".join(f"word{i}" for i in range(50)) + "."
    passages = chunk_text("long", text, ChunkingParams(max_words=20, overlap_sentences=0))
    assert [word_count(p.text) for p in passages] == [20, 20, 10]
    assert passages[0].start == 0 and passages[-1].end == len(text)
    assert all(p.text == text[p.start : p.end] for p in passages)


def test_invalid_params() -> None:
    with pytest.raises(ValueError):
        ChunkingParams(max_words=2)
    with pytest.raises(ValueError):
        ChunkingParams(overlap_sentences=9)


def test_terms_stem_drop_stopwords_and_split_cjk() -> None:
    assert terms("The conferences were held in Baku") == ["confer", "held", "baku"]
    assert terms("北京下雨") == ["北", "京", "下", "雨", "北京", "京下", "下雨"]
    assert terms("Москва и Киев") == ["москва", "и", "киев"]
    assert "नमस्ते" in terms("नमस्ते दुनिया")
