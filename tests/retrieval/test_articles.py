"""Readers for every format, their metadata, and bad input reported per file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval import dates
from retrieval.ingest.articles import dateline_source, load_articles, normalize_date
from retrieval.types import Article, Filters
from tests.conftest import SEEDS, write

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")


def test_seed_txt_gets_source_from_dateline_and_title_from_first_sentence() -> None:
    loaded = load_articles([SEEDS])
    assert not loaded.problems
    [art] = loaded.articles
    assert art.source == "RASC News Agency"
    assert art.title.startswith("Ali Naghiyev, the Chief of Azerbaijan")
    assert len(art.title) <= 91
    assert art.text == SEED_TEXT.strip()
    assert art.path.endswith(".txt")


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("RASC News Agency: Something happened.", "RASC News Agency"),
        ("KABUL (Reuters) - Something happened.", "Reuters"),
        ("Editor's note: this was updated.", ""),
        ("The president said on Monday that taxes rise.", ""),
        ("Reuters - Text of the story.", "Reuters"),
        ("Agence France-Presse - Text.", "Agence France-Presse"),
        ("Reuters — Text.", "Reuters"),
        ("well-known - text follows.", ""),
        ("The mayor - who was re-elected - spoke.", ""),
        ("Reuters-based text.", ""),
    ],
)
def test_dateline_source(text: str, source: str) -> None:
    assert dateline_source(text) == source


def test_markdown_front_matter(tmp_path: Path) -> None:
    write(
        tmp_path / "a.md",
        "---\ntitle: Budget vote\nsource: The Week\nurl: https://example.org/b\n"
        "published: 2023-01-20\nauthor: Jane Roe\n---\n# Budget vote\n\nThe budget passed on Friday.\n",
    )
    [art] = load_articles([tmp_path]).articles
    assert (art.title, art.source, art.url, art.published, art.author) == (
        "Budget vote",
        "The Week",
        "https://example.org/b",
        "2023-01-20",
        "Jane Roe",
    )
    assert "The budget passed on Friday." in art.text
    assert "---" not in art.text


def test_html_main_text_without_tags(tmp_path: Path) -> None:
    body = " ".join(
        f"<p>Paragraph {i} says the mayor of Springfield opened a new bridge.</p>" for i in range(6)
    )
    write(
        tmp_path / "page.html",
        "<html><head><title>Bridge opens</title><meta property='og:site_name' content='Springfield Post'>"
        f"</head><body><nav>Home | Sports</nav><article><h1>Bridge opens</h1>{body}</article></body></html>",
    )
    [art] = load_articles([tmp_path]).articles
    assert "mayor of Springfield" in art.text
    assert "<p>" not in art.text
    assert art.title == "Bridge opens"
    assert art.source == "Springfield Post"


def test_jsonl_like_the_dev_set_and_bad_line_reported(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": "a1",
                "title": "T1",
                "url": "https://www.cnn.com/x",
                "published": "2023/01/05",
                "text": "First.",
            }
        ),
        "{not json",
        json.dumps({"id": "a2", "text": ""}),
        json.dumps({"id": "a3", "text": "Third article."}),
    ]
    write(tmp_path / "arts.jsonl", "\n".join(lines) + "\n")
    loaded = load_articles([tmp_path])
    assert [a.id for a in loaded.articles] == ["a1", "a3"]
    a1 = loaded.articles[0]
    assert (a1.published, a1.source, a1.url) == ("2023-01-05", "cnn.com", "https://www.cnn.com/x")
    reasons = {p.path: p.reason for p in loaded.problems}
    assert any(path.endswith("arts.jsonl:2") and "malformed JSON" in r for path, r in reasons.items())
    assert any("(line 3)" in path and "'text'" in r for path, r in reasons.items())


def test_raw_control_characters_in_json_strings_are_read_not_refused(tmp_path: Path) -> None:
    """A tab or ESC byte pasted into a JSON string is not strict JSON; the article is
    still indexed (the terminal sanitizer deals with the ESC when it is shown)."""
    write(tmp_path / "raw.jsonl", '{"text": "Council met.\tVote \x1b[2J passed."}\n')
    write(tmp_path / "raw.json", '{"text": "Bridge\topens."}')
    loaded = load_articles([tmp_path])
    assert sorted(a.text for a in loaded.articles) == ["Bridge\topens.", "Council met.\tVote \x1b[2J passed."]
    assert loaded.problems == []


def test_json_array_file(tmp_path: Path) -> None:
    write(tmp_path / "x.json", json.dumps([{"text": "One."}, {"text": "Two.", "source": "AP"}]))
    arts = load_articles([tmp_path]).articles
    assert [a.text for a in arts] == ["One.", "Two."]
    assert arts[1].source == "AP"
    assert arts[0].id != arts[1].id


RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Example Wire</title>
<item><title>Dam opens</title><link>https://ex.org/dam</link><guid>dam-1</guid>
<pubDate>Tue, 10 Jan 2023 08:00:00 GMT</pubDate>
<description>&lt;p&gt;The new dam opened in Tashkent &amp;amp; Samarkand.&lt;/p&gt;</description></item>
<item><title>Empty</title><link>https://ex.org/e</link><description></description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<entry><title>Storm</title><id>urn:storm</id><link href="https://ex.org/storm"/>
<updated>2023-01-11T10:00:00Z</updated><content type="html">&lt;p&gt;A storm hit the coast.&lt;/p&gt;</content></entry>
</feed>"""


def test_rss_and_atom_one_article_per_entry(tmp_path: Path) -> None:
    write(tmp_path / "wire.rss", RSS)
    write(tmp_path / "feed.atom", ATOM)
    arts = {a.title: a for a in load_articles([tmp_path]).articles}
    assert set(arts) == {"Dam opens", "Storm"}
    dam = arts["Dam opens"]
    assert dam.text == "The new dam opened in Tashkent & Samarkand."
    assert (dam.source, dam.url, dam.published, dam.id) == (
        "Example Wire",
        "https://ex.org/dam",
        "2023-01-10",
        "dam-1",
    )
    assert arts["Storm"].published == "2023-01-11"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", "", "empty file"),
        ("blank.md", "   \n\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("latin1.txt", "Caf\xe9 au lait".encode("latin-1"), "UTF-8"),
        ("truncated.json", '{"text": "cut off', "malformed JSON"),
        ("broken.rss", "<rss><channel><item><title>x", "feed"),
        ("notext.html", "<html><body><script>var a=1;</script></body></html>", "no article text"),
        ("bad-front.md", "---\ntitle: [unclosed\n---\nBody.", "front matter"),
        ("photo.jpg", b"\xff\xd8\xff", "unsupported"),
    ],
)
def test_bad_files_are_reported_and_skipped(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    write(tmp_path / name, content)
    write(tmp_path / "good.txt", "A good article about the harbour.")
    loaded = load_articles([tmp_path])
    assert [a.text for a in loaded.articles] == ["A good article about the harbour."]
    [problem] = loaded.problems
    assert problem.path.endswith(name)
    assert reason.lower() in problem.reason.lower()


def test_duplicates_indexed_once(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Same text here.")
    write(tmp_path / "sub" / "b.txt", "Same text here.")
    loaded = load_articles([tmp_path])
    assert len(loaded.articles) == 1
    assert len(loaded.duplicates) == 1
    assert "same text as" in loaded.duplicates[0].reason


def test_hidden_files_ignored_and_ids_from_relative_paths(tmp_path: Path) -> None:
    write(tmp_path / ".DS_Store", b"\x00\x01")
    write(tmp_path / "2023" / "jan" / "x.txt", "An article.")
    loaded = load_articles([tmp_path])
    assert not loaded.problems
    assert loaded.articles[0].id == "2023/jan/x"


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2023/01/05", "2023-01-05"),
        ("2023-1-5", "2023-01-05"),
        ("Tue, 10 Jan 2023 08:00:00 GMT", "2023-01-10"),
        ("2023-05-09T23:30:00-05:00", "2023-05-09"),  # the day as written, no zone shift
        ("9 May 2023", "2023-05-09"),
        ("20230509", "2023-05-09"),
        ("2020", "2020"),  # a year stays a year
        ("May 2020", "2020-05"),
        ("2020-05", "2020-05"),
        ("Tuesday", ""),  # nothing is filled in from today
        ("10", ""),
        ("May", ""),
        ("Feb 29", ""),
        ("2023-02-30", ""),
        ("", ""),
        ("soon", ""),
        ("0999", ""),
    ],
)
def test_normalize_date(value: str, iso: str) -> None:
    assert normalize_date(value) == iso
    assert dates.normalize_date(value) == iso  # retrieval.ingest.articles re-exports it


def test_impossible_dates_say_why() -> None:
    for value in ("2023-02-30", "30 February 2023", "2023-13-01"):
        iso, warning = dates.read_date(value)
        assert iso == ""
        assert warning == f"published date {value} is not a real date; indexed without a date"
    assert dates.read_date("Tuesday") == ("", "")


@pytest.mark.parametrize(
    ("published", "span"),
    [
        ("2020", (date(2020, 1, 1), date(2020, 12, 31))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2023-05-09", (date(2023, 5, 9), date(2023, 5, 9))),
        ("", None),
        ("May", None),
        ("2023-02-30", None),
    ],
)
def test_published_span(published: str, span: tuple[date, date] | None) -> None:
    assert dates.published_span(published) == span


def test_filters_accept_a_partial_date_whose_span_overlaps() -> None:
    year = Article(id="y", text="x", published="2020")
    month = Article(id="m", text="x", published="2020-05")
    undated = Article(id="u", text="x")
    june = Filters(since=date(2020, 6, 1), until=date(2020, 6, 30))
    assert june.accepts(year) and not june.accepts(month) and not june.accepts(undated)
    assert Filters(since=date(2020, 5, 31)).accepts(month)
    assert not Filters(since=date(2021, 1, 1)).accepts(year)
    assert not Filters(until=date(2019, 12, 31)).accepts(year)
    assert Filters(until=date(2020, 1, 1)).accepts(year)


def test_an_impossible_front_matter_date_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\ntitle: T\npublished: 2023-02-30\n---\nThe vote passed.\n")
    write(tmp_path / "b.md", "---\npublished: 2023-05-09\ndate: 2020\n---\nAnother vote passed.\n")
    write(tmp_path / "c.md", "---\npublished: 2020\n---\nA year-only article.\n")
    loaded = load_articles([tmp_path])
    assert [(a.text, a.published) for a in loaded.articles] == [
        ("The vote passed.", ""),
        ("Another vote passed.", "2023-05-09"),
        ("A year-only article.", "2020"),
    ]
    [problem] = loaded.problems
    assert problem.path == str(tmp_path / "a.md") and problem.warning
    assert problem.reason == "published date 2023-02-30 is not a real date; indexed without a date"


def test_nul_characters_are_removed_for_every_store(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", json.dumps({"text": "a \u0000 b\u0000c", "title": "T\u0000itle"}))
    write(tmp_path / "b.txt", "x" * 9000 + " late \x00 NUL.")  # past the binary sniff
    arts = load_articles([tmp_path]).articles
    assert (arts[0].text, arts[0].title) == ("a  bc", "Title")
    assert arts[1].text.endswith(" late  NUL.")
