"""Telegram HTML rendering: escaping, bold question words, splitting under 4096."""

from __future__ import annotations

import random
import re

import pytest

from bot import render_telegram as tg
from retrieval.archive import Archive
from retrieval.types import Answer, Article, Quote
from tests.bot.tg_html import BadHtml, utf16_len, visible_text


def _words(text: str) -> list[str]:
    return text.split()


def test_quote_bolds_the_question_words_and_escapes_the_rest() -> None:
    text = "Tom & Jerry met <b>Spike</b> in Baku on Tuesday."
    art = Article(
        id="a", text=text, title="T", source="X & Y", published="2023-05-09", url="https://e.org/?a=1&b=2"
    )
    baku = text.index("Baku")
    quote = Quote(art, 0, len(text), score=1.0, focus=(0, len(text)), matches=((baku, baku + 4),))
    out = tg.quote_html(quote)
    assert out.startswith("<blockquote>") and out.endswith("</blockquote>")
    assert "<b>Baku</b>" in out
    assert "Tom &amp; Jerry met &lt;b&gt;Spike&lt;/b&gt;" in out
    assert visible_text(out) == text
    src = tg.source_html(art, 2)
    assert src.startswith("[2] <b>X &amp; Y</b>")
    assert 'href="https://e.org/?a=1&amp;b=2"' in src
    visible_text(src)
    assert "[" not in src[3:]  # no language detected: none shown
    russian = Article(id="r", text="Текст.", title="Заголовок", source="ТАСС", language="ru")
    assert tg.source_html(russian).endswith(" · [ru]")


def test_adjacent_matches_share_one_bold_and_cut_quotes_get_ellipses() -> None:
    text = "Intro. The State Security Service chief spoke. Outro."
    art = Article(id="a", text=text)
    words = [(m.start(), m.end()) for m in re.finditer(r"State|Security|Service", text)]
    start, end = text.index("The"), text.index("Outro") - 1
    quote = Quote(art, start, end, score=1.0, focus=(start, end), matches=tuple(words))
    out = tg.quote_html(quote)
    assert "<b>State Security Service</b>" in out
    assert visible_text(out).startswith("… The") and visible_text(out).endswith("spoke. …")


def _random_html(rng: random.Random, size: int) -> str:
    """Escaped text with bold words, links and quotes, paragraphs, emoji and entities."""
    blocks = []
    while sum(map(len, blocks)) < size:
        words = []
        for _ in range(rng.randint(5, 400)):
            w = rng.choice(["news", "Baku", "A&B", "<tag>", "x>y", "😀", "conférence", "word", "end."])
            w = tg.esc(w)
            r = rng.random()
            if r < 0.1:
                w = f"<b>{w}</b>"
            elif r < 0.13:
                w = f'<a href="https://e.org/?q={rng.randint(1, 9)}&amp;x=1">{w}</a>'
            words.append(w)
        body = " ".join(words)
        blocks.append(f"<blockquote>{body}</blockquote>" if rng.random() < 0.5 else body)
    return rng.choice(["\n", "\n\n", " "]).join(blocks)


@pytest.mark.parametrize("seed", range(12))
def test_split_parts_fit_balance_and_lose_no_text(seed: int) -> None:
    rng = random.Random(seed)
    source = _random_html(rng, rng.choice([3000, 9000, 30000]))
    limit = rng.choice([tg.LIMIT, 700, 200])
    parts = tg.split_html(source, limit)
    for part in parts:
        assert utf16_len(part) <= limit
        visible_text(part)  # raises on unbalanced tags, bad entities, tags cut in two
    assert _words(" ".join(visible_text(p) for p in parts)) == _words(visible_text(source))
    if utf16_len(source) > limit:
        assert len(parts) > 1


def test_split_prefers_paragraphs_and_never_leaves_an_empty_tag() -> None:
    paragraphs = [f"Paragraph {n}: " + "word " * 150 for n in range(8)]
    parts = tg.split_html("\n".join(paragraphs), 2000)
    for part in parts:
        assert part.startswith("Paragraph"), part[:40]
    quotes = "\n".join(f"<blockquote>{'<b>bold</b> text ' * 60}</blockquote>" for _ in range(6))
    for part in tg.split_html(quotes, 1500):
        visible_text(part)
        assert "<b></b>" not in part and "<blockquote></blockquote>" not in part


def test_a_word_longer_than_a_message_is_cut_but_entities_are_not() -> None:
    text = "&amp;" * 3000  # one "word" of 3000 ampersands, 15000 characters of HTML
    parts = tg.split_html(text, tg.LIMIT)
    assert all(utf16_len(p) <= tg.LIMIT for p in parts)
    assert "".join(visible_text(p) for p in parts) == "&" * 3000


def test_emoji_count_twice_towards_the_limit() -> None:
    text = "😀 " * 3000
    for part in tg.split_html(text, tg.LIMIT):
        assert utf16_len(part) <= tg.LIMIT
    assert len(tg.split_html(text, tg.LIMIT)) == 3  # 9000 UTF-16 units, not 6000 characters


def test_checker_rejects_what_telegram_would() -> None:
    for bad in ["<b>x", "x</b>", "<b><i>x</b></i>", "a < b", "AT&T", "<script>x</script>", "&nbsp;"]:
        with pytest.raises(BadHtml):
            visible_text(bad)


def test_a_long_answer_is_split_at_quote_boundaries(archive: Archive) -> None:
    answer = archive.ask("glacier survey ice thickness station northern ridge", k=5)
    assert any(len(q.text) > 3000 for q in answer.quotes)
    parts = tg.answer_parts(answer)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= tg.LIMIT
        visible_text(part)
    joined = " ".join(_words(" ".join(visible_text(p) for p in parts)))
    assert "Polar Notes" in joined
    for q in answer.quotes:
        assert " ".join(_words(q.text)) in joined  # every quote whole, split only between words


def test_a_long_article_is_sent_in_parts(archive: Archive) -> None:
    article = next(a for a in archive.articles() if a.source == "Polar Notes")
    parts = tg.article_parts(article, 1)
    assert len(parts) >= 3
    for part in parts:
        assert utf16_len(part) <= tg.LIMIT
        visible_text(part)
    assert _words(" ".join(visible_text(p) for p in parts)).count("glacier") == article.text.count("glacier")


def test_answer_with_nothing_found_says_so() -> None:
    empty = Answer("q", (), answered=False, notice="The archive holds nothing matching that question.")
    (part,) = tg.answer_parts(empty)
    assert "nothing matching" in visible_text(part)


# --------------------------------------------------------------------------- hostile input

_HREF = re.compile(r'<a href="([^"]*)">')
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_PIECES = [
    "news",
    "Baku",
    "A&B",
    "<tag>",
    '"quoted"',
    "it's",
    "😀",
    "\x1b[2J",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\u202e",
    "\x00",
    "\ud800",
    "\x9b",
    "[/]",
    "&amp;",
    "end.",
    "\n",
    "x" * 300,
]


def _junk(rng: random.Random, words: int, *, surrogates: bool = True) -> str:
    """Hostile words; an article's text never holds a lone surrogate (the readers clean it)."""
    pieces = _PIECES if surrogates else [p for p in _PIECES if p != "\ud800"]
    return " ".join(rng.choice(pieces) for _ in range(words))


def _url(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "https://example.org/" + "a" * rng.choice([10, 1990, 4100, 9000])
    if kind == 1:
        return rng.choice(
            ["javascript:alert(1)", "tg://resolve?domain=x", "data:text/html,<b>x</b>", "file:///etc"]
        )
    if kind == 2:
        return "https://e.org/" + _junk(rng, 5)
    if kind == 3:
        return "http://[::1"  # not even parseable
    return rng.choice(["", "https://www.example.org/news?a=1&b=<2>"])


def _random_answer(rng: random.Random) -> Answer:
    quotes = []
    for n in range(rng.randint(1, 4)):
        text = _junk(rng, rng.choice([3, 50, 400]), surrogates=False)
        art = Article(
            id=f"a{n}",
            text=text,
            title=_junk(rng, rng.choice([0, 3, 400])),
            source=_junk(rng, rng.choice([0, 2, 200])),
            published=rng.choice(["", "2020", "2023-05-09"]),
            url=_url(rng),
            language=rng.choice(["", "en"]),
        )
        a, b = sorted(rng.sample(range(len(text) + 1), 2))
        matches = tuple(
            sorted((x, x + rng.randint(1, 9)) for x in rng.sample(range(a, b + 1), min(3, b - a + 1)))
        )
        quotes.append(Quote(art, a, b, score=0.5, focus=(a, b), matches=matches))
    return Answer("q", tuple(quotes), answered=True, notice=_junk(rng, 3) if rng.random() < 0.3 else "")


@pytest.mark.parametrize("seed", range(30))
def test_no_text_breaks_an_answer(seed: int) -> None:
    rng = random.Random(seed)
    answer = _random_answer(rng)
    for limit in (tg.LIMIT, 700, 120, tg.MIN_LIMIT):
        parts = tg.answer_parts(answer, limit=limit)
        assert parts
        for part in parts:
            assert utf16_len(part) <= limit
            visible_text(part)  # valid Telegram HTML
            assert not _CONTROLS.search(part), repr(part[:200])
            for href in _HREF.findall(part):
                assert re.match(r"https?://", href) and len(href) <= tg.MAX_URL * 6
    for part in tg.sources_parts(
        [tg.SourceEntry(q.article, n, 1) for n, q in enumerate(answer.quotes, 1)], "q"
    ):
        visible_text(part)
        assert utf16_len(part) <= tg.LIMIT
    for q in answer.quotes:
        visible_text(tg.inline_message("question \x1b[2J", q))
        assert not _CONTROLS.search(tg.snippet(q.text))


def test_only_short_http_urls_become_links() -> None:
    long_url = "https://example.org/" + "a" * 4100
    cases = {
        long_url: "<i>T</i>",
        "javascript:alert(1)": "<i>T</i>",
        "tg://resolve?domain=evil": "<i>T</i>",
        "https://example.org/x": '<a href="https://example.org/x">T</a>',
        "HTTP://EXAMPLE.ORG/x": '<a href="HTTP://EXAMPLE.ORG/x">T</a>',
    }
    for url, shown in cases.items():
        assert tg.source_html(Article(id="a", text="x", title="T", url=url)) == shown
    untitled = tg.source_html(Article(id="a", text="x", url=long_url))
    assert untitled == "<i>example.org</i>"
    assert tg.source_html(Article(id="a", text="x", url="javascript:alert(1)")) == "a"  # the id, no link
    text = "Council " * 600
    art = Article(id="a", text=text, title="T", url=long_url)
    parts = tg.answer_parts(Answer("q", (Quote(art, 0, len(text), 1.0, (0, len(text))),), answered=True))
    assert all(utf16_len(p) <= tg.LIMIT for p in parts) and "href" not in "".join(parts)


def test_escape_sequences_are_stripped_and_html_stays_escaped() -> None:
    text = "Council met. \x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 <b>Vote</b> \u202epassed."
    art = Article(id="a", text=text, title="T\x1b[31m", source="Wire\x07")
    out = tg.quote_html(Quote(art, 0, len(text), 1.0, (0, len(text))))
    assert visible_text(out) == "Council met. [2J]8;;https://evil.exampleclick]8;; <b>Vote</b> passed."
    assert tg.source_html(art) == "<b>Wire</b> · <i>T[31m</i>"


def _wire_answer(n_copies: int, *, url: str = "https://wire.example/story?id=1&x=2") -> Answer:
    from retrieval.types import Copy

    text = "The Senate approved the bridge bill on Thursday."
    art = Article(id="ap", text=text, title="Bridges", source="AP", url="https://apnews.com/a")
    also = tuple(
        Copy(f"c{i}", source=f"Outlet <{i}> & Co", url=url if i % 2 == 0 else "javascript:alert(1)")
        for i in range(n_copies)
    )
    return Answer("q", (Quote(art, 0, len(text), 1.0, (0, len(text)), also=also),), answered=True)


def test_the_other_copies_of_a_story_follow_the_source_line_escaped_and_linked() -> None:
    part = tg.answer_parts(_wire_answer(3))[0]
    source, also = part.split("\n")[-2:]
    assert source.startswith("[1] <b>AP</b>")
    assert also == (
        'also reported by <a href="https://wire.example/story?id=1&amp;x=2">Outlet &lt;0&gt; &amp; Co</a>, '
        'Outlet &lt;1&gt; &amp; Co, <a href="https://wire.example/story?id=1&amp;x=2">Outlet &lt;2&gt; &amp; Co</a>'
    )
    assert visible_text(also) == "also reported by Outlet <0> & Co, Outlet <1> & Co, Outlet <2> & Co"
    assert "javascript" not in part
    assert "also reported" not in tg.answer_parts(_wire_answer(0))[0]


def test_a_story_with_forty_copies_stays_within_the_limit() -> None:
    long_url = "https://wire.example/" + "a" * 1900
    parts = tg.answer_parts(_wire_answer(40, url=long_url))
    assert len(parts) > 1
    for p in parts:
        assert utf16_len(p) <= tg.LIMIT
        visible_text(p)
    seen = visible_text("\n".join(parts))
    names = re.findall(r"Outlet <(\d+)>", seen)
    assert names == [str(i) for i in range(tg.ALSO_SHOWN)] and seen.rstrip().endswith("and 30 more")


def test_a_short_answer_leads_in_bold_and_a_decline_marks_its_passages() -> None:
    from retrieval.types import ShortAnswer

    article = Article(
        id="s", text="The summit drew officials from 20 countries & more.", source="Summit <News>"
    )
    quote = Quote(article, 0, len(article.text), score=0.8, focus=(0, len(article.text)))
    short = ShortAnswer("20", "s", 31, 33, "number")
    parts = tg.answer_parts(Answer("How many?", (quote,), answered=True, short=short))
    assert parts[0].startswith("<b>20</b>\n\n<blockquote>")
    declined = tg.answer_parts(Answer("How many?", (quote,), answered=False, notice="No clear answer."))
    assert "<i>No clear answer.</i>\n\n<i>Nearest passages (not an answer):</i>" in declined[0]
    assert "&amp; more" in declined[0]


def test_an_inline_result_with_an_overlong_quote_posts_its_beginning_and_source() -> None:
    """A quote longer than one message is cut at a break, never dropped."""
    text = " ".join(f"Station {n} measured the ice near the northern ridge." for n in range(600))
    article = Article(id="g", text=text, title="Glacier survey", source="Polar Notes", language="en")
    message = tg.inline_message("How thick is the ice?", Quote(article, 0, len(text), 1.0, (0, 60)))
    shown = visible_text(message)
    assert utf16_len(message) <= tg.LIMIT and "<blockquote>" in message
    assert shown.startswith("❓ How thick is the ice?") and "Station 0 measured" in shown
    assert "Polar Notes" in shown and "Station 599" not in shown
