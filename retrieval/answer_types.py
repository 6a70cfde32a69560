"""What kind of thing a question asks for, and whether a sentence holds one.

Cheap surface cues (no model): a "when" question wants a date, "how many" a
number, "where" / "which city" a place after a locative preposition, "who" a
name that the question does not already contain.
"""

from __future__ import annotations

import re
from functools import lru_cache

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}|\d{{1,2}}\s+(?:{_MONTHS})|(?:1[89]|20)\d\d|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|"
    r"last (?:week|month|year)|this (?:week|month|year))\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|dozens|hundreds|thousands|millions)\b",
    re.I,
)
_CAP = r"[A-Z\u00C0-\u024F][\w'’.-]*"
_NAME = re.compile(rf"{_CAP}(?:\s+(?:of\s+|de\s+|the\s+)?{_CAP})*")
# "to" is locative except in "according to X", "due to X", "thanks to X", "owing to X"
_TO = r"(?<![Aa]ccording )(?<![Dd]ue )(?<![Tt]hanks )(?<![Oo]wing )to"
_PLACE = re.compile(rf"\b(?:in|at|near|from|{_TO}|outside|across)\s+(?:the\s+)?({_CAP}(?:\s+{_CAP})*)")
_WORD = re.compile(r"[\w'’-]+")

# Enough to tell "a country" from "a city" for "which city" questions.
_COUNTRIES = frozenset(
    """
    afghanistan albania algeria argentina armenia australia austria azerbaijan bangladesh belarus
    belgium bolivia brazil bulgaria cambodia canada chile china colombia croatia cuba cyprus
    czechia denmark ecuador egypt england estonia ethiopia finland france georgia germany ghana
    greece hungary iceland india indonesia iran iraq ireland israel italy japan jordan kazakhstan
    kenya korea kosovo kuwait kyrgyzstan latvia lebanon libya lithuania malaysia mali mexico
    moldova mongolia morocco myanmar nepal netherlands nigeria norway pakistan palestine peru
    philippines poland portugal qatar romania russia rwanda scotland serbia singapore slovakia
    slovenia somalia spain sudan sweden switzerland syria taiwan tajikistan tanzania thailand
    tunisia turkey turkmenistan uganda ukraine uzbekistan venezuela vietnam wales yemen zambia
    zimbabwe britain america europe asia africa
    """.split()
)


@lru_cache(maxsize=4096)
def answer_kind(question: str) -> str:
    """One of: number, date, city, place, name, any."""
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|old|far|often)\b|\bwhat (?:percentage|number|amount|share)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|day|month|date)\b", q):
        return "date"
    if re.search(r"\bwhich (?:city|town|capital)\b|\bwhat (?:city|town)\b|\bin which city\b", q):
        return "city"
    if re.search(
        r"\bwhere\b|\bwhich (?:country|state|region|place|venue)\b|\bwhat (?:country|state|place)\b", q
    ):
        return "place"
    if re.search(
        r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:company|team|organization|group|party|player|person)\b", q
    ):
        return "name"
    return "any"


#: languages whose sentences the cues above can judge ("": not detected)
CUE_LANGUAGES = frozenset({"en", ""})


def type_score(kind: str, sentence: str, question: str, language: str = "") -> float:
    """How much ``sentence`` (in ``language``) looks like it holds the kind of thing asked
    for (0..1). The cues are English: a sentence in another language cannot be judged
    and scores the midpoint, neither raised nor lowered, whatever the kind ("any" would
    otherwise favour its sentences with digits: it looks for capitalised names too)."""
    if language not in CUE_LANGUAGES:
        return 0.5
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "date":
        return 1.0 if _DATE.search(sentence) else 0.0
    asked = {w.lower() for w in _WORD.findall(question)}
    if kind in {"city", "place"}:
        best = 0.0
        for m in _PLACE.finditer(sentence):
            place = m.group(1)
            if place.split()[0].lower() in asked:
                continue
            is_country = place.lower().rstrip(".") in _COUNTRIES
            best = max(best, 0.5 if kind == "city" and is_country else 1.0)
        return best
    names = [n for n in _NAME.findall(sentence[1:]) if n.split()[0].lower() not in asked]
    if kind == "name":
        return 1.0 if names else 0.0
    return 0.5 if names or _NUMBER.search(sentence) else 0.0
