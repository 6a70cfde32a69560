"""One contract, every VectorStore: FAISS files and PostgreSQL + pgvector (a real server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.archive import Archive
from retrieval.embedding import Embedder, HashingEmbedder
from retrieval.errors import IndexMismatchError, IndexMissingError
from retrieval.ingest.chunking import ChunkingParams, chunk_text
from retrieval.ingest.indexer import IndexReport, refresh
from retrieval.language import detect
from retrieval.search.retriever import Retriever
from retrieval.store import StoreWriter, VectorStore, open_store, passage_key
from retrieval.store.sentences import SentenceTable
from retrieval.text import terms
from retrieval.types import Article, Filters, Quote
from tests.conftest import write

DIM = 64
CHUNKING = ChunkingParams(max_words=30).as_dict()

HARBOUR = Article(
    id="harbour",
    text=(
        "The harbour in Port Marlow reopened on Friday after the storm damaged two piers. "
        "Fishermen said the repairs cost two million dollars and took three weeks. "
        "The mayor of Port Marlow thanked the volunteers who cleared the debris from the quay."
    ),
    title="Harbour reopens",
    source="Coastal Gazette",
    published="2023-05-20",
    path="harbour.md",
)
GLACIER = Article(
    id="glacier",
    text=(
        "The glacier survey team measured the ice thickness at six stations on the northern ridge. "
        "Scientists found the glacier had lost eleven metres of ice since the last survey in 2019."
    ),
    title="Glacier survey",
    source="Polar Notes",
    published="2023-03-01",
    path="glacier.md",
)
BUDGET = Article(
    id="budget",
    text="The city council approved the budget for the new library on Tuesday after a long debate.",
    title="Library budget",
    source="City Desk",
    published="",
    path="budget.txt",
)


@pytest.fixture(params=["faiss", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "faiss":
        where: Path | str = tmp_path / "index"
    else:
        where = request.getfixturevalue("pg_url")
    s = open_store(where)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def embedder() -> Embedder:
    return HashingEmbedder(DIM)


def spans_of(article: Article) -> list[tuple[int, int]]:
    return [(p.start, p.end) for p in chunk_text(article.id, article.text, ChunkingParams(max_words=30))]


def put(
    store: VectorStore,
    embedder: Embedder,
    *articles: Article,
    reset: bool = False,
    sentences: SentenceTable | None = None,
) -> VectorStore:
    """Write ``articles`` in one run; the store as it reads afterwards."""
    with store.writer() as writer:
        if reset:
            writer.reset(embedder.name, DIM, CHUNKING)
        for article in articles:
            spans = spans_of(article)
            vectors = embedder.embed_passages([article.text[s:e] for s, e in spans])
            writer.put_article(article, spans, vectors, sentences)
    return store.reopened()


def remove(store: VectorStore, *ids: str) -> VectorStore:
    with store.writer() as writer:
        for article_id in ids:
            writer.remove_article(article_id)
    return store.reopened()


def filled(store: VectorStore, embedder: Embedder) -> VectorStore:
    return put(store, embedder, HARBOUR, GLACIER, BUDGET, reset=True)


def lexical(store: VectorStore, text: str, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
    return store.lexical_search(terms(text, language=detect(text)), k, filters)


def texts(store: VectorStore, ranked: list[tuple[int, float]]) -> list[str]:
    where = store.locate([row for row, _ in ranked])
    return [where[row].article.text[where[row].start : where[row].end] for row, _ in ranked]


def test_an_empty_store_says_how_to_build_an_index(store: VectorStore) -> None:
    with pytest.raises(IndexMissingError, match="newsbot index"):
        store.manifest()


def test_reset_then_put_counts_and_describes_every_passage(store: VectorStore, embedder: Embedder) -> None:
    store = put(store, embedder, reset=True)
    assert store.count() == 0
    store = put(store, embedder, HARBOUR)
    spans = spans_of(HARBOUR)
    assert len(spans) >= 2
    manifest = store.manifest()
    assert (manifest.model, manifest.dim, manifest.chunking) == (embedder.name, DIM, CHUNKING)
    assert manifest.articles["harbour"].hash == HARBOUR.content_hash
    assert manifest.articles["harbour"].passages == len(spans) == store.count() == manifest.passages
    assert manifest.articles["harbour"].path == "harbour.md"
    assert store.article("harbour") == HARBOUR and store.article("nope") is None


def test_dense_search_ranks_by_cosine(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    question = "how much did the harbour repairs cost"
    ranked = store.dense_search(embedder.embed_query(question), 3)
    assert len(ranked) == 3
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    best = texts(store, ranked)[0]
    assert best in HARBOUR.text
    exact = float(embedder.embed_passages([best])[0] @ embedder.embed_query(question))
    assert scores[0] == pytest.approx(exact, abs=1e-5)


def test_lexical_search_is_bm25_over_the_stored_passages(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    ranked = lexical(store, "glacier ice survey", 5)
    assert ranked and all(score > 0 for _, score in ranked)
    assert all(t in GLACIER.text for t in texts(store, ranked))
    assert lexical(store, "zeppelin", 5) == []
    idf = store.idfs(["glacier", "port", "zeppelin"])
    assert idf["zeppelin"] > idf["glacier"] > 0 and idf["port"] > 0
    # A term no passage holds gets exactly the unseen idf; every known one less.
    assert idf["zeppelin"] == store.unseen_idf() > idf["glacier"]


def test_filters_restrict_both_sides(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    vector = embedder.embed_query("the harbour and the glacier")
    polar = Filters(sources=("polar",))
    for ranked in (
        store.dense_search(vector, 10, polar),
        lexical(store, "the harbour glacier", 10, polar),
    ):
        assert ranked and {store.locate([r])[r].article.id for r, _ in ranked} == {"glacier"}
    may = Filters(since=date(2023, 5, 1), until=date(2023, 5, 31))
    assert {store.locate([r])[r].article.id for r, _ in store.dense_search(vector, 10, may)} == {"harbour"}
    # An article without a date never passes a date filter.
    undated = Filters(until=date(2030, 1, 1))
    assert "budget" not in {
        store.locate([r])[r].article.id for r, _ in store.dense_search(vector, 10, undated)
    }
    nothing = Filters(sources=("no such outlet",))
    assert store.dense_search(vector, 10, nothing) == [] == lexical(store, "harbour", 10, nothing)


def test_put_replaces_an_article_whole(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    before = store.count()
    edited = Article(**(HARBOUR.metadata() | {"text": "The harbour stays closed until the zeppelin leaves."}))
    store = put(store, embedder, edited)
    assert len(spans_of(edited)) == 1
    assert store.count() == before - store_passages(HARBOUR) + 1
    assert store.manifest().articles["harbour"].hash == edited.content_hash
    assert all("Fishermen" not in t for t in texts(store, lexical(store, "fishermen repairs", 10)))
    assert texts(store, lexical(store, "zeppelin", 3)) == [edited.text]
    assert store.article("harbour").text == edited.text  # type: ignore[union-attr]


def store_passages(article: Article) -> int:
    return len(chunk_text(article.id, article.text, ChunkingParams(max_words=30)))


def test_remove_drops_an_article_and_its_terms(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    rare_before = store.idfs(["glacier"])["glacier"]
    store = remove(store, "glacier")
    assert "glacier" not in store.manifest().articles
    assert store.count() == store_passages(HARBOUR) + store_passages(BUDGET)
    assert lexical(store, "glacier", 5) == []
    assert store.idfs(["glacier"])["glacier"] > rare_before  # no passage holds it any more
    vector = embedder.embed_query("glacier ice")
    assert "glacier" not in {store.locate([r])[r].article.id for r, _ in store.dense_search(vector, 20)}
    assert remove(store, "never-there").count() == store.count()  # removing a missing article: a no-op


def test_known_vectors_are_found_by_passage_text(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    text = HARBOUR.text[slice(*spans_of(HARBOUR)[0])]
    found = store.known_vectors([passage_key(text), passage_key("never stored")])
    assert list(found) == [passage_key(text)]
    np.testing.assert_allclose(found[passage_key(text)], embedder.embed_passages([text])[0], atol=1e-6)


def test_stats_and_catalog(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    stats = store.stats()
    assert (stats.articles, stats.model) == (3, embedder.name)
    assert stats.passages == store.count()
    assert dict(stats.sources) == {"Coastal Gazette": 1, "Polar Notes": 1, "City Desk": 1}
    assert (stats.first_published, stats.last_published) == ("2023-03-01", "2023-05-20")
    assert {a.id: a.title for a in store.catalog()} == {
        "harbour": "Harbour reopens",
        "glacier": "Glacier survey",
        "budget": "Library budget",
    }


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed_passages(texts, progress)


def test_refresh_embeds_only_what_changed(store: VectorStore, tmp_path: Path) -> None:
    src = tmp_path / "articles"
    for a in (HARBOUR, GLACIER, BUDGET):
        write(src / f"{a.id}.txt", a.text)
    embedder = CountingEmbedder(DIM)
    first = refresh(store, [src], embedder, ChunkingParams(max_words=30))
    assert (
        first.wrote and len(first.added) == 3 and first.embedded == first.passages == store.reopened().count()
    )
    again = refresh(store, [src], embedder, ChunkingParams(max_words=30))
    assert not again.wrote and again.embedded == 0 and again.unchanged == 3
    embedder.embedded.clear()
    write(src / "budget.txt", BUDGET.text + " The library opens in 2025.")
    (src / "glacier.txt").unlink()
    third = refresh(store, [src], embedder, ChunkingParams(max_words=30))
    assert third.updated == ["budget"] and third.removed == ["glacier"]
    assert embedder.embedded == [BUDGET.text + " The library opens in 2025."]
    assert set(store.reopened().manifest().articles) == {"harbour", "budget"}
    with pytest.raises(IndexMismatchError, match="--full"):
        refresh(store, [src], CountingEmbedder(32), ChunkingParams(max_words=30))
    full = refresh(store, [src], CountingEmbedder(32), ChunkingParams(max_words=30), full=True)
    assert full.embedded == full.passages and store.reopened().manifest().dim == 32


def test_answers_through_the_archive(store: VectorStore, embedder: Embedder) -> None:
    store = filled(store, embedder)
    archive = Archive(Retriever(store, embedder))
    answer = archive.ask("How much did the repairs of the harbour cost?", k=2)
    assert answer.quotes and answer.quotes[0].article.id == "harbour"
    assert "two million dollars" in " ".join(q.text for q in answer.quotes)
    for q in answer.quotes:
        assert q.text == q.article.text[q.start : q.end]
    assert archive.stats().articles == 3


def ranking(store: VectorStore, ranked: list[tuple[int, float]]) -> list[tuple[float, str]]:
    return sorted(zip((round(-s, 5) + 0.0 for _, s in ranked), texts(store, ranked), strict=True))


HAFEN = (
    "Der Hafen von Port Marlow wurde am Freitag wieder geöffnet, nachdem der Sturm zwei Anlegestellen "
    "beschädigt hatte. Die Fischer sagten, die Reparaturen hätten drei Wochen gedauert."
)


@pytest.mark.postgresql
def test_both_stores_rank_alike(tmp_path: Path, pg_url: str) -> None:
    """The same articles give the same BM25 scores and the same dense order in both stores."""
    from tests.conftest import SEEDS

    embedder = HashingEmbedder(DIM)
    src = tmp_path / "src"
    for a in (HARBOUR, GLACIER, BUDGET):
        write(src / f"{a.id}.txt", a.text)
    write(src / "hafen.txt", HAFEN)  # German: its own stemmer and stopwords, in both stores
    refresh(tmp_path / "index", [SEEDS, src], embedder)
    faiss, pg = open_store(tmp_path / "index"), open_store(pg_url)
    try:
        refresh(pg, [SEEDS, src], embedder)
        questions = (
            "harbour repairs cost",
            "Afghanistan conference in Baku",
            "glacier ice",
            "Wann öffnete der Hafen?",
        )
        for question in questions:
            for search in ("lexical", "dense"):
                if search == "lexical":
                    a, b = lexical(faiss, question, 8), lexical(pg, question, 8)
                else:
                    vector = embedder.embed_query(question)
                    a, b = faiss.dense_search(vector, 8), pg.dense_search(vector, 8)
                # Equal up to float rounding (near-ties, e.g. two orthogonal vectors, may swap).
                assert ranking(faiss, a) == ranking(pg, b), (question, search)
                np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=1e-4, atol=1e-5)
    finally:
        pg.close()


def test_sentence_vectors_are_stored_with_their_article(store: VectorStore, embedder: Embedder) -> None:
    from retrieval.store.sentences import sentence_key
    from retrieval.text import sentence_spans

    store = put(store, embedder, GLACIER, reset=True)  # no sentence vectors for this one
    question = embedder.embed_query("Fishermen said the repairs cost two million dollars")
    assert store.sentence_scores(question, [r for r, _ in store.dense_search(question, 10)]) == {}
    table, _ = SentenceTable.build([HARBOUR.text], embedder.embed_passages, DIM)
    store = put(store, embedder, HARBOUR, sentences=table)
    assert store.stats().sentences == 3
    rows = [r for r, _ in store.dense_search(question, 10)]
    scores = store.sentence_scores(question, rows)
    located = store.locate(rows)
    harbour = [r for r in rows if located[r].article.id == "harbour"]
    assert len(harbour) >= 2 and set(scores) == set(harbour)  # glacier's rows have none
    sentences = sentence_spans(HARBOUR.text)
    for row in harbour:
        inside = [HARBOUR.text[a:b] for a, b in sentences if a < located[row].end and b > located[row].start]
        assert scores[row] == pytest.approx(
            float((embedder.embed_passages(inside) @ question).max()), abs=3e-3
        )
    first = HARBOUR.text[sentences[0][0] : sentences[0][1]]
    stored = store.sentence_vectors([sentence_key(first), b"0" * 16])
    assert list(stored) == [sentence_key(first)]
    np.testing.assert_allclose(stored[sentence_key(first)], embedder.embed_passages([first])[0], atol=2e-3)
    store = put(store, embedder, HARBOUR)  # replaced whole: without sentence vectors now
    assert store.sentence_vectors([sentence_key(first)]) == {} and store.stats().sentences == 0


def test_refresh_embeds_the_sentences_of_changed_articles(store: VectorStore, tmp_path: Path) -> None:
    from tests.retrieval.test_sentences import SentenceEmbedder

    src = tmp_path / "articles"
    for a in (HARBOUR, BUDGET):
        write(src / f"{a.id}.txt", a.text)
    embedder = SentenceEmbedder(DIM)
    first = refresh(store, [src], embedder, ChunkingParams(max_words=30))
    assert first.sentences_embedded == 4  # three harbour sentences, one budget sentence
    write(src / "budget.txt", BUDGET.text + " The library opens in 2025.")
    embedder.embedded.clear()
    again = refresh(store, [src], embedder, ChunkingParams(max_words=30))
    assert again.sentences_embedded == 1 and "The library opens in 2025." in embedder.embedded
    vector = embedder.embed_query("When does the library open?")
    store = store.reopened()
    rows = [r for r, _ in store.dense_search(vector, 10)]
    assert set(store.sentence_scores(vector, rows)) == set(rows)


def test_refresh_adds_sentence_vectors_to_a_store_filled_without_them(
    store: VectorStore, tmp_path: Path
) -> None:
    from tests.retrieval.test_sentences import SentenceEmbedder

    src = tmp_path / "articles"
    for a in (HARBOUR, BUDGET):
        write(src / f"{a.id}.txt", a.text)
    refresh(store, [src], CountingEmbedder(DIM), ChunkingParams(max_words=30))
    assert store.reopened().stats().sentences == 0
    upgraded = refresh(store, [src], SentenceEmbedder(DIM), ChunkingParams(max_words=30))
    assert upgraded.embedded == 0 and upgraded.sentences_embedded == 4
    assert store.reopened().stats().sentences == 4
    again = refresh(store, [src], SentenceEmbedder(DIM), ChunkingParams(max_words=30))
    assert again.sentences_embedded == 0 and not again.wrote


def test_partial_dates_and_published_by_filter_alike(store: VectorStore, embedder: Embedder) -> None:
    """A year-only date covers its whole year; ``published_by`` keeps undated articles."""
    yearly = Article(
        id="yearly",
        text="The yearly report on the harbour fleet counted forty boats and two ferries.",
        source="Harbour Annual",
        published="2023",
        path="yearly.md",
    )
    store = put(store, embedder, HARBOUR, GLACIER, BUDGET, yearly, reset=True)
    vector = embedder.embed_query("harbour boats report")

    def found(filters: Filters) -> set[str]:
        return {store.locate([r])[r].article.id for r, _ in store.dense_search(vector, 20, filters)}

    assert "yearly" in found(Filters(since=date(2023, 6, 1), until=date(2023, 6, 30)))
    assert "yearly" not in found(Filters(since=date(2024, 1, 1)))
    # harbour (May) is known to be later; the undated budget and the year that began in
    # January may be older, so they stay
    assert found(Filters(published_by=date(2023, 3, 31))) == {"glacier", "budget", "yearly"}


# --------------------------------------------------------------------------- stories

WIRE = (
    "WASHINGTON — The Senate on Thursday approved a bill that sets aside 12 billion dollars for repairing "
    "the nation's aging bridges, sending the measure to the House after a vote of 71 to 27. Supporters said "
    "the money would fix more than four thousand bridges rated in poor condition by federal inspectors. "
    "The bill's sponsor, Senator Maria Delgado of New Mexico, said the repairs could not wait another winter. "
    "Opponents argued that the spending should be offset by cuts elsewhere in the budget. The House is "
    "expected to take up the bill next month, and the White House has said the president would sign it. "
    "Engineers have warned for years that many bridges built in the 1950s and 1960s are near the end of "
    "their design life. The Transportation Department will distribute the money to states according to "
    "the number of bridges in poor condition."
)
#: the wire story as three outlets ran it: (outlet, url, published, text)
COPIES = {
    "ap": ("AP", "https://apnews.com/article/senate-bridges", "2024-03-07", WIRE),
    "reuters": (
        "Reuters",
        "https://www.reuters.com/world/us/senate-bridges",
        "2024-03-07",
        WIRE.replace("WASHINGTON —", "WASHINGTON (Reuters) -").replace(" next month", " in March"),
    ),
    "npr": (
        "NPR",
        "https://www.npr.org/2024/03/08/senate-bridges",
        "2024-03-08",
        WIRE.rsplit(" The Transportation", 1)[0] + " Lawmakers from both parties praised the vote.",
    ),
}
BRIDGES = "How much money did the Senate set aside for repairing bridges?"


def write_copy(src: Path, article_id: str, outlet: str, url: str, published: str, text: str) -> None:
    data = {"id": article_id, "title": f"Senate passes bridge bill ({outlet})", "source": outlet}
    write(src / f"{article_id}.json", json.dumps(data | {"url": url, "published": published, "text": text}))


def wire_archive(src: Path, *names: str) -> Path:
    """The named copies of the wire story, and three other articles."""
    for a in (HARBOUR, GLACIER, BUDGET):
        write(src / f"{a.id}.txt", a.text)
    for name in names:
        write_copy(src, name, *COPIES[name])
    return src


def index(store: VectorStore, src: Path, embedder: Embedder | None = None) -> IndexReport:
    return refresh(store, [src], embedder or HashingEmbedder(DIM), ChunkingParams(max_words=30))


def stories_of(store: VectorStore) -> dict[str, str]:
    return {i: e.story for i, e in store.reopened().manifest().articles.items()}


def story_quotes(store: VectorStore, question: str = BRIDGES) -> list[Quote]:
    """The answer's quotes (and further ones) from copies of the wire story."""
    answer = Archive(Retriever(store.reopened(), HashingEmbedder(DIM))).ask(question, k=3)
    return [q for q in (*answer.quotes, *answer.more) if q.article.id in COPIES]


def test_syndicated_copies_are_quoted_once_with_the_other_outlets(store: VectorStore, tmp_path: Path) -> None:
    report = index(store, wire_archive(tmp_path / "src", "ap", "reuters", "npr"))
    assert (report.stories, report.grouped) == (1, 3)
    assert stories_of(store) == {"ap": "ap", "reuters": "ap", "npr": "ap"} | {
        a.id: a.id for a in (HARBOUR, GLACIER, BUDGET)
    }
    found = store.reopened().stories(["npr", "harbour", "nope"])
    assert list(found) == ["npr"] and found["npr"].id == "ap"
    assert sorted(m.id for m in found["npr"].members) == ["ap", "npr", "reuters"]
    assert all(m.text == "" and m.source for m in found["npr"].members)  # metadata only
    quotes = story_quotes(store)
    assert quotes and {q.article.id for q in quotes} == {quotes[0].article.id}  # one copy quoted
    quoted = quotes[0].article.id
    others = sorted(set(COPIES) - {quoted}, key=lambda i: COPIES[i][0])
    assert [c.article_id for c in quotes[0].also] == others
    for c in quotes[0].also:
        outlet, url, published, _ = COPIES[c.article_id]
        assert (c.source, c.url, c.published, c.title) == (
            outlet,
            url,
            published,
            f"Senate passes bridge bill ({outlet})",
        )


def test_a_later_copy_joins_its_story_and_a_removed_one_leaves_it(store: VectorStore, tmp_path: Path) -> None:
    src = wire_archive(tmp_path / "src", "ap", "reuters")
    index(store, src)
    assert {c.source for c in story_quotes(store)[0].also} <= {"AP", "Reuters"}
    embedder = CountingEmbedder(DIM)
    write_copy(src, "npr", *COPIES["npr"])
    later = index(store, src, embedder)
    assert (later.added, later.updated, later.grouped) == (["npr"], [], 3)
    npr_text = COPIES["npr"][3]
    assert embedder.embedded and all(t in npr_text for t in embedder.embedded)  # no other copy re-embedded
    assert stories_of(store)["npr"] == "ap"
    quotes = story_quotes(store)
    assert {c.source for c in quotes[0].also} == {"AP", "Reuters", "NPR"} - {quotes[0].article.source}
    (src / "reuters.json").unlink()
    gone = index(store, src)
    assert gone.removed == ["reuters"] and gone.grouped == 2
    quotes = story_quotes(store)
    assert [c.source for c in quotes[0].also] == [({"AP", "NPR"} - {quotes[0].article.source}).pop()]
    assert "reuters" not in stories_of(store)


def bridged_texts() -> tuple[str, str, str]:
    """A story cut at the bottom, the same cut at the top (too different to group), and the
    whole story that carries both."""
    from tests.retrieval.test_near_duplicates import sentences

    body = sentences(12, 340)[:20]
    return " ".join(body[:15]), " ".join(body[5:]), " ".join(body)


def test_a_bridging_copy_merges_two_stories(store: VectorStore, tmp_path: Path) -> None:
    top, bottom, whole = bridged_texts()
    src = tmp_path / "src"
    write_copy(src, "top", "North Post", "https://north.example/a", "2024-01-01", top)
    write_copy(src, "bottom", "South Post", "https://south.example/b", "2024-01-02", bottom)
    first = index(store, src)
    assert stories_of(store) == {"top": "top", "bottom": "bottom"} and first.stories == 0
    embedder = CountingEmbedder(DIM)
    write_copy(src, "whole", "Wire", "https://wire.example/c", "2024-01-03", whole)
    merged = index(store, src, embedder)
    assert (merged.added, merged.updated, merged.stories, merged.grouped) == (["whole"], [], 1, 3)
    assert all(t in whole for t in embedder.embedded)
    assert stories_of(store) == {"top": "top", "bottom": "top", "whole": "top"}  # bottom's id updated
    assert store.reopened().stories(["bottom"])["bottom"].id == "top"


def test_an_unchanged_archive_writes_no_story(
    store: VectorStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = wire_archive(tmp_path / "src", "ap", "reuters", "npr")
    index(store, src)
    calls = spy_writes(store, monkeypatch)
    again = index(store, src)
    assert not again.wrote and calls == [] and (again.stories, again.grouped) == (1, 3)
    assert stories_of(store)["npr"] == "ap"


def spy_writes(store: VectorStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the writer methods that write, as the next runs call them."""
    calls: list[str] = []
    opened = store.writer

    class Spy:
        def __init__(self, writer: StoreWriter) -> None:
            self.writer = writer

        def __getattr__(self, name: str) -> Any:
            if name in ("reset", "put_article", "remove_article", "set_stories", "set_chunking"):
                calls.append(name)
            return getattr(self.writer, name)

    @contextmanager
    def writer() -> Iterator[Spy]:
        with opened() as w:
            yield Spy(w)

    monkeypatch.setattr(store, "writer", writer)
    return calls
