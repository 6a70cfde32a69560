"""The quote composer: neighbouring extracts merged (within bounds), context towards the answer."""

from __future__ import annotations

from itertools import pairwise

from retrieval.answer.quotes import QuoteParams, compose_answer
from retrieval.search.query import Query
from retrieval.types import Article, Hit

TEXT = "The dam broke on Monday. Water flooded the valley. Crews closed the road. Rain fell."
QUESTION = "When did the dam break and flood the valley?"


def spans(merged_words: int) -> list[tuple[int, int]]:
    article = Article(id="d", text=TEXT, language="en")
    answer = compose_answer(
        Query.plain(QUESTION),
        [Hit(article, 0, len(TEXT), 1.0, 0.6, 1.0)],
        k=3,
        params=QuoteParams(context_words=1, max_sentences=1, merged_words=merged_words),
    )
    return sorted((q.start, q.end) for q in (*answer.quotes, *answer.more))


def test_neighbouring_quotes_of_one_article_are_merged() -> None:
    """One-sentence quotes of neighbouring sentences read as one extract, shown once."""
    assert spans(110) == [(0, len(TEXT))]


def test_a_merged_quote_stays_short() -> None:
    """Past ``merged_words`` neighbours stay apart (never overlapping): quotes stay quotes."""
    found = spans(5)
    assert len(found) == 4
    assert all(b <= c for (_, b), (c, _) in pairwise(found))


def test_context_grows_towards_the_sentence_with_the_kind_asked_for() -> None:
    """The focus repeats the question's words; the date is in the previous sentence."""
    text = "It happened on 9 May. The summit of regional leaders opened in the capital. Talks went on."
    article = Article(id="s", text=text, language="en")
    answer = compose_answer(
        Query.plain("When did the summit of regional leaders open in the capital?"),
        [Hit(article, 0, len(text), 1.0, 0.6, 1.0)],
        k=1,
        params=QuoteParams(context_words=10, max_sentences=2, merged_words=0),
    )
    assert "9 May" in answer.quotes[0].text


def test_each_article_is_quoted_once_before_any_is_quoted_twice() -> None:
    """Two good extracts of the best article, one of a weaker one: the weaker article's
    quote comes second (more sources in the first k), the second extract after it."""
    filler = " ".join(f"Filler sentence number {n} says nothing." for n in range(12))
    a_text = f"The dam broke on Monday near the valley. {filler} The dam broke and flooded the valley."
    b_text = "Officials said the dam broke on Monday. Nothing else."
    a = Article(id="a", text=a_text, language="en")
    b = Article(id="b", text=b_text, language="en")
    hits = [Hit(a, 0, len(a_text), 1.0, 0.6, 1.0), Hit(b, 0, len(b_text), 0.5, 0.5, 0.5)]

    def order(per_article: int) -> list[str]:
        params = QuoteParams(context_words=1, max_sentences=1, merged_words=0, per_article=per_article)
        answer = compose_answer(Query.plain(QUESTION), hits, k=3, params=params)
        return [q.article.id for q in answer.quotes]

    assert order(0)[:2] == ["a", "a"]  # score order: the premise
    assert order(1)[:3] == ["a", "b", "a"]
