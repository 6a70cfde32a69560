"""Questions that are not quite questions: a sensible answer or an honest decline, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.types import Answer


@pytest.fixture
def archive(seed_index: Path) -> Archive:
    return Archive.open(seed_index, HashingEmbedder(256))


def well_formed(answer: Answer) -> None:
    for q in answer.quotes:
        assert q.article.text[q.start : q.end] == q.text
    if answer.short is not None:
        assert answer.answered
        article = next(q.article for q in answer.quotes if q.article.id == answer.short.article_id)
        assert article.text[answer.short.start : answer.short.end] == answer.short.text
    if not answer.answered:
        assert answer.notice and answer.short is None and len(answer.quotes) <= 2 and not answer.more


@pytest.mark.parametrize(
    "question",
    [
        "Taylor Swift",  # only a name
        "Naghiyev",  # only a name the archive knows
        "2024-05-03",  # only a date
        "May 9",
        "Did the Fed raise rates?",  # yes/no, about something absent
        "Did Taliban representatives attend?",  # yes/no, about the seed
        "Why did Baku cancel the Afghanistan conference?",  # a false premise
        "???",
        "the of and",
    ],
)
def test_odd_questions_get_an_answer_or_an_honest_decline(archive: Archive, question: str) -> None:
    well_formed(archive.ask(question, k=3))


def test_a_bare_date_or_a_yes_no_question_gets_no_short_answer(archive: Archive) -> None:
    """Neither asks for a span of a kind: a name, number or date given back would be a guess."""
    for question in ("2024-05-03", "Did Taliban representatives attend?", "Taylor Swift"):
        assert archive.ask(question, k=3).short is None
