"""One quote per story: later copies of a quoted story dropped, the other outlets listed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from retrieval.answer.stories import copies, one_copy_per_story
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.store import Story
from retrieval.types import Answer, Article, Copy, Quote
from tests.retrieval.test_store_contract import BRIDGES, COPIES, DIM, wire_archive


def art(article_id: str, source: str = "", url: str = "", published: str = "", text: str = "") -> Article:
    return Article(
        id=article_id, text=text or f"Text of {article_id}.", source=source, url=url, published=published
    )


def quote(a: Article, score: float = 0.5) -> Quote:
    return Quote(a, 0, len(a.text), score=score, focus=(0, len(a.text)))


class Lookup:
    """A fake :meth:`VectorStore.stories` over fixed stories, counting its calls."""

    def __init__(self, *stories: Story) -> None:
        self.by_article = {m.id: s for s in stories for m in s.members}
        self.calls: list[list[str]] = []

    def __call__(self, article_ids: Sequence[str]) -> dict[str, Story]:
        self.calls.append(list(article_ids))
        return {i: self.by_article[i] for i in article_ids if i in self.by_article}


AP, REUTERS, NPR = art("ap", "AP"), art("reuters", "Reuters"), art("npr", "NPR")
OTHER, LAST = art("other", "Gazette"), art("last", "Herald")
WIRE_STORY = Story("ap", (AP, REUTERS, NPR))


def test_later_copies_are_dropped_and_the_answer_filled_from_further_quotes() -> None:
    second_ap = Quote(AP, 0, 4, score=0.4, focus=(0, 4))
    answer = Answer(
        "q",
        (quote(REUTERS, 0.9), quote(AP, 0.8), second_ap, quote(OTHER, 0.3)),
        answered=True,
        more=(quote(NPR, 0.2), quote(LAST, 0.1)),
    )
    lookup = Lookup(WIRE_STORY)
    out = one_copy_per_story(answer, lookup)
    assert lookup.calls == [["reuters", "ap", "other", "npr", "last"]]  # one look-up per answer
    assert [(q.article.id, q.score) for q in out.quotes] == [("reuters", 0.9), ("other", 0.3), ("last", 0.1)]
    assert out.more == ()
    assert [c.article_id for c in out.quotes[0].also] == ["ap", "npr"]
    assert out.quotes[1].also == () == out.quotes[2].also


def test_several_quotes_of_the_quoted_copy_all_stay() -> None:
    first, second = quote(AP, 0.9), Quote(AP, 0, 4, score=0.4, focus=(0, 4))
    out = one_copy_per_story(Answer("q", (first, quote(NPR, 0.5), second), answered=True), Lookup(WIRE_STORY))
    assert [(q.article.id, q.start) for q in out.quotes] == [("ap", 0), ("ap", 0)]
    assert out.quotes[0].also == out.quotes[1].also and len(out.quotes[1].also) == 2


def test_an_answer_without_stories_is_left_alone() -> None:
    answer = Answer("q", (quote(AP), quote(OTHER)), answered=True)
    assert one_copy_per_story(answer, Lookup()) is answer
    empty = Answer("q", (), answered=False, notice="nothing")
    lookup = Lookup(WIRE_STORY)
    assert one_copy_per_story(empty, lookup) is empty and lookup.calls == []


def test_copies_one_per_outlet_named_outlets_first() -> None:
    members = (
        art("ap-1", "AP", "https://apnews.com/1", "2024-03-07"),
        art("ap-2", "AP ", "https://apnews.com/2", "2024-03-08"),  # the quoted outlet's own update
        art("ap-3", "ap", "https://apnews.com/3", "2024-03-09"),
        art("reuters-late", "Reuters", "https://reuters.com/late", "2024-03-09"),
        art("reuters-early", "reuters", "https://reuters.com/early", "2024-03-07"),
        art("blog", "", "https://www.someblog.example/post", "2024-03-08"),
        art("file", "", "", "2024-03-08"),
        art("bbc", "BBC", "", ""),
    )
    got = copies(members[0], members)
    assert [c.article_id for c in got] == ["ap-2", "bbc", "reuters-early", "blog", "file"]
    assert [c.outlet for c in got] == ["AP", "BBC", "reuters", "someblog.example", ""]
    assert got[2] == Copy("reuters-early", "reuters", "", "https://reuters.com/early", "2024-03-07")
    assert copies(members[0], members[:1]) == ()
    two_unknown = (art("x"), art("y", published="2024-01-01"), art("z"))
    assert [c.article_id for c in copies(two_unknown[0], two_unknown)] == ["y", "z"]


def test_a_copy_outlet_is_its_source_or_its_web_host() -> None:
    assert Copy("a", " AP ").outlet == "AP"
    assert Copy("a", url="https://www.npr.org/x").outlet == "npr.org"
    assert Copy("a", url="file:///tmp/x").outlet == "" == Copy("a", url="http://[::1").outlet


@pytest.mark.postgresql
def test_stories_survive_the_upgrade_from_schema_version_1(pg_url: str, tmp_path: Path) -> None:
    """A version-1 database has no story or signature columns: the upgrade adds them and
    the next refresh fills them, without embedding anything."""
    import psycopg

    from retrieval.store.pg import PgStore
    from retrieval.store.pg_schema import SCHEMA
    from tests.retrieval.test_store_contract import CountingEmbedder

    src = wire_archive(tmp_path / "src", "ap", "reuters", "npr")
    refresh(PgStore(pg_url), [src], HashingEmbedder(DIM))
    with psycopg.connect(pg_url, autocommit=True) as conn:  # back to what version 1 wrote
        conn.execute(f"DROP TABLE {SCHEMA}.sentences")
        conn.execute(
            f"ALTER TABLE {SCHEMA}.articles DROP COLUMN layout, DROP COLUMN meta, DROP COLUMN published_to, "
            "DROP COLUMN story, DROP COLUMN signature"
        )
        conn.execute(f"ALTER TABLE {SCHEMA}.articles RENAME COLUMN published_from TO published_date")
        conn.execute(f"UPDATE {SCHEMA}.meta SET value = '1' WHERE key = 'schema_version'")
    embedder = CountingEmbedder(DIM)
    report = refresh(PgStore(pg_url), [src], embedder)
    assert report.wrote and embedder.embedded == [] and (report.stories, report.grouped) == (1, 3)
    store = PgStore(pg_url)
    assert {i: e.story for i, e in store.manifest().articles.items() if i in COPIES} == dict.fromkeys(
        COPIES, "ap"
    )
    answer = Archive(Retriever(store, HashingEmbedder(DIM))).ask(BRIDGES, k=3)
    wire = [q for q in answer.quotes if q.article.id in COPIES]
    assert wire and len(wire[0].also) == 2
    store.close()
