"""Retriever and quote composer with the fake embedder: fusion, filters, diversity, verbatim quotes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.search.query import Query
from retrieval.store import open_store
from retrieval.types import Filters
from tests.conftest import write

ARTICLES = {
    "volcano.md": (
        "---\ntitle: Volcano erupts\nsource: Island Times\npublished: 2023-01-10\n---\n"
        "The Mount Sorrow volcano erupted on Tuesday. Ash covered the village of Lenby. "
        "Officials evacuated 300 residents to the capital, Port Alder. Flights were cancelled for two days."
    ),
    "budget.md": (
        "---\ntitle: Budget passes\nsource: Capital Post\npublished: 2023-01-20\n---\n"
        "Parliament passed the budget on Friday. The vote was 210 to 190. "
        "The finance minister, Ana Ruiz, said taxes would not rise. Opposition leaders criticised the plan."
    ),
    "football.md": (
        "---\ntitle: Cup final\nsource: Island Times\npublished: 2023-01-25\n---\n"
        "Harbour City won the cup final against Lenby Rovers. The score was 3 to 1. "
        "Striker Tom Okafor scored twice in the second half. Fans celebrated in the harbour all night."
    ),
    "long.md": (
        "---\ntitle: Long report on the volcano\nsource: Science Weekly\npublished: 2023-01-12\n---\n"
        + " ".join(f"Scientists measured volcano gas sample {i} near the crater." for i in range(40))
    ),
}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    src = tmp_path / "src"
    for name, text in ARTICLES.items():
        write(src / name, text)
    refresh(tmp_path / "index", [src], HashingEmbedder(256))
    return Archive.open(tmp_path / "index", HashingEmbedder(256))


def test_best_sentence_first_and_quotes_are_verbatim(archive: Archive) -> None:
    answer = archive.ask("How many residents were evacuated after the volcano erupted?", k=3)
    assert answer.answered
    first = answer.quotes[0]
    assert "evacuated 300 residents" in first.text
    assert first.article.title == "Volcano erupts"
    for q in answer.quotes:
        assert q.article.text[q.start : q.end] == q.text
        assert q.start <= q.focus[0] < q.focus[1] <= q.end
        for a, b in q.matches:
            assert q.start <= a < b <= q.end
    matched = {first.article.text[a:b].lower() for a, b in first.matches}
    assert {"evacuated", "residents"} <= matched


def test_quotes_carry_their_source(archive: Archive) -> None:
    q = archive.ask("Who scored twice in the cup final?", k=1).quotes[0]
    assert "Okafor" in q.text
    assert (q.article.source, q.article.published, q.article.title) == (
        "Island Times",
        "2023-01-25",
        "Cup final",
    )
    assert q.article.path.endswith("football.md")
    assert 0 <= q.score <= 1


def test_quotes_grouped_by_article(archive: Archive) -> None:
    answer = archive.ask("volcano ash evacuation flights", k=4)
    groups = answer.by_article()
    ids = [a.id for a, _ in groups]
    assert len(ids) == len(set(ids))
    assert sum(len(qs) for _, qs in groups) == len(answer.quotes)


def test_source_and_date_filters(archive: Archive) -> None:
    only_post = archive.ask("volcano", k=5, filters=Filters(sources=("capital post",)))
    assert {q.article.source for q in only_post.quotes} <= {"Capital Post"}
    late = archive.ask("volcano lenby", k=5, filters=Filters(since=date(2023, 1, 21)))
    assert late.quotes and all(q.article.published >= "2023-01-21" for q in late.quotes)
    window = archive.ask("volcano", k=5, filters=Filters(since=date(2023, 1, 11), until=date(2023, 1, 13)))
    assert {q.article.title for q in window.quotes} == {"Long report on the volcano"}
    none = archive.ask("volcano", k=5, filters=Filters(sources=("Nobody",)))
    assert none.quotes == () and not none.answered and none.notice
    with pytest.raises(ValueError):
        Filters(since=date(2023, 2, 1), until=date(2023, 1, 1))


def test_diversity_other_articles_get_a_turn(archive: Archive) -> None:
    retriever = archive.retriever
    hits = retriever.search(retriever.query("volcano erupted gas crater Lenby"), k=4)
    assert len({h.article.id for h in hits}) >= 2
    # Overlapping passages of one article are merged, never returned twice.
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            if a.article.id == b.article.id:
                assert a.end <= b.start or b.end <= a.start


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_modes_and_k_larger_than_the_index(archive: Archive, mode: str) -> None:
    retriever = archive.retriever
    hits = retriever.search(retriever.query("budget vote", mode=mode), k=500)
    assert hits and len(hits) <= retriever.store.count()
    assert all(h.article.text[h.start : h.end] == h.text for h in hits)


def test_more_results_continue_without_repeats(archive: Archive) -> None:
    first = archive.ask("volcano", k=2)
    longer = archive.ask("volcano", k=4)
    assert longer.quotes[:2] == first.quotes
    spans = [(q.article.id, q.start, q.end) for q in longer.quotes + longer.more]
    for i, (aid, s, e) in enumerate(spans):
        for bid, s2, e2 in spans[i + 1 :]:
            assert aid != bid or e <= s2 or e2 <= s, "quotes overlap"


def test_unknown_topic_is_not_answered(archive: Archive) -> None:
    answer = archive.ask("What is the boiling point of liquid nitrogen?", k=3)
    assert not answer.answered
    assert "no clear answer" in answer.notice


def test_empty_index(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    refresh(tmp_path / "index", [tmp_path / "src"], HashingEmbedder(32))
    archive = Archive.open(tmp_path / "index", HashingEmbedder(32))
    answer = archive.ask("anything at all?")
    assert answer.quotes == () and not answer.answered
    assert archive.stats().articles == 0


def test_invalid_faiss_ids_never_used(tmp_path: Path) -> None:
    """FAISS pads its answer with -1 when fewer rows than asked pass a filter: -1 must
    never come back as a row."""
    src = tmp_path / "src"
    write(src / "harbour.md", "---\nsource: Harbour News\n---\nThe harbour reopened on Monday.")
    for n in range(6):
        write(src / f"train{n}.md", f"---\nsource: Rail Weekly\n---\nTrain line {n} reopened on Friday.")
    refresh(tmp_path / "index", [src], HashingEmbedder(32))
    store = open_store(tmp_path / "index")
    vector = HashingEmbedder(32).embed_query("reopened")
    found = store.dense_search(vector, 5, Filters(sources=("harbour news",)))
    assert len(found) == 1 and found[0][0] >= 0
    assert store.locate([found[0][0]])[found[0][0]].article.source == "Harbour News"


def test_stats(archive: Archive) -> None:
    st = archive.stats()
    assert (st.articles, st.model) == (4, "hashing-256")
    assert dict(st.sources) == {"Island Times": 2, "Capital Post": 1, "Science Weekly": 1}
    assert (st.first_published, st.last_published) == ("2023-01-10", "2023-01-25")


def test_quotes_start_and_end_on_sentence_boundaries_even_in_huge_sentences() -> None:
    from retrieval.answer.quotes import compose_answer
    from retrieval.text import sentence_spans
    from retrieval.types import Article, Hit

    long = " ".join(["the northern ridge collapsed near the village"] * 60)
    text = f"Intro sentence here. {long}. Second sentence after. {long}. Final words about the avalanche."
    article = Article(id="x", text=text)
    answer = compose_answer(Query.plain("avalanche ridge"), [Hit(article, 0, len(text), 1.0, 0.5, 1.0)], k=5)
    starts = {a for a, _ in sentence_spans(text)}
    ends = {b for _, b in sentence_spans(text)}
    assert answer.quotes
    for q in answer.quotes:
        assert q.start in starts and q.end in ends


def test_bm25_counts_as_much_as_the_question_words_the_archive_knows(archive: Archive) -> None:
    """A question in another language matches the articles on stray words only: its
    lexical ranking is scaled by the share of its terms the archive holds."""

    def share(question: str) -> float:
        query = archive.retriever.query(question)
        return query.known_share(query.terms)

    assert share("volcano residents evacuated") == 1.0
    assert share("volcano Vulkan Bewohner evakuiert") == 0.25
    assert share("zzzz qqqq") == 0.0
    assert share("the of and") == 1.0  # nothing to weigh


@pytest.mark.parametrize("same_language", [False, True])
def test_sentence_cosines_pick_quotes_within_a_language_only_when_the_model_earns_it(
    same_language: bool,
) -> None:
    """A model whose question-sentence cosines are reliable (``scores_sentences``) may
    raise a sentence that shares no word with the question; by default only sentences
    in another language than the question are scored that way."""
    from retrieval.answer.quotes import QuoteParams, compose_answer
    from retrieval.types import Article, Hit

    words = "The harbour reopened on Monday after the storm. Ships waited outside for three days."
    text = f"{words}\n\nLater the port authority counted the damage to the piers."
    article = Article(id="a", text=text, language="en")
    asked: list[list[str]] = []

    def similarity(sentences):  # type: ignore[no-untyped-def]
        asked.append(list(sentences))
        return np.array([1.0 if "damage" in s else 0.0 for s in sentences])

    params = QuoteParams(
        sentence_cosine_same_language=same_language,
        sentence_cosine_weight=0.6,
        context_words=8,
        max_sentences=1,
    )
    answer = compose_answer(
        Query.plain("When did the harbour reopen after the storm?"),
        [Hit(article, 0, len(text), 1.0, 0.6, 1.0)],
        k=3,
        params=params,
        similarity=similarity,
    )
    first = answer.quotes[0].text
    if same_language:
        assert asked and "damage" in first
    else:
        assert not asked and first.startswith("The harbour reopened")


def test_one_articles_sentences_do_not_crowd_out_a_better_article_in_another_language() -> None:
    """The fusion may rank an article in the question's language first on stray shared
    words; the sentences weighed by cosine still include the best ones of the next hit."""
    from retrieval.answer.quotes import QuoteParams, compose_answer
    from retrieval.types import Article, Hit

    english = " ".join(f"Sentence number {n} about the summit and its central themes." for n in range(8))
    russian = "Власти Казани закрыли центральный мост. Работы продлятся до конца октября."
    en = Article(id="en", text=english, language="en")
    ru = Article(id="ru", text=russian, language="ru")

    def similarity(sentences):  # type: ignore[no-untyped-def]
        return np.array([0.9 if "мост" in s or "октября" in s else 0.5 for s in sentences])

    answer = compose_answer(
        Query.plain("How long will the central bridge stay closed?"),
        [Hit(en, 0, len(english), 1.0, 0.70, 1.0), Hit(ru, 0, len(russian), 0.9, 0.84, 0.0)],
        k=3,
        params=QuoteParams(sentence_cosine_same_language=0.3),
        similarity=similarity,
    )
    assert "до конца октября" in answer.quotes[0].text


@pytest.mark.parametrize("dense_passage", [0.0, 1.0])
def test_a_sentence_is_weighed_with_its_passage(dense_passage: float) -> None:
    """Two hits whose sentences look alike to the model: with ``dense_passage`` the
    sentence of the passage closer to the question wins."""
    from retrieval.answer.quotes import QuoteParams, compose_answer
    from retrieval.types import Article, Hit

    near = Article(id="near", text="Die Brücke bleibt bis Oktober gesperrt.", language="de")
    far = Article(id="far", text="Die Straße bleibt bis Montag gesperrt.", language="de")

    def similarity(sentences):  # type: ignore[no-untyped-def]
        return np.array([0.80 if "Straße" in s else 0.79 for s in sentences])

    answer = compose_answer(
        Query.plain("How long will the bridge stay closed?"),
        [Hit(far, 0, len(far.text), 1.0, 0.70, 0.0), Hit(near, 0, len(near.text), 1.0, 0.85, 0.0)],
        k=2,
        params=QuoteParams(dense_passage=dense_passage),
        similarity=similarity,
    )
    assert answer.quotes[0].article.id == ("near" if dense_passage else "far")


@pytest.mark.parametrize(("language", "answered"), [("en", False), ("ru", True)])
def test_cross_lingual_closeness_has_its_own_floor(language: str, answered: bool) -> None:
    """Cosines across languages run lower: the floor for an article in another language
    than the question is ``min_dense_across``."""
    from retrieval.answer.quotes import QuoteParams, compose_answer
    from retrieval.types import Article, Hit

    article = Article(id="a", text="Работы продлятся до конца октября.", language=language)
    answer = compose_answer(
        Query.plain("How long will the works last?"),
        [Hit(article, 0, len(article.text), 1.0, 0.76, 0.0)],
        params=QuoteParams(min_dense=0.78, min_dense_across=0.75),
    )
    assert answer.answered is answered
