"""Short follow-up questions lean on the previous one: borrow its terms."""

from __future__ import annotations

import re

from retrieval.text import STOPWORDS

_CUES = re.compile(
    r"^(?:and|also|what about|how about|who else|what else|when was that|where was that|"
    r"why|and when|and where|and who|then)\b"
    r"|\b(?:that|it|this|they|them|he|she|him|her|there|those|these|else)\b",
    re.I,
)
_WH = {"what", "when", "where", "who", "whom", "whose", "which", "why", "how", "else", "about"}
_WORD = re.compile(r"[\w'’-]+")
MAX_FOLLOWUP_WORDS = 7


def content_words(question: str) -> list[str]:
    """The question's words that carry its topic (no stopwords or question words)."""
    seen: set[str] = set()
    out: list[str] = []
    for w in _WORD.findall(question):
        low = w.lower()
        if low in STOPWORDS or low in _WH or low in seen or len(low) < 2:
            continue
        seen.add(low)
        out.append(w)
    return out


def expand_followup(question: str, previous: str | None) -> str:
    """``question`` plus the previous question's topic words when it is a follow-up.

    "and when was that?" after "Where was the Afghanistan conference held?"
    becomes "and when was that? Afghanistan conference held".
    """
    if not previous:
        return question
    words = _WORD.findall(question)
    if len(words) > MAX_FOLLOWUP_WORDS:
        return question
    own = {w.lower() for w in content_words(question)}
    if own and not _CUES.search(question):
        return question
    borrowed = [w for w in content_words(previous) if w.lower() not in own]
    return f"{question} {' '.join(borrowed)}" if borrowed else question
