"""Time-aware answers with the fake embedder: the as-of date, named windows, recency, notices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.types import AsOf
from tests.conftest import write

VOTES = {
    "vote-2023.md": (
        "2023-05-10",
        "Harbour council vote: the council voted to rebuild the old pier, Mayor Lind said.",
    ),
    "vote-2024.md": (
        "2024-05-08",
        "Harbour council vote: the council voted to close the old pier, Mayor Berg said.",
    ),
    "vote-undated.md": ("", "Harbour council vote: the council voted to sell the old pier, the clerk said."),
    "storm.md": ("2024-01-15", "A winter storm closed the northern roads and the schools for two days."),
}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    for name, (published, text) in VOTES.items():
        head = f"---\ntitle: {name}\nsource: Harbour Post\npublished: {published}\n---\n" if published else ""
        write(tmp_path / "src" / name, head + text)
    refresh(tmp_path / "index", [tmp_path / "src"], HashingEmbedder(256))
    return Archive.open(tmp_path / "index", HashingEmbedder(256))


def ids(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [q.article.id for q in answer.quotes]


def test_an_explicit_as_of_date_never_quotes_later_articles(archive: Archive) -> None:
    question = "What did the harbour council vote on the old pier?"
    assert "vote-2024" in ids(archive.ask(question, k=5))
    then = archive.ask(question, k=5, as_of=AsOf(date(2023, 6, 1), given=True))
    assert then.quotes and "vote-2024" not in ids(then)
    assert "vote-undated" in ids(then)  # not known to be later


def test_a_named_past_window_prefers_its_articles(archive: Archive) -> None:
    answer = archive.ask(
        "What did the harbour council vote on the pier in May 2023?", as_of=AsOf(date(2024, 6, 1))
    )
    assert ids(answer)[0] == "vote-2023"
    later = archive.ask(
        "What did the harbour council vote on the pier in May 2024?", as_of=AsOf(date(2024, 6, 1))
    )
    assert ids(later)[0] == "vote-2024"


def test_a_question_about_the_present_gets_the_newest_first(archive: Archive) -> None:
    answer = archive.ask(
        "What is the latest harbour council vote on the old pier?", as_of=AsOf(date(2024, 6, 1))
    )
    assert ids(answer)[0] == "vote-2024"


def test_time_words_are_not_search_terms(archive: Archive) -> None:
    query = archive.retriever.query("What did the council vote last week?", as_of=AsOf(date(2024, 5, 15)))
    assert "week" not in query.terms and "vote" in query.terms
    assert query.time is not None and query.time.reading.window is not None
    assert query.text == "What did the council vote last week?"  # shown as asked


def test_a_window_the_question_insists_on_filters(archive: Archive) -> None:
    answer = archive.ask("What did the harbour council vote, only in 2023?", as_of=AsOf(date(2024, 6, 1)))
    assert ids(answer) == ["vote-2023"]
    nothing = archive.ask("What happened only in 1850?", as_of=AsOf(date(2024, 6, 1)))
    assert (
        nothing.quotes == ()
        and not nothing.answered
        and nothing.notice == "No article from 1850 in the archive."
    )


def test_contradictions_and_impossible_times_are_said_plainly(archive: Archive) -> None:
    odd = archive.ask("What did the council vote last week in 2019?", as_of=AsOf(date(2024, 6, 1)))
    assert "do not overlap" in odd.notice and "without a time limit" in odd.notice
    future = archive.ask("Who won, only next month?", as_of=AsOf(date(2024, 6, 1), given=True))
    assert future.quotes == () and future.notice.startswith("Nothing published by 1 June 2024 can be from")


def test_the_newest_article_is_named_when_it_is_much_older_than_asked(archive: Archive) -> None:
    answer = archive.ask("What closed the northern roads this week?", as_of=AsOf(date(2024, 6, 1)))
    assert answer.quotes[0].article.id == "storm"
    assert "The newest article on this is from 15 January 2024." in answer.notice
    recent = archive.ask("What closed the northern roads this week?", as_of=AsOf(date(2024, 1, 18)))
    assert "newest article" not in recent.notice


def test_latest_gives_one_quote_per_article_newest_first(archive: Archive) -> None:
    answer = archive.latest("harbour council vote old pier", k=3, as_of=AsOf(date(2024, 6, 1)))
    got = ids(answer)
    assert got[:2] == ["vote-2024", "vote-2023"] and len(got) == len(set(got))
