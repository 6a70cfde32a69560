"""The reader contract, run on every reader; the learned reader's model file and fallbacks."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.quotes import candidates_of, compose_answer
from retrieval.answer.readers import READERS, Reader, open_reader
from retrieval.answer.readers.encoding import PairEncoder, best_span
from retrieval.answer.readers.fusion import FEATURES, Fusion
from retrieval.answer.readers.learned import SHIPPED, LearnedReader
from retrieval.search.query import Query
from retrieval.types import Article, Hit

TEXT = (
    "Security chiefs from over 20 countries met on Tuesday. The conference was hosted by "
    "Azerbaijan's national intelligence agency in Baku. Officials discussed drug trafficking. "
    "The weather was mild and the streets were quiet."
)
QUESTION = "Where was the security conference held?"


def hits() -> list[Hit]:
    article = Article(id="a", text=TEXT, title="Security chiefs meet in Baku", language="en")
    return [Hit(article, 0, len(TEXT), 1.0, 0.6, 1.0)]


def candidates(question: str = QUESTION):  # type: ignore[no-untyped-def]
    query = Query.plain(question)
    return query, candidates_of(query, hits())


@pytest.fixture(params=READERS)
def reader(request: pytest.FixtureRequest) -> Reader:
    return open_reader(request.param)


def test_a_reader_scores_every_candidate_once(reader: Reader) -> None:
    query, found = candidates()
    assert reader.reads(query)
    reading = reader.read(query, found)
    assert len(reading.scores) == len(found) == 4
    assert all(np.isfinite(reading.scores))
    assert reading.confidence is None or 0.0 <= reading.confidence <= 1.0
    assert not reading.spans or len(reading.spans) == len(found)


def test_quotes_and_short_answers_are_exact_substrings(reader: Reader) -> None:
    for question in (QUESTION, "How many countries met?", "Who hosted the conference?"):
        answer = compose_answer(Query.plain(question), hits(), k=3, reader=reader)
        for quote in (*answer.quotes, *answer.more):
            assert quote.article.text[quote.start : quote.end] == quote.text
        if answer.short is not None:
            assert TEXT[answer.short.start : answer.short.end] == answer.short.text


def test_an_unknown_reader_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown reader 'neural'.*learned or rules"):
        open_reader("neural")


def test_the_learned_reader_answers_english_only() -> None:
    reader = open_reader("learned")
    assert not reader.reads(Query.plain("Wo fand die Konferenz statt?", language="de"))


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "reader"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.mark.parametrize("damage", ["missing", "corrupt", "settings"])
def test_a_missing_or_damaged_model_says_so_once_and_the_rules_answer(tmp_path: Path, damage: str) -> None:
    folder = _copy_model(tmp_path)
    if damage == "missing":
        (folder / "model.onnx").unlink()
    elif damage == "corrupt":
        with open(folder / "model.onnx", "r+b") as fh:
            fh.seek(1000)
            fh.write(b"\0" * 64)
    else:
        (folder / "reader.json").write_text("{", encoding="utf-8")
    said: list[str] = []
    reader = LearnedReader(folder, on_unavailable=said.append)
    rules = compose_answer(Query.plain(QUESTION), hits(), k=2)
    for _ in range(2):
        answer = compose_answer(Query.plain(QUESTION), hits(), k=2, reader=reader)
        assert answer.quotes == rules.quotes and answer.confidence == rules.confidence
    assert len(said) == 1
    expected = {"missing": "is missing", "corrupt": "is damaged", "settings": "cannot be read"}[damage]
    assert expected in said[0] and "rule-based reader" in said[0]


def test_the_shipped_model_is_the_one_its_card_names() -> None:
    data = (SHIPPED / "model.onnx").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert json.loads((SHIPPED / "reader.json").read_text())["sha256"] == digest
    assert digest in (SHIPPED / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert len(data) < 25 * 2**20


def test_pairs_keep_the_sentence_offsets() -> None:
    encoder = PairEncoder(SHIPPED / "tokenizer.json")
    sentence = "The conference was hosted by Azerbaijan's agency in Baku."
    batch = encoder.encode("Where was it held? " * 20, [("A long title " * 10, sentence), ("", "Short.")])
    assert batch.input_ids.shape[1] <= encoder.params.max_length
    pieces = [sentence[a:b] for a, b in batch.offsets[0] if a >= 0]
    assert "".join(pieces) == sentence.replace(" ", "")
    start = np.full(batch.input_ids.shape[1], -5.0)
    end = np.full(batch.input_ids.shape[1], -5.0)
    baku = next(i for i, (a, _) in enumerate(batch.offsets[0]) if sentence[a:].startswith("Baku"))
    start[baku] = end[baku] = 5.0
    found = best_span(start, end, batch.offsets[0])
    assert found is not None and sentence[found[0] : found[1]] == "Baku"


def test_the_fusion_learns_which_cue_tells_answers_apart() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, len(FEATURES)))
    labels = (rows[:, 0] + 0.1 * rng.normal(size=400) > 0).astype(float)
    fusion = Fusion.fit(rows, labels)
    assert abs(fusion.weights[0]) > 5 * max(abs(w) for w in fusion.weights[1:])
    probs = fusion.probability(rows)
    assert ((probs > 0.5) == labels.astype(bool)).mean() > 0.9
    assert Fusion.from_dict(fusion.as_dict()) == fusion


def test_the_ranking_fusion_puts_each_questions_answer_first() -> None:
    """Per question one answer among 8: it has a higher reader logit, while the rule cue
    is noise shared by the whole question (a pointwise fit cannot tell it apart)."""
    from retrieval.answer.readers.fusion import Calibration

    rng = np.random.default_rng(1)
    groups, labels = [], []
    for _ in range(60):
        rows = rng.normal(size=(8, len(FEATURES)))
        rows[:, 1] += rng.normal() * 5  # a per-question offset on one cue
        y = np.zeros(8)
        y[0] = 1
        rows[0, 0] += 3.0
        rows[0, 2] += 1.5  # a weaker cue that helps too
        groups.append(rows)
        labels.append(y)
    fusion = Fusion.fit_ranking(groups, labels)
    firsts = [int(np.argmax(fusion.score(g))) == 0 for g in groups]
    assert np.mean(firsts) > 0.8
    assert fusion.weights[0] > 3 * abs(fusion.weights[1])
    assert fusion.weights[2] > 0.25 * fusion.weights[0]  # learned, not the reader alone
    best = np.array([fusion.score(g).max() for g in groups] + [-5.0] * 60)
    has = np.array([1.0] * 60 + [0.0] * 60)
    calibration = Calibration.fit(best, has)
    assert calibration.probability(float(best[0])) > 0.9 > 0.1 > calibration.probability(-5.0)
