"""Articles and questions beyond English: scripts, language detection, highlighting."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.articles import load_articles
from retrieval.ingest.indexer import refresh
from retrieval.language import detect
from retrieval.store.snapshots import load_snapshot
from retrieval.text import match_spans, sentence_spans, terms, word_count
from tests.conftest import write

ARTICLES = {
    "ru.txt": (
        "Конференция по Афганистану прошла в Баку во вторник. В ней участвовали делегации из "
        "двадцати стран. Глава службы безопасности призвал к совместной борьбе с наркотрафиком."
    ),
    "zh.txt": "北京今天召开了气候会议。来自三十个国家的代表出席了会议。会议决定减少煤炭使用。",
    "ar.txt": "عقد المؤتمر في باكو يوم الثلاثاء. وشارك فيه ممثلون عن عشرين دولة. ودعا المتحدثون إلى التعاون.",
    "hi.txt": "सम्मेलन बाकू में मंगलवार को आयोजित किया गया। इसमें बीस देशों के प्रतिनिधियों ने भाग लिया।",
    "de.md": (
        "---\ntitle: Hochwasser in Passau\nsource: Donau Kurier\n---\n"
        "Das Hochwasser erreichte am Montag die Altstadt von Passau. Hunderte Bewohner wurden "
        "in Sicherheit gebracht. Die Feuerwehr war die ganze Nacht im Einsatz."
    ),
}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The conference on Afghanistan was held in Baku on Tuesday, officials said.", "en"),
        ("Die Konferenz über Afghanistan fand am Dienstag in Baku statt.", "de"),
        ("La conferencia sobre Afganistán se celebró el martes en Bakú.", "es"),
        ("Конференция по Афганистану прошла во вторник в Баку.", "ru"),
        ("关于阿富汗的会议星期二在巴库举行。", "zh"),
        ("東京でオリンピックが開かれた。", "ja"),
        ("सम्मेलन मंगलवार को बाकू में आयोजित किया गया था।", "hi"),
        ("عقد المؤتمر في باكو يوم الثلاثاء", "ar"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "12 345 6789", "!!!", "[/] [link=x]", "link x"])
def test_detect_is_unsure_without_words(text: str) -> None:
    assert detect(text) == ""


def test_articles_carry_their_detected_language(tmp_path: Path) -> None:
    for name, text in ARTICLES.items():
        write(tmp_path / name, text)
    write(
        tmp_path / "fr.md", "---\nlanguage: fr\n---\nThis text says it is French, and the front matter wins."
    )
    loaded = load_articles([tmp_path])
    langs = {Path(a.path).name: a.language for a in loaded.articles}
    assert langs == {
        "ru.txt": "ru",
        "zh.txt": "zh",
        "ar.txt": "ar",
        "hi.txt": "hi",
        "de.md": "de",
        "fr.md": "fr",
    }


@pytest.mark.parametrize(
    ("name", "sentences"),
    [("ru.txt", 3), ("zh.txt", 3), ("ar.txt", 3), ("hi.txt", 2), ("de.md", 3)],
)
def test_sentences_in_every_script(name: str, sentences: int) -> None:
    text = ARTICLES[name].split("---\n")[-1]
    spans = sentence_spans(text)
    assert len(spans) == sentences
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")


def test_terms_of_scripts_without_spaces_are_not_one_token() -> None:
    sentence = "来自三十个国家的代表出席了会议。"
    found = terms(sentence)
    assert "国家" in found and "会议" in found
    assert sentence.rstrip("。") not in found
    assert word_count(sentence) == 8  # two characters a word, as a passage or quote length
    assert word_count("ประเทศไทย") == 3 and word_count("G20峰会") == 2
    assert terms("عقد المؤتمر في باكو") == ["عقد", "المؤتمر", "في", "باكو"]
    assert terms("सम्मेलन बाकू में") == ["सम्मेलन", "बाकू", "में"]  # vowel signs stay in the word


def test_highlighting_marks_character_pairs_not_whole_clauses() -> None:
    text = "来自三十个国家的代表出席了会议。Reuters报道G20峰会。"
    spans = match_spans(text, 0, len(text), set(terms("哪些国家出席了G20会议?")))
    marked = [text[a:b] for a, b in spans]
    assert marked == ["国家", "出席了会议", "G20"]  # adjacent matching pairs merge into one mark
    words = "Hunderte Bewohner wurden in Sicherheit gebracht."
    assert [words[a:b] for a, b in match_spans(words, 0, len(words), set(terms("Bewohner")))] == ["Bewohner"]


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    for name, text in ARTICLES.items():
        write(tmp_path / "src" / name, text)
    refresh(tmp_path / "index", [tmp_path / "src"], HashingEmbedder(256))
    return Archive.open(tmp_path / "index", HashingEmbedder(256))


@pytest.mark.parametrize(
    ("question", "expected", "lang"),
    [
        ("Где прошла конференция по Афганистану?", "прошла в Баку", "ru"),
        ("多少个国家的代表出席了会议？", "三十个国家", "zh"),
        ("أين عقد المؤتمر؟", "عقد المؤتمر في باكو", "ar"),
        ("Wann erreichte das Hochwasser Passau?", "am Montag", "de"),
    ],
)
def test_questions_in_other_scripts_get_verbatim_quotes(
    archive: Archive, question: str, expected: str, lang: str
) -> None:
    answer = archive.ask(question, k=2)
    first = answer.quotes[0]
    assert expected in first.text
    assert first.article.language == lang
    assert first.article.text[first.start : first.end] == first.text
    assert first.matches and all(first.start <= a < b <= first.end for a, b in first.matches)


def test_stats_count_languages(archive: Archive) -> None:
    assert dict(archive.stats().languages) == {"ru": 1, "zh": 1, "ar": 1, "hi": 1, "de": 1}


def test_stopwords_of_the_article_language_stay_out_of_bm25(tmp_path: Path) -> None:
    write(tmp_path / "src" / "ru.txt", ARTICLES["ru.txt"])
    refresh(tmp_path / "index", [tmp_path / "src"], HashingEmbedder(64))
    lexical = load_snapshot(tmp_path / "index").lexical
    assert lexical.term_ids(terms("Баку", language="ru"))
    assert not lexical.term_ids(terms("в по из", language="ru"))


def test_an_index_of_the_older_tokenizer_is_tokenized_again_without_embedding(tmp_path: Path) -> None:
    import json

    from retrieval.store.lexical import OWN_PARAMS, TOKENIZER
    from retrieval.store.snapshots import current_version

    write(tmp_path / "src" / "ru.txt", ARTICLES["ru.txt"])
    index_dir = tmp_path / "index"
    refresh(index_dir, [tmp_path / "src"], HashingEmbedder(64))
    (current_version(index_dir) / "bm25" / OWN_PARAMS).write_text(json.dumps({"tokenizer": 1}))
    report = refresh(index_dir, [tmp_path / "src"], HashingEmbedder(64))
    assert report.wrote and report.embedded == 0 and report.reused == report.passages
    own = json.loads((current_version(index_dir) / "bm25" / OWN_PARAMS).read_text())
    assert own == {"tokenizer": TOKENIZER}


def test_each_language_has_its_own_stemmer() -> None:
    assert terms("конференции", language="ru") == terms("конференция", language="ru")
    assert terms("Konferenzen", language="de") == terms("Konferenz", language="de")
    assert terms("conferencias", language="es") == terms("conferencia", language="es")
    # Without a language: English stemming of Latin-script words, others untouched.
    assert terms("conferences") == ["confer"] and terms("конференции") == ["конференции"]


def test_highlighting_follows_inflection_in_the_article_language() -> None:
    text = "Конференция по Афганистану прошла в Баку."
    wanted = set(terms("Где прошли конференции?", language="ru"))
    marked = [text[a:b] for a, b in match_spans(text, 0, len(text), wanted, "ru")]
    assert marked == ["Конференция", "прошла"]
