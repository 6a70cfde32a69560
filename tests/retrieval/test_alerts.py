"""Topic matching (retrieval.live.alerts) with the fake embedder: who alerts, with which quote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.live.alerts import (
    AlertParams,
    Match,
    TopicMatcher,
    TopicVectors,
    article_passages,
    group_stories,
)
from retrieval.store import passage_key
from tests.conftest import write

ARTICLES = {
    "serena.md": (
        "---\ntitle: Serena returns\nsource: Sports Daily\npublished: 2024-03-01\n---\n"
        "The weather in the city was mild on Monday and the markets were calm. "
        "Serena Williams announced her comeback to professional tennis at the Miami Open. "
        "Her coach said she had trained every day since the winter."
    ),
    "serena_copy.md": (
        "---\ntitle: Serena Williams is back\nsource: Wire Service\npublished: 2024-03-01\n---\n"
        "Serena Williams announced her comeback to professional tennis at the Miami Open, "
        "her agent confirmed on Monday."
    ),
    "fed.md": (
        "---\ntitle: Fed holds\nsource: Money Times\npublished: 2024-03-02\n---\n"
        "The Federal Reserve kept interest rates unchanged on Wednesday. "
        "Officials signalled two cuts later in the year."
    ),
    "harbour.md": (
        "---\ntitle: Harbour reopens\nsource: Coastal Gazette\npublished: 2024-03-03\n---\n"
        "The harbour in Port Marlow reopened on Friday after the storm damaged two piers."
    ),
}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    src = tmp_path / "src"
    for name, text in ARTICLES.items():
        write(src / name, text)
    refresh(tmp_path / "index", [src], HashingEmbedder(256))
    return Archive.open(tmp_path / "index", HashingEmbedder(256))


def ids(archive: Archive) -> dict[str, str]:
    return {Path(a.path).name: a.id for a in archive.articles()}


def test_a_matching_article_alerts_with_the_sentence_about_the_topic(archive: Archive) -> None:
    by_name = ids(archive)
    found = TopicMatcher().match(
        archive, ["Serena Williams comeback"], [by_name["serena.md"], by_name["fed.md"]]
    )
    assert [m.article.id for m in found] == [by_name["serena.md"]]
    match = found[0]
    assert match.topic == "Serena Williams comeback"
    assert "announced her comeback" in match.quote.text
    focus = match.article.text[match.quote.focus[0] : match.quote.focus[1]]
    assert focus.startswith("Serena Williams announced her comeback")
    bold = {match.quote.article.text[a:b].lower() for a, b in match.quote.matches}
    assert {"serena", "williams", "comeback"} <= bold
    assert match.quote.text == match.article.text[match.quote.start : match.quote.end]
    assert match.coverage == pytest.approx(1.0)


def test_an_unrelated_article_sends_nothing(archive: Archive) -> None:
    by_name = ids(archive)
    matcher = TopicMatcher()
    assert matcher.match(archive, ["Serena Williams comeback"], [by_name["harbour.md"]]) == []
    assert matcher.match(archive, ["Baku climate conference"], list(by_name.values())) == []


def test_each_topic_is_matched_on_its_own(archive: Archive) -> None:
    by_name = ids(archive)
    found = TopicMatcher().match(
        archive,
        ["Federal Reserve interest rates", "Serena Williams comeback", "Baku conference"],
        list(by_name.values()),
    )
    pairs = {(m.topic, Path(m.article.path).name) for m in found}
    assert pairs == {
        ("Federal Reserve interest rates", "fed.md"),
        ("Serena Williams comeback", "serena.md"),
        ("Serena Williams comeback", "serena_copy.md"),
    }


def test_the_threshold_decides(archive: Archive) -> None:
    by_name = ids(archive)
    strict = TopicMatcher(AlertParams(threshold=1.01))
    assert strict.match(archive, ["Serena Williams comeback"], [by_name["serena.md"]]) == []
    # half the topic's weight found: alerts only at a low threshold
    partial = ["Serena Williams Baku Lenby"]
    assert TopicMatcher().match(archive, partial, [by_name["serena.md"]]) == []
    loose = TopicMatcher(AlertParams(threshold=0.2)).match(archive, partial, [by_name["serena.md"]])
    assert len(loose) == 1 and 0.2 <= loose[0].coverage < 0.8


def test_passage_vectors_come_from_the_store_not_the_model(archive: Archive) -> None:
    class Counting(HashingEmbedder):
        passages = 0

        def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
            Counting.passages += len(texts)
            return super().embed_passages(texts, progress)

    counted = Archive(type(archive.retriever)(archive.store, Counting(256)))
    passages = article_passages(counted, [a.id for a in counted.articles()])
    assert Counting.passages == 0 and len(passages.spans) >= 4
    keys = [
        passage_key(a.text[s:e])
        for a, (s, e) in zip([passages.articles[i] for i in passages.owner], passages.spans, strict=True)
    ]
    stored = archive.store.known_vectors(keys)
    assert np.allclose(passages.vectors, np.array([stored[k] for k in keys]))


def test_topic_vectors_are_embedded_once(archive: Archive) -> None:
    calls: list[int] = []
    embedder = archive.embedder
    original = embedder.embed

    def counting(texts, progress=None):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return original(texts, progress)

    embedder.embed = counting  # type: ignore[method-assign]
    cache = TopicVectors()
    matcher = TopicMatcher(cache=cache)
    topics = ["Serena Williams comeback", "Federal Reserve interest rates"]
    all_ids = [a.id for a in archive.articles()]
    matcher.match(archive, topics, all_ids)
    matcher.match(archive, topics, all_ids)
    assert calls == [2]


def test_copies_of_one_story_alert_once(archive: Archive) -> None:
    by_name = ids(archive)
    found = TopicMatcher().match(archive, ["Serena Williams comeback"], list(by_name.values()))
    assert len(found) == 2
    assert len(group_stories(found)) == 2  # default: every article is its own story
    stories = group_stories(
        found,
        story_key=lambda article_id: (
            "serena" if article_id in {by_name["serena.md"], by_name["serena_copy.md"]} else article_id
        ),
    )
    assert len(stories) == 1
    best, others = stories[0].match, stories[0].others
    assert {best.article.id, *(a.id for a in others)} == {by_name["serena.md"], by_name["serena_copy.md"]}
    assert best.score >= max(m.score for m in found if m is not best)


def test_empty_inputs(archive: Archive) -> None:
    matcher = TopicMatcher()
    assert matcher.match(archive, [], [a.id for a in archive.articles()]) == []
    assert matcher.match(archive, ["Serena"], []) == []
    assert matcher.match(archive, ["Serena"], ["no-such-article"]) == []
    assert all(
        isinstance(m, Match)
        for m in matcher.match(
            archive, ["   ", "Serena Williams comeback"], [a.id for a in archive.articles()]
        )
    )


def test_syndicated_copies_in_the_archive_alert_once_naming_the_other_outlets(tmp_path: Path) -> None:
    """The store's stories (near-duplicate copies) decide what one alert is."""
    from retrieval.live.alerts import AlertParams, story_key_of

    wire = (
        "The city council of Port Marlow voted on Tuesday to rebuild the old harbour pier after the "
        "winter storms, the mayor said. Work on the pier is to start in the spring and finish before "
        "the summer ferry season, and the council set aside four million dollars for it. Fishermen "
        "welcomed the vote but asked for a temporary landing stage during the works."
    )
    src = tmp_path / "src"
    for outlet in ("Coastal Gazette", "Harbour Post", "Valley News"):
        write(src / f"{outlet.split()[0].lower()}.md", f"---\nsource: {outlet}\n---\n{outlet}: {wire}")
    write(src / "fed.md", "---\nsource: Money Times\n---\nThe Federal Reserve kept interest rates unchanged.")
    refresh(tmp_path / "index", [src], HashingEmbedder(256))
    archive = Archive.open(tmp_path / "index", HashingEmbedder(256))
    matcher = TopicMatcher(AlertParams(threshold=0.3))  # the fake embedder scores lower
    found = matcher.match(archive, ["Port Marlow harbour pier vote"], [a.id for a in archive.articles()])
    assert len(found) == 3  # every copy matches
    (story,) = group_stories(found, story_key_of(archive))
    outlets = {story.match.article.source, *(a.source for a in story.others)}
    assert outlets == {"Coastal Gazette", "Harbour Post", "Valley News"}
