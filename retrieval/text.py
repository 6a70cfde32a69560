"""Script-aware text helpers: sentence spans, word tokens, search terms.

Everything here works on character offsets into the original text so that
callers can quote verbatim. Tokenization treats scripts written without spaces
(Han, Kana, Thai, ...) as sequences of single characters plus bigrams, so a
Chinese sentence is not one giant token.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import regex

# Letters, combining marks (needed for Devanagari, Arabic vowel signs) and digits.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*")
_NOSPACE_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")

# Sentence ends: terminal punctuation, optional closing quotes/brackets.
_TERMINAL = regex.compile(r"[.!?…。！？؟।]+[\"'”’»)\]]*")
_CJK_TERMINAL = set("。！？")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "gen",
        "gov",
        "sen",
        "rep",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "rev",
        "hon",
        "pres",
        "sec",
        "dept",
        "corp",
        "inc",
        "ltd",
        "co",
        "vs",
        "etc",
        "al",
        "approx",
        "est",
        "no",
        "nos",
        "fig",
        "vol",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "a.m",
        "p.m",
        "d.c",
    ]
)

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "said",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "according",
        "says",
        "say",
    ]
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentences; return (start, end) offsets.

    Spans are trimmed of surrounding whitespace and never empty. Line breaks
    always end a sentence (news text puts paragraphs on their own lines).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _lines(text, start, end):
        spans.extend(_split_line(text, line_start, line_end))
    return spans


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        a, b = _trim(text, pos, stop)
        if a < b:
            yield a, b
        pos = stop + 1


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    sent_start = start
    for m in _TERMINAL.finditer(text, start, end):
        stop = m.end()
        if not _is_boundary(text, m.start(), stop, end):
            continue
        a, b = _trim(text, sent_start, stop)
        if a < b:
            spans.append((a, b))
        sent_start = stop
    a, b = _trim(text, sent_start, end)
    if a < b:
        spans.append((a, b))
    return spans


def _is_boundary(text: str, punct_start: int, stop: int, end: int) -> bool:
    if text[punct_start] in _CJK_TERMINAL:
        return True
    if stop >= end:
        return True
    if not text[stop].isspace():
        return False
    # Next visible character: a lowercase letter means we are mid-sentence.
    nxt = stop
    while nxt < end and text[nxt].isspace():
        nxt += 1
    if nxt < end and text[nxt].islower():
        return False
    if text[punct_start] == ".":
        word = _word_before(text, punct_start)
        if word.lower() in _ABBREVIATIONS:
            return False
        if len(word) == 1 and word.isupper():  # an initial: "J. Smith"
            return False
    return True


def _word_before(text: str, pos: int) -> str:
    a = pos
    while a > 0 and (text[a - 1].isalpha() or text[a - 1] == "."):
        a -= 1
    return text[a:pos]


def word_count(text: str) -> int:
    """Words for sizing passages: each character of a no-space script counts as one."""
    if _NOSPACE_SCRIPT.search(text) is None:  # the common case, in one pass
        return len(_WORD.findall(text))
    n = 0
    for m in _WORD.finditer(text):
        w = m.group()
        cjk = len(_NOSPACE_SCRIPT.findall(w))
        n += cjk + (1 if cjk < len(w) else 0)
    return n


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the words in ``text[start:end]``."""
    end = len(text) if end is None else end
    return [m.span() for m in _WORD.finditer(text, start, end)]


def _stem(word: str) -> str:
    return _english_stemmer()(word)


@lru_cache(maxsize=1)
def _english_stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: Snowball stemmers in C

    stemmer = Stemmer.Stemmer("english")
    return lru_cache(maxsize=200_000)(stemmer.stemWord)


def terms(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Search terms of ``text``: lowercased, stemmed (Latin script), stopwords dropped.

    Runs of a no-space script become single characters plus their bigrams.
    """
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        w = m.group().replace("’", "'")
        if _NOSPACE_SCRIPT.search(w):
            out.extend(_nospace_terms(w))
            continue
        if not keep_stopwords and (w in STOPWORDS or w.removesuffix("'s") in STOPWORDS):
            continue
        w = w.removesuffix("'s")
        out.append(_stem(w) if w.isascii() else w)
    return out


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """:func:`terms` of a single word, cached (highlighting calls it for every word)."""
    return tuple(terms(word))


def _nospace_terms(word: str) -> list[str]:
    out: list[str] = []
    run = ""
    for ch in word + " ":
        if _NOSPACE_SCRIPT.match(ch):
            run += ch
            continue
        if run:
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            run = ""
        if ch != " ":
            out.append(ch)
    # Non-CJK characters glued to CJK (e.g. "G20峰会") come out as single chars; join them back.
    return _rejoin_alnum(out)


def _rejoin_alnum(parts: list[str]) -> list[str]:
    out: list[str] = []
    buf = ""
    for p in parts:
        if len(p) == 1 and not _NOSPACE_SCRIPT.match(p):
            buf += p
            continue
        if buf:
            out.append(buf)
            buf = ""
        out.append(p)
    if buf:
        out.append(buf)
    return out


def clean_question(text: str) -> str:
    """Remove control characters and collapse whitespace."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())
