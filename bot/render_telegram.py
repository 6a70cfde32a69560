"""Answers as Telegram HTML messages: pure functions from results to message parts.

Every piece of article text is HTML-escaped and cleaned (:func:`plain`: control
characters, ESC sequences' ESC and bidi overrides removed, lone surrogates made
U+FFFD); quotes are ``<blockquote>``, question words in them ``<b>``. Only http(s)
URLs of at most :data:`MAX_URL` characters become links; other URLs are left out.
Each part is at most :data:`LIMIT` characters (counted in UTF-16 code units, as
Telegram counts) and is valid HTML on its own: long text is split at paragraph,
quote or sentence boundaries, and a tag open at a split is closed at the end of one
part and opened again at the start of the next. No text makes splitting fail: when
tags leave no room, the rest of a block is sent as plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram.constants import MessageLimit

from retrieval.store import StoreStats
from retrieval.types import Answer, Article, Copy, Quote
from retrieval.urls import host_of

LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
ELLIPSIS = "…"
BULLET = "•"
#: Telegram shows at most this many characters of an inline result's description
SNIPPET_CHARS = 160
#: longer URLs are not linked (the source line shows the title or host instead)
MAX_URL = 2000
#: the smallest part :func:`split_html` can cut text into
MIN_LIMIT = 16
#: outlets named in an "also reported by" line (the rest are counted)
ALSO_SHOWN = 10

# C0 controls but newline and tab, DEL, C1 controls, bidi embeddings/overrides/isolates
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_HTTP_URL = re.compile(r"\Ahttps?://[^\s/?#]", re.I)  # with a host


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def plain(text: str) -> str:
    """Text safe to send: control characters and bidi overrides removed, lone
    surrogates (which are not UTF-8) made U+FFFD. For text sent without HTML, too."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def esc(text: str) -> str:
    """Text for a message body: :func:`plain`, then ``<``, ``>`` and ``&`` escaped."""
    return html.escape(plain(text), quote=False)


def attr(text: str) -> str:
    """Text for an attribute value (also escapes quotes)."""
    return html.escape(plain(text), quote=True)


def link_url(url: str) -> str:
    """``url`` when it may be a link: http(s), with a host, no spaces or control
    characters, at most :data:`MAX_URL` characters; else ""."""
    if len(url) > MAX_URL or not _HTTP_URL.match(url) or _CONTROL.search(url) or re.search(r"\s", url):
        return ""
    return url


# --------------------------------------------------------------------------- pieces


def quote_html(q: Quote) -> str:
    """The quote as a ``<blockquote>``, question words bold, ellipses where it was cut."""
    text = q.article.text
    spans = _merged(
        [(max(a, q.start), min(b, q.end)) for a, b in sorted(q.matches) if b > q.start and a < q.end], text
    )
    out: list[str] = []
    pos = q.start
    for a, b in spans:
        out.append(esc(text[pos:a]))
        out.append(f"<b>{esc(text[a:b])}</b>")
        pos = b
    out.append(esc(text[pos : q.end]))
    body = "".join(out).strip()
    if q.cut_before:
        body = f"{ELLIPSIS} {body}"
    if q.cut_after:
        body = f"{body} {ELLIPSIS}"
    return f"<blockquote>{body}</blockquote>"


def _merged(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join bold spans separated only by spaces ("State Security Service" in one ``<b>``)."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if a >= b:
            continue
        if out and (a <= out[-1][1] or not text[out[-1][1] : a].strip(" ")):
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def source_html(article: Article, number: int | None = None, link: str = "") -> str:
    """``[1] <b>Outlet</b> · <a href="…">Title</a> · 2023-05-09 · [en]`` (missing parts left out);
    ``link``: the URL to open (a quote's, at the quote), else the article's."""
    title = article.title or ""
    url = link_url(link) or link_url(article.url)
    label = title or (host_of(article.url) if _HTTP_URL.match(article.url) else "")
    if url and label:
        link = f'<a href="{attr(url)}">{esc(label)}</a>'
    else:
        link = f"<i>{esc(label)}</i>" if label else ""
    parts = [f"<b>{esc(article.source)}</b>" if article.source else "", link, esc(article.published)]
    if article.language:
        parts.append(f"[{esc(article.language)}]")
    if article.note:
        parts.append(f"<i>({esc(article.note)})</i>")
    line = " · ".join(p for p in parts if p) or esc(article.id)
    return f"[{number}] {line}" if number is not None else line


def also_html(copies: Sequence[Copy], shown: int = ALSO_SHOWN) -> str:
    """``also reported by <a href="…">AP</a>, Reuters and 3 more`` ("" without copies); an
    outlet is linked to its copy when that URL may be a link."""
    names = []
    for c in copies[:shown]:
        name = esc(c.outlet or c.title or c.article_id)
        url = link_url(c.url)
        names.append(f'<a href="{attr(url)}">{name}</a>' if url else name)
    if not names:
        return ""
    line = "also reported by " + ", ".join(names)
    rest = len(copies) - shown
    return f"{line} and {rest} more" if rest > 0 else line


# --------------------------------------------------------------------------- answers


def answer_blocks(answer: Answer, numbers: dict[str, int] | None = None, *, header: str = "") -> list[str]:
    """Blocks of an answer: notice, then per article its quotes followed by its source line.

    ``numbers`` maps article id → the source number shown (and used by the buttons);
    articles missing from it are numbered in order of appearance.
    """
    numbers = dict(numbers or {})
    blocks: list[str] = []
    if header:
        blocks.append(header)
    if answer.short is not None:  # the answer itself, verbatim from the first quote
        blocks.append(f"<b>{esc(answer.short.text)}</b>")
    if answer.notice:
        blocks.append(f"<i>{esc(answer.notice)}</i>")
    if not answer.answered and answer.quotes:
        blocks.append("<i>Nearest passages (not an answer):</i>")
    for article, quotes in answer.by_article():
        number = numbers.setdefault(article.id, len(numbers) + 1)
        rendered = [quote_html(q) for q in quotes]
        # The source line travels with the article's last quote, never alone.
        rendered[-1] = f"{rendered[-1]}\n{source_html(article, number, quotes[0].link)}"
        also = also_html(quotes[0].also)
        if also:
            rendered[-1] += f"\n{also}"
        blocks.extend(rendered)
    return blocks


def answer_parts(
    answer: Answer, numbers: dict[str, int] | None = None, *, header: str = "", limit: int = LIMIT
) -> list[str]:
    """The answer as messages, each ≤ ``limit`` and valid Telegram HTML."""
    blocks = answer_blocks(answer, numbers, header=header)
    if not blocks:
        blocks = ["<i>Nothing found.</i>"]
    return pack(blocks, limit)


def inline_message(question: str, quote: Quote, limit: int = LIMIT) -> str:
    """What an inline result posts into the chat: the question, one quote, its source."""
    head = f"❓ <i>{esc(question)}</i>" if question else ""
    body, source = quote_html(quote), source_html(quote.article, link=quote.link)
    parts = pack([b for b in (head, body + "\n" + source) if b], limit)
    if len(parts) == 1:
        return parts[0]
    # Too long for one message: the quote's beginning (cut at a break), then its source.
    room = limit - tg_len(head) - tg_len("\n\n") - tg_len("\n") - tg_len(source)
    if room < MIN_LIMIT:
        return parts[0]
    return "\n\n".join(b for b in (head, split_html(body, room)[0] + "\n" + source) if b)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Plain one-line text, cut at a word (for inline result descriptions)."""
    flat = " ".join(plain(text).split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(",;:") + ELLIPSIS


# --------------------------------------------------------------------------- topic alerts


def alert_block(
    topic: str, quote: Quote, also: Sequence[Article] = (), number: int | str | None = None
) -> str:
    """One alert: the topic, the quote (matching words bold), its source; the outlets of
    other copies of the story after it."""
    numbered = f"[{number}] " if number is not None else ""
    lines = [
        f"🔔 <b>{esc(topic)}</b>",
        quote_html(quote),
        numbered + source_html(quote.article, link=quote.link),
    ]
    outlets = list(dict.fromkeys(a.source or a.title or a.id for a in also))
    if outlets:
        lines.append(
            "<i>Also in: "
            + esc(", ".join(outlets[:8]))
            + (f" and {len(outlets) - 8} more" if len(outlets) > 8 else "")
            + "</i>"
        )
    return "\n".join(lines)


def alert_parts(blocks: Sequence[str], header: str = "", limit: int = LIMIT) -> list[str]:
    """Alerts as messages, each at most ``limit`` and valid Telegram HTML."""
    return pack([header, *blocks] if header else list(blocks), limit)


# --------------------------------------------------------------------------- other messages


def article_parts(article: Article, number: int | None = None, limit: int = LIMIT) -> list[str]:
    """A whole article: title and source, then its paragraphs."""
    head = f"<b>{esc(article.title)}</b>\n" if article.title else ""
    blocks = [head + source_html(article, number)]
    blocks += [esc(p.strip()) for p in article.text.split("\n") if p.strip()]
    return pack(blocks, limit)


@dataclass(frozen=True)
class SourceEntry:
    article: Article
    number: int
    quotes: int


def sources_parts(entries: Sequence[SourceEntry], question: str, limit: int = LIMIT) -> list[str]:
    blocks = [f"Sources for <i>{esc(question)}</i>:"]
    for e in entries:
        count = f"{e.quotes} quote" + ("s" if e.quotes != 1 else "")
        blocks.append(f"{source_html(e.article, e.number)} ({count})")
    return pack(blocks, limit, sep="\n")


def outlets_line(stats: StoreStats, shown: int = 6) -> str:
    names = [esc(name) for name, _ in stats.sources[:shown]]
    rest = len(stats.sources) - shown
    if rest > 0:
        names.append(f"and {rest} more")
    return ", ".join(names)


def date_range(stats: StoreStats) -> str:
    if not stats.first_published:
        return ""
    if stats.first_published == stats.last_published:
        return f"published {esc(stats.first_published)}"
    return f"published {esc(stats.first_published)} – {esc(stats.last_published)}"


def help_html(
    stats: StoreStats,
    examples: Iterable[str],
    commands: Iterable[tuple[str, str]],
    *,
    bot_username: str = "",
) -> str:
    """/start and /help: what the archive holds, example questions, commands."""
    outlets = len(stats.sources)
    knows = f"I know <b>{stats.articles}</b> article" + ("s" if stats.articles != 1 else "")
    if outlets:
        knows += f" from <b>{outlets}</b> outlet" + ("s" if outlets != 1 else "")
        knows += f" ({outlets_line(stats)})"
    when = date_range(stats)
    if when:
        knows += f", {when}"
    lines = [
        "I answer questions about the news with <b>exact quotes</b> from the articles I hold, "
        "and say where each quote comes from.",
        "",
        knows + ".",
    ]
    ex = list(examples)
    if ex:
        lines += ["", "Ask me anything, for example:"]
        lines += [f"{BULLET} <i>{esc(q)}</i>" for q in ex]
    lines += ["", "Commands:"]
    lines += [f"/{name} — {esc(text)}" for name, text in commands]
    if bot_username:
        lines += [
            "",
            f"In groups, mention me (@{esc(bot_username)} question), reply to me or use /ask. "
            f"In any chat, type @{esc(bot_username)} and a question to share a quote.",
        ]
    return "\n".join(lines)


def stats_html(stats: StoreStats) -> str:
    rows = [
        ("Articles", str(stats.articles)),
        (
            "Passages",
            str(stats.passages) + (f" ({stats.sentences} sentence vectors)" if stats.sentences else ""),
        ),
        ("Outlets", f"{len(stats.sources)}" + (f" ({outlets_line(stats, 10)})" if stats.sources else "")),
        ("Published", f"{esc(stats.first_published or '?')} – {esc(stats.last_published or '?')}"),
        ("Languages", ", ".join(f"{esc(lang)} ({n})" for lang, n in stats.languages) or "-"),
        ("Model", esc(stats.model)),
        ("Index built", esc(stats.created[:19].replace("T", " ")) + " UTC"),
    ]
    return "\n".join(f"<b>{name}:</b> {value}" for name, value in rows)


# --------------------------------------------------------------------------- splitting

# A tag, an entity, or one character.
_ATOM = re.compile(r"<[^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);|[\s\S]", re.S)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")
_SENTENCE_END = '.!?…:;"”’)'


def pack(blocks: Iterable[str], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Join blocks into as few parts as fit ``limit``; a block too long is split itself."""
    parts: list[str] = []
    cur = ""
    for block in blocks:
        for piece in split_html(block, limit):
            if not cur:
                cur = piece
            elif tg_len(cur) + tg_len(sep) + tg_len(piece) <= limit:
                cur = cur + sep + piece
            else:
                parts.append(cur)
                cur = piece
    if cur:
        parts.append(cur)
    return parts


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Split HTML into parts of at most ``limit``, never inside a tag or an entity.

    Breaks prefer, in order: a line break, the end of a quote, the end of a
    sentence, a space; only a single word longer than a whole part is cut
    mid-word. Tags open at a break are closed, and reopened in the next part.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} too small (at least {MIN_LIMIT})")
    text = text.strip()
    if tg_len(text) <= limit:
        return [text] if text else []
    atoms = _ATOM.findall(text)
    parts: list[str] = []
    stack: list[str] = []  # opening tags in force at ``start``
    start = 0
    while start < len(atoms):
        prefix = "".join(stack)
        try:
            end, stack_at_end = _best_break(atoms, start, stack, limit - tg_len(prefix))
        except _NoBreak:  # tags leave no room: the rest as plain text, which always splits
            parts.extend(split_html("".join(a for a in atoms[start:] if not _is_tag(a)), limit))
            break
        body = "".join(atoms[start:end]).rstrip()
        # Closing tags right after the break belong to this part (no empty <b></b> next).
        while end < len(atoms) and atoms[end].startswith("</") and stack_at_end:
            body += atoms[end]
            stack_at_end = stack_at_end[:-1]
            end += 1
        piece = prefix + body + "".join(_closing(t) for t in reversed(stack_at_end))
        if _visible(piece).strip():
            parts.append(piece)
        stack = stack_at_end
        start = end
        while start < len(atoms) and atoms[start].isspace():
            start += 1
    return parts


def _best_break(atoms: list[str], start: int, stack: list[str], budget: int) -> tuple[int, list[str]]:
    """Where to end the part that begins at ``start``: (index, open tags there)."""
    open_tags = list(stack)
    used = 0
    closing = sum(len(_closing(t)) for t in open_tags)
    best: dict[int, tuple[int, list[str]]] = {}  # priority → latest break
    i = start
    while i < len(atoms):
        atom = atoms[i]
        size = tg_len(atom)
        if atom.startswith("<") and len(atom) > 1:
            name = _tag(atom)
            if atom.startswith("</"):
                if open_tags and _tag(open_tags[-1]) == name:
                    open_tags.pop()
                    closing -= len(name) + 3
            elif not atom.endswith("/>"):
                open_tags.append(atom)
                closing += len(name) + 3
        if used + size + closing > budget:
            break
        used += size
        i += 1
        prio = _priority(atoms, i)
        if prio >= 0:
            best[prio] = (i, list(open_tags))
    if i >= len(atoms):
        return len(atoms), open_tags
    if not best:
        raise _NoBreak(f"limit {budget} too small to split this text")
    filled = i - start
    # The best kind of break that still fills at least half the part; else any.
    for prio in (4, 3, 2, 1, 0):
        if prio in best and best[prio][0] - start >= filled // 2:
            return best[prio]
    return best[max(best)]


def _priority(atoms: list[str], i: int) -> int:
    """How good a place for a break is just before ``atoms[i]`` (-1: never)."""
    prev = atoms[i - 1]
    if prev.startswith("<") and len(prev) > 1 and not prev.startswith("</"):
        return -1  # right after an opening tag
    if prev == "\n":
        return 4
    if prev.lower() == "</blockquote>":
        return 3
    if prev.isspace():
        before = atoms[i - 2] if i >= 2 else ""
        return 2 if before and before[-1] in _SENTENCE_END else 1
    return 0  # mid-word: only when a word is longer than a whole part


class _NoBreak(ValueError):
    """No break fits the budget left by the tags open at the start of a part."""


def _is_tag(atom: str) -> bool:
    return atom.startswith("<") and len(atom) > 1


def _tag(atom: str) -> str:
    m = _TAG_NAME.match(atom)
    return m.group(1).lower() if m else ""


def _closing(open_tag: str) -> str:
    return f"</{_tag(open_tag)}>"


def _visible(part: str) -> str:
    return html.unescape(re.sub(r"<[^<>]*>", "", part))
