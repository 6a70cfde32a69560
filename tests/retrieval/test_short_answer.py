"""Short answers: a verbatim span of the first quote's sentence, or none when unsure."""

from __future__ import annotations

import pytest

from retrieval.answer.entities import entities
from retrieval.answer.quotes import QuoteParams, compose_answer
from retrieval.answer.short_answer import short_answer
from retrieval.search.query import Query
from retrieval.types import Article, Hit, Quote


def quote_of(text: str, sentence: str) -> Quote:
    article = Article(id="a", text=text, language="en")
    a = text.index(sentence)
    return Quote(article, a, a + len(sentence), 1.0, (a, a + len(sentence)))


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "Who did Emmanuel Macron appoint as prime minister?",
            "Emmanuel Macron on Tuesday appointed Gabriel Attal as prime minister.",
            "Gabriel Attal",
        ),
        (
            "Which country declared an internal armed conflict?",
            "The president of Ecuador declared an internal armed conflict.",
            "Ecuador",
        ),
        ("How many countries sent officials?", "Officials from over 20 countries came.", "20"),
        ("When was the conference held?", "The conference was held on May 9 in Baku.", "May 9"),
        # the place after "in" says where; the country elsewhere in the sentence only names one
        (
            "Where was the conference held?",
            "Speaking at the conference on Tuesday in Baku, he said Azerbaijan remains committed.",
            "Baku",
        ),
    ],
)
def test_the_span_of_the_kind_asked_for_is_the_short_answer(
    question: str, sentence: str, answer: str
) -> None:
    text = f"Intro words here. {sentence} More words follow."
    quote = quote_of(text, sentence)
    short = short_answer(question, _kind(question), quote)
    assert short is not None and short.text == answer
    assert text[short.start : short.end] == short.text and short.article_id == "a"


def _kind(question: str) -> str:
    from retrieval.answer.answer_types import answer_kind

    return answer_kind(question)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # the only name is already in the question
        ("Who did Emmanuel Macron appoint?", "Emmanuel Macron spoke on Tuesday."),
        # a "why" question has no span to give
        ("Why did the talks fail?", "The talks failed over money, Smith said."),
        # three names of equal standing: too ambiguous
        ("Who won the race?", "Runners Adams, Baker, Clarke and Dunn crossed together."),
    ],
)
def test_no_short_answer_when_unsure(question: str, sentence: str) -> None:
    quote = quote_of(f"{sentence} The end.", sentence)
    assert short_answer(question, _kind(question), quote) is None


def test_compose_answer_leads_with_the_short_answer_and_never_when_declining() -> None:
    text = "Officials met in the capital. The summit was hosted by Azerbaijan and drew officials from 20 countries."
    article = Article(id="s", text=text, language="en")
    hit = Hit(article, 0, len(text), 1.0, 0.6, 1.0)
    answer = compose_answer(Query.plain("How many countries sent officials to the summit?"), [hit], k=2)
    assert answer.answered and answer.short is not None
    assert answer.short.text == "20" and text[answer.short.start : answer.short.end] == "20"
    declined = compose_answer(
        Query.plain("How many countries sent officials to the summit?"),
        [hit],
        k=2,
        params=QuoteParams(min_confidence=1.01),
    )
    assert not declined.answered and declined.short is None


def test_entities_are_verbatim_spans() -> None:
    sentence = "On Jan. 9, President Joe Biden told AT&T and the U.S. Senate that 87% of Delaware agreed."
    found = {(e.text, e.label) for e in entities(sentence)}
    assert ("Joe Biden", "person") in found
    assert ("Jan. 9", "date") in found
    assert ("87%", "number") in found
    assert ("Delaware", "state") in found
    assert all(sentence[e.start : e.end] == e.text for e in entities(sentence))
