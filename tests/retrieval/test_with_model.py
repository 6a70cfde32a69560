"""End to end with the real packaged model (all-MiniLM-L6-v2) on the seed article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.archive import Archive
from retrieval.embedding import Embedder
from tests.conftest import SEEDS, run_cli

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def archive(real_seed_index: Path, real_embedder: Embedder) -> Archive:
    return Archive.open(real_seed_index, real_embedder)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("In which city was the conference held?", "in Baku"),
        ("Where was the Afghanistan conference held?", "in Baku"),
        ("When was the conference held?", "May 9"),
        ("What did Naghiyev say about drug trafficking?", "drug trafficking"),
        ("How many countries sent officials to the conference?", "over 20 countries"),
        ("Who hosted the conference?", "national intelligence agency"),
        ("Did Taliban representatives attend?", "attendance of Taliban representatives"),
    ],
)
def test_first_quote_holds_the_answer(archive: Archive, question: str, expected: str) -> None:
    answer = archive.ask(question, k=3)
    assert answer.answered
    first = answer.quotes[0]
    assert expected in first.text
    assert first.article.source == "RASC News Agency"
    assert first.article.text[first.start : first.end] == first.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param(
            "Who organized the conference?",
            "hosted by Azerbaijan’s national intelligence agency",
            marks=pytest.mark.xfail(
                strict=True,
                reason="'organized' matches 'transnational organized crime' (rare in the seed) while "
                "'conference' is everywhere; the answer-kind cues ('by <agent>') do not outweigh it",
            ),
        ),
        ("Who hosted the conference?", "hosted by Azerbaijan’s national intelligence agency"),
        ("When was the conference?", "on Tuesday, May 9"),
        ("How many countries took part?", "from over 20 countries"),
    ],
)
def test_the_answering_sentence_comes_first(archive: Archive, question: str, expected: str) -> None:
    """The first quote's focus sentence is the one that answers, not one that repeats the
    question's words ("transnational organized crime")."""
    first = archive.ask(question, k=3).quotes[0]
    assert expected in first.article.text[first.focus[0] : first.focus[1]]


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("When was the conference?", "Tuesday, May 9"),
        ("How many countries sent officials to the conference?", "over 20"),
        ("Who hosted the conference?", "Azerbaijan’s national intelligence agency"),
        ("Where was the Afghanistan conference held?", "Baku"),
    ],
)
def test_a_short_answer_leads_when_the_sentence_clearly_holds_one(
    archive: Archive, question: str, short: str
) -> None:
    answer = archive.ask(question, k=3)
    assert answer.short is not None and answer.short.text in short
    article = answer.quotes[0].article
    assert article.text[answer.short.start : answer.short.end] == answer.short.text


def test_a_false_premise_gets_no_short_answer(archive: Archive) -> None:
    """Nothing in the seed says the conference was cancelled: no span is offered as the reason."""
    answer = archive.ask("Why did Baku cancel the Afghanistan conference?", k=3)
    assert answer.short is None
    assert all(q.article.text[q.start : q.end] == q.text for q in answer.quotes)


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2022 FIFA World Cup final?",
        "What is the recipe for banana bread?",
        "How tall is the Eiffel Tower?",
    ],
)
def test_questions_about_absent_things_are_not_answered(archive: Archive, question: str) -> None:
    answer = archive.ask(question, k=3)
    assert not answer.answered
    assert answer.quotes, "the nearest passages are still offered, as low-confidence"


def test_cli_end_to_end_with_the_packaged_model(
    tmp_path: Path, onnx_embedder: Embedder, onnx_cache: Path
) -> None:
    """`newsbot index` then `newsbot ask --json` in fresh processes, as a user runs them
    (default backend: ONNX, from the session's already exported model)."""
    idx = str(tmp_path / "index")
    built = run_cli("index", "-a", str(SEEDS), "--index", idx, "--json", cache=onnx_cache)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["model"] == "all-MiniLM-L6-v2" and report["passages"] > 0
    asked = run_cli(
        "ask", "In which city was the conference held?", "--index", idx, "--json", "-k", "1", cache=onnx_cache
    )
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["answered"] and "Baku" in data["quotes"][0]["text"]
    assert data["quotes"][0]["source"] == "RASC News Agency"


@pytest.mark.parametrize(
    "question",
    ["أين عقد المؤتمر الدولي حول أفغانستان؟", "Где прошла международная конференция по Афганистану?"],
)
def test_a_question_in_a_language_the_model_cannot_read_says_so(archive: Archive, question: str) -> None:
    answer = archive.ask(question, k=3)
    assert not answer.answered  # the English article's cosine to it means little
    assert "reads en only" in answer.notice and "--model multilingual" in answer.notice
