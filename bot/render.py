"""Answers as terminal text (rich) and as plain dicts for ``--json``.

Text from articles and questions reaches the terminal only through
:mod:`bot.terminal` and as ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from rich.console import Group
from rich.text import Text

from bot.terminal import clean
from bot.terminal import text as terminal_text
from retrieval.types import Answer, Article, Copy, Quote

ELLIPSIS = "…"


def quote_json(q: Quote) -> dict[str, Any]:
    a = q.article
    return {
        "text": q.text,
        "article_id": a.id,
        "title": a.title,
        "source": a.source,
        "published": a.published,
        "url": a.url,
        "link": q.link,
        "path": a.path,
        "language": a.language,
        "note": a.note,
        "score": q.score,
        "start": q.start,
        "end": q.end,
        "also": [copy_json(c) for c in q.also],
    }


def copy_json(c: Copy) -> dict[str, str]:
    return {
        "article_id": c.article_id,
        "source": c.source,
        "title": c.title,
        "url": c.url,
        "published": c.published,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    data: dict[str, Any] = {
        "question": answer.question,
        "answered": answer.answered,
        "quotes": [quote_json(q) for q in answer.quotes],
    }
    data["short"] = (
        {
            "text": answer.short.text,
            "article_id": answer.short.article_id,
            "start": answer.short.start,
            "end": answer.short.end,
        }
        if answer.short is not None
        else None
    )
    data["confidence"] = answer.confidence
    if answer.notice:
        data["notice"] = answer.notice
    if answer.searched_as:
        data["searched_as"] = dict(answer.searched_as)
    return data


def source_line(article: Article, link: str = "") -> str:
    """ "RASC News Agency · Title · 2023-05-09 · https://…" (missing parts left out);
    ``link``: where to read it (a quote's :attr:`~retrieval.types.Quote.link`), else its URL.

    Every part is cleaned for a terminal (:func:`bot.terminal.clean`, one line).
    """
    where = link or article.url or article.path
    parts = [article.source, f"“{article.title}”" if article.title else "", article.published, where]
    if article.language:
        parts.append(f"[{article.language}]")
    if article.note:
        parts.append(f"({article.note})")
    return " · ".join(clean(p, one_line=True) for p in parts if p)


def also_line(copies: tuple[Copy, ...]) -> str:
    """ "also reported by AP, Reuters, NPR" ("" without copies); names cleaned for a terminal."""
    names = [clean(c.outlet or c.title or c.article_id, one_line=True) for c in copies]
    return "also reported by " + ", ".join(names) if names else ""


def quote_text(q: Quote, *, highlight: bool = True) -> Text:
    """The quote with ellipses where it was cut, question words in bold.

    Styles are set piece by piece on the original offsets, then each piece is
    cleaned: shown control characters may change its length, never its styles.
    """
    text = Text()
    if q.cut_before:
        text.append(ELLIPSIS + " ", style="dim")
    body = " ".join(q.text.split("\n"))
    marks = {0, len(body)}
    spans = [(a - q.start, b - q.start) for a, b in q.matches] if highlight else []
    focus = (q.focus[0] - q.start, q.focus[1] - q.start) if highlight else (0, 0)
    for a, b in [*spans, focus]:
        marks.update(x for x in (a, b) if 0 <= x <= len(body))
    cuts = sorted(marks)
    for a, b in pairwise(cuts):
        styles = []
        if any(x <= a and b <= y for x, y in spans):
            styles.append("bold yellow")
        if focus[0] <= a and b <= focus[1]:
            styles.append("italic")
        text.append(clean(body[a:b]), style=" ".join(styles))
    if q.cut_after:
        text.append(" " + ELLIPSIS, style="dim")
    return text


def answer_renderable(answer: Answer, *, start_number: int = 1) -> Group:
    parts: list[Text] = []
    if answer.short is not None:  # the answer itself, verbatim from the first quote
        line = Text("Answer: ", style="bold")
        line.append_text(terminal_text(answer.short.text, "bold", one_line=True))
        parts.append(line)
    if answer.notice:
        parts.append(terminal_text(answer.notice, "yellow"))
    if not answer.answered and answer.quotes:
        parts.append(Text("Low confidence — nearest passages (not an answer):", style="dim"))
    n = start_number
    for article, quotes in answer.by_article():
        for q in quotes:
            line = Text(f"{n}. ", style="bold cyan")
            line.append_text(quote_text(q))
            parts.append(line)
            n += 1
        parts.append(
            Text(
                "   — "
                + source_line(article, quotes[0].link)
                + f"  (score {max(q.score for q in quotes):.2f})",
                style="green",
            )
        )
        also = also_line(quotes[0].also)
        if also:
            parts.append(Text("     " + also, style="dim green"))
        parts.append(Text(""))
    return Group(*parts)
