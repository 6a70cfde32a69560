"""Word-by-word query translation: the dictionary, the search it adds, the quotes it picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer.quotes import compose_answer
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.search.query import Query
from retrieval.search.translation import (
    ChineseEnglish,
    Glossary,
    chinese_english,
    default_translators,
    parse_cedict,
)
from retrieval.types import Article, Hit, Quote
from tests.conftest import write

TOY = Glossary(
    "zh",
    "en",
    {"火山": "volcano", "火": "fire", "居民": "residents inhabitants", "撤离": "evacuated", "多少": "number"},
    r"\p{Han}",
)

ARTICLES = {
    "volcano.md": (
        "---\ntitle: Volcano erupts\nsource: Island Times\n---\n"
        "The Mount Sorrow volcano erupted on Tuesday. Ash covered the village of Lenby. "
        "Officials evacuated 300 residents to the capital, Port Alder. Flights were cancelled for two days."
    ),
    "budget.md": (
        "---\ntitle: Budget passes\nsource: Capital Post\n---\n"
        "Parliament passed the budget on Friday. The vote was 210 to 190. "
        "The finance minister, Ana Ruiz, said taxes would not rise."
    ),
}
QUESTION = "有多少居民被撤离？"  # how many residents were evacuated?


def test_longest_headwords_first_unknown_characters_skipped_other_words_kept() -> None:
    # 火山 wins over 火; 爆发后有 are not headwords; "X.25" and "300" are kept as they are
    assert TOY.translate("火山爆发后有多少居民") == ("volcano", "number", "residents inhabitants")
    assert TOY.translate("X.25 火") == ("X.25", "fire")
    assert TOY.translate("3000 名居民") == ("3000", "residents inhabitants")


def test_nothing_known_is_no_translation() -> None:
    assert TOY.translate("爆发后") == ()
    assert TOY.translate("only Latin words 300") == ()


def test_cedict_lines_become_clean_senses() -> None:
    lines = [
        "# CC-CEDICT comment",
        "#! date=2023-11-07",
        "發動機 发动机 [fa1 dong4 ji1] /engine; motor/CL:臺|台[tai2]/",
        "諾曼底 诺曼底 [Nuo4 man4 di3] /Normandy, France/",
        "年 年 [nian2] /year/CL:個|个[ge4]/grain/harvest/",
        "後 后 [hou4] /back; behind/variant of 後|后[hou4]/",
        "國際 国际 [guo2 ji4] /international (old term)/see also 國際化|国际化[guo2 ji4 hua4]/global/",
        "broken line without brackets",
    ]
    entries = parse_cedict(lines)
    assert entries["发动机"] == entries["發動機"] == "engine; motor"  # simplified and traditional
    assert entries["诺曼底"] == "Normandy, France"
    assert entries["年"] == "year"  # one sense for a single character
    assert entries["后"] == "back; behind"
    assert entries["国际"] == "international global"  # notes and cross-references dropped
    assert "broken" not in entries and len(entries) == 9


def test_the_packaged_cc_cedict_translates_chinese_questions() -> None:
    glossary = chinese_english()
    assert len(glossary) > 100_000
    text = " ".join(glossary.translate("超级碗50的冠军是哪支球队？"))
    assert "Super Bowl" in text and "champion" in text and "50" in text
    assert chinese_english() is glossary  # read once
    assert [(t.source, t.target) for t in default_translators()] == [("zh", "en")]
    assert ChineseEnglish().translate("肯尼亚") == ("Kenya",)


@pytest.fixture
def index(tmp_path: Path) -> Path:
    for name, text in ARTICLES.items():
        write(tmp_path / "src" / name, text)
    refresh(tmp_path / "index", [tmp_path / "src"], HashingEmbedder(256))
    return tmp_path / "index"


def _focus(quote: Quote) -> str:
    return quote.article.text[quote.focus[0] : quote.focus[1]]


def test_a_chinese_question_is_answered_from_an_english_article(index: Path) -> None:
    # The fake embedder shares no feature between Chinese and English text, and BM25 finds
    # none of the question's words: only the dictionary connects it with the volcano article.
    without = Archive.open(index, HashingEmbedder(256), translators=[])
    retriever = without.retriever
    assert retriever.search(retriever.query(QUESTION, mode="lexical"), k=2) == []
    assert not without.ask(QUESTION).searched_as

    answer = Archive.open(index, HashingEmbedder(256), translators=[TOY]).ask(QUESTION, k=3)
    assert answer.searched_as == (("en", "number residents inhabitants evacuated"),)
    first = answer.quotes[0]
    assert _focus(first) == "Officials evacuated 300 residents to the capital, Port Alder."
    assert first.article.text[first.start : first.end] == first.text  # quoted in its own words
    marked = {first.article.text[a:b].lower() for a, b in first.matches}
    assert {"evacuated", "residents"} <= marked  # highlighted with the translated words


def test_translations_count_in_bm25_only_search_too(index: Path) -> None:
    retriever = Archive.open(index, HashingEmbedder(256), translators=[TOY]).retriever
    hits = retriever.search(retriever.query(QUESTION, mode="lexical"), k=2)
    assert hits and hits[0].article.title == "Volcano erupts"
    retriever.translators = []
    assert retriever.search(retriever.query(QUESTION, mode="lexical"), k=2) == []


def test_questions_in_other_languages_are_not_translated(index: Path) -> None:
    archive = Archive.open(index, HashingEmbedder(256), translators=[TOY])
    assert archive.retriever.query("How many residents were evacuated?").renderings == ()
    assert archive.ask("How many residents were evacuated?").searched_as == ()


def test_the_query_vector_leans_towards_the_translation(index: Path) -> None:
    archive = Archive.open(index, HashingEmbedder(256), translators=[TOY])
    embedder = archive.embedder
    query = archive.retriever.query(QUESTION)
    mixed = query.vector
    plain = embedder.embed_query(QUESTION)
    english = embedder.embed_query(query.renderings[0].text)
    assert mixed is not None and abs(float(mixed @ mixed) - 1.0) < 1e-5
    assert float(mixed @ english) > float(plain @ english)
    assert (query.own_vector == plain).all()
    archive.retriever.translators = []
    assert (archive.retriever.query(QUESTION).vector == plain).all()


def test_a_translation_chooses_the_sentence_in_an_article_of_its_language(index: Path) -> None:
    archive = Archive.open(index, HashingEmbedder(256), translators=[])
    article = next(a for a in archive.articles() if a.title == "Volcano erupts")
    article = archive.article(article.id)
    assert article is not None and article.language == "en"
    hit = Hit(article, 0, len(article.text), score=1.0, dense=0.5, lexical=0.0)

    def first(translations: dict[str, tuple[str, ...]] | None) -> str:
        return _focus(compose_answer(Query.plain(QUESTION, renderings=translations), [hit], k=1).quotes[0])

    assert first(None) == "The Mount Sorrow volcano erupted on Tuesday."  # nothing to tell them apart
    assert (
        first({"en": ("residents", "evacuated")})
        == "Officials evacuated 300 residents to the capital, Port Alder."
    )
    assert first({"zh": ("residents", "evacuated")}) == first(
        None
    )  # the question's own language: no translation


def test_the_senses_of_one_word_count_once() -> None:
    """A sentence holding two senses of one question word matched one word; a sentence
    holding one sense each of two words matched both (XQuAD zh->en recall@1 0.745 -> 0.762
    over counting every sense on its own)."""
    text = "Local residents and inhabitants gathered in the square. Officials evacuated the residents."
    hit = Hit(Article(id="a", text=text, language="en"), 0, len(text), score=1.0, dense=0.5, lexical=0.0)
    renderings = {"en": ("residents inhabitants locals", "evacuated")}
    answer = compose_answer(Query.plain("居民被撤离？", renderings=renderings), [hit], k=1)
    assert _focus(answer.quotes[0]) == "Officials evacuated the residents."
    # counted sense by sense, the first sentence would win: 3 of the 4 terms against 2
    flat = {"en": ("residents", "inhabitants", "locals", "evacuated")}
    answer = compose_answer(Query.plain("居民被撤离？", renderings=flat), [hit], k=1)
    assert _focus(answer.quotes[0]) == "Local residents and inhabitants gathered in the square."


def test_the_relevance_floor_can_read_another_cosine_than_the_hits() -> None:
    text = "Officials evacuated the residents."
    hit = Hit(Article(id="a", text=text, language="en"), 0, len(text), score=1.0, dense=0.9, lexical=0.0)
    assert compose_answer(Query.plain("撤离？"), [hit]).answered
    assert not compose_answer(Query.plain("撤离？"), [hit], relevance=(0.1, "en")).answered
