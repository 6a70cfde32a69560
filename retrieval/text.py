"""Script-aware text helpers: sentence spans, word tokens, search terms.

Everything here works on character offsets into the original text so that
callers can quote verbatim. Tokenization treats scripts written without spaces
(Han, Kana, Thai, ...) as sequences of single characters plus bigrams, so a
Chinese sentence is not one giant token.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import lru_cache

import regex

# Letters, combining marks (needed for Devanagari, Arabic vowel signs) and digits.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*")
_NOSPACE = (
    r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"  # scripts written without spaces
)
_NOSPACE_SCRIPT = regex.compile(f"[{_NOSPACE}]")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
#: a word cut into runs of no-space-script characters and runs of everything else
_SCRIPT_RUN = regex.compile(f"[{_NOSPACE}]+|[^{_NOSPACE}]+")

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
    """Words for sizing passages and quotes, comparable across scripts.

    In scripts without spaces a word is a few characters: Chinese and Japanese
    average about two per word, Thai, Lao, Khmer and Burmese about four (their
    characters are letters, not syllables). Counting each character as a word
    would make a CJK quote a fraction of an English one.
    """
    if _NOSPACE_SCRIPT.search(text) is None:  # the common case, in one pass
        return len(_WORD.findall(text))
    n = 0.0
    for m in _WORD.finditer(text):
        w = m.group()
        cjk = len(_CJK.findall(w))
        other = len(_NOSPACE_SCRIPT.findall(w)) - cjk
        n += cjk / 2 + other / 4 + (1 if cjk + other < len(w) else 0)
    return math.ceil(n)


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the words in ``text[start:end]``."""
    end = len(text) if end is None else end
    return [m.span() for m in _WORD.finditer(text, start, end)]


#: Snowball stemmers (PyStemmer) by ISO 639-1 code
_SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Callable[[str], str]:
    """The Snowball stemmer of ``language`` (English when unknown or unsupported)."""
    import Stemmer  # PyStemmer: Snowball stemmers in C

    stemmer = Stemmer.Stemmer(_SNOWBALL.get(language, "english"))
    return lru_cache(maxsize=200_000)(stemmer.stemWord)


def terms(text: str, *, keep_stopwords: bool = False, language: str = "") -> list[str]:
    """Search terms of ``text``: lowercased, stemmed (Latin script), stopwords dropped.

    Runs of a no-space script become single characters plus their bigrams.
    English stopwords always go; ``language`` (ISO 639-1) adds that language's and
    picks its Snowball stemmer (without it, only Latin-script words are stemmed, as English).
    """
    stop = frozenset() if keep_stopwords else stopwords(language)
    known = language in _SNOWBALL
    stem = _stemmer(language if known else "en")
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        w = m.group().replace("’", "'")
        if _NOSPACE_SCRIPT.search(w):
            out.extend(t for t in _nospace_terms(w) if t not in stop)
            continue
        if w in stop or w.removesuffix("'s") in stop:
            continue
        w = w.removesuffix("'s")
        # Unknown language: the English stemmer, for Latin-script words only.
        out.append(stem(w) if known or w.isascii() else w)
    return out


#: bm25s's stopword lists (NLTK's and others), by ISO 639-1 code
_STOPWORD_LISTS = {
    "da": "DANISH",
    "de": "GERMAN",
    "es": "SPANISH",
    "fr": "FRENCH",
    "it": "ITALIAN",
    "ko": "KOREAN",
    "nb": "NORWEGIAN",
    "nl": "DUTCH",
    "no": "NORWEGIAN",
    "pt": "PORTUGUESE",
    "ru": "RUSSIAN",
    "sv": "SWEDISH",
    "tr": "TURKISH",
    "zh": "CHINESE",
}


@lru_cache(maxsize=64)
def stopwords(language: str = "") -> frozenset[str]:
    """English stopwords, plus those of ``language`` where a list is known."""
    name = _STOPWORD_LISTS.get(language)
    if name is None:
        return STOPWORDS
    from bm25s import stopwords as lists  # plain tuples; bm25s itself is a dependency

    return STOPWORDS | frozenset(w.lower() for w in getattr(lists, f"STOPWORDS_{name}"))


@lru_cache(maxsize=200_000)
def word_terms(word: str, language: str = "") -> tuple[str, ...]:
    """:func:`terms` of a single word, cached (highlighting calls it for every word)."""
    return tuple(terms(word, language=language))


def match_spans(
    text: str, start: int, end: int, wanted: set[str] | frozenset[str], language: str = ""
) -> list[tuple[int, int]]:
    """Offsets in ``text[start:end]`` (written in ``language``) of what matches the search
    terms ``wanted`` (for highlighting).

    Spaced scripts match whole words. A run of a no-space script (Chinese, Japanese,
    Thai, ...) is one "word" to :func:`word_spans`, often a whole clause, so there
    only the matching character pairs (or a lone matching character) are marked.
    """
    out: list[tuple[int, int]] = []
    for a, b in word_spans(text, start, end):
        word = text[a:b]
        if _NOSPACE_SCRIPT.search(word) is None:
            if wanted.intersection(word_terms(word, language)):
                out.append((a, b))
            continue
        for m in _SCRIPT_RUN.finditer(word):
            run, at = m.group(), a + m.start()
            if not _NOSPACE_SCRIPT.match(run):
                if wanted.intersection(word_terms(run, language)):
                    out.append((at, at + len(run)))
            elif len(run) == 1:
                if run in wanted:
                    out.append((at, at + 1))
            else:
                out.extend((at + i, at + i + 2) for i in range(len(run) - 1) if run[i : i + 2] in wanted)
    return _merge(out)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


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
