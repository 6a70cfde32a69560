"""A quote's link opens the article at the quote (a text fragment), in every interface."""

from __future__ import annotations

from urllib.parse import unquote

from bot.render import quote_json
from bot.render_telegram import answer_blocks
from retrieval.types import Answer, Article, Quote
from retrieval.urls import text_fragment_link

TEXT = "Intro. The summit, held in Baku - a first - drew 20 countries & more. Outro follows here."


def test_a_short_quote_is_named_whole() -> None:
    link = text_fragment_link("https://example.com/a", "held in Baku, today")
    assert link == "https://example.com/a#:~:text=held%20in%20Baku%2C%20today"


def test_a_long_quote_is_named_by_its_first_and_last_words() -> None:
    quoted = "The summit, held in Baku - a first - drew 20 countries & more."
    link = text_fragment_link("https://example.com/a?x=1", quoted)
    base, directive = link.split("#:~:text=")
    assert base == "https://example.com/a?x=1"
    start, end = directive.split(",")
    assert unquote(start) == "The summit, held in" and unquote(end) == "20 countries & more."
    assert "-" not in directive.replace("%2D", "") and "&" not in directive and " " not in directive


def test_a_fragment_already_there_is_kept_and_only_web_links_get_one() -> None:
    assert text_fragment_link("https://example.com/a#top", "x y").startswith(
        "https://example.com/a#top:~:text="
    )
    assert text_fragment_link("https://example.com/a#:~:text=old", "x y").endswith("#:~:text=x%20y")
    assert text_fragment_link("seeds/a.txt", "x y") == "seeds/a.txt"
    assert text_fragment_link("https://example.com/a", "   ") == "https://example.com/a"


def _quote(url: str = "https://news.example/story", path: str = "") -> Quote:
    article = Article(id="a", text=TEXT, title="Summit", source="Wire", url=url, path=path, language="en")
    start = TEXT.index("The summit")
    end = TEXT.index(" Outro")
    return Quote(article, start, end, score=0.9, focus=(start, end))


def test_json_and_telegram_link_to_the_quote_and_files_keep_their_path() -> None:
    quote = _quote()
    data = quote_json(quote)
    assert data["url"] == "https://news.example/story"
    assert data["link"].startswith("https://news.example/story#:~:text=The%20summit%2C%20held%20in,")
    html = "\n".join(answer_blocks(Answer("q", (quote,), answered=True)))
    assert 'href="https://news.example/story#:~:text=The%20summit' in html
    assert quote_json(_quote(url="", path="seeds/a.txt"))["link"] == "seeds/a.txt"
