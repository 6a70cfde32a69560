"""What kind of thing a question asks for, and which spans of a sentence are one.

Cheap surface cues (no model): the question word and the noun after "which" /
"what" give the kind ("which airline" wants an organisation, "which US state" a
state, "how many" a number); the sentence's names, numbers and dates
(:mod:`retrieval.answer.entities`) that the question does not already hold are the
candidate answers, each weighed by how well its label fits the kind.
"""

from __future__ import annotations

import re
from functools import lru_cache

from retrieval.answer.entities import (
    COUNTRY,
    DATE,
    NAME,
    NORP,
    NUMBER,
    ORG,
    PERSON,
    PLACE,
    STATE,
    Entity,
    entities,
)

CITY = "city"
ANY = "any"
AGENT = "agent"  # the doer after a passive "by", named or not
#: kinds a short answer may be given for (their spans are names, numbers or dates)
SPAN_KINDS = frozenset({PERSON, ORG, COUNTRY, STATE, CITY, PLACE, NUMBER, DATE, NAME})

_PERSON_NOUNS = """
person man woman boy girl singer actor actress musician comedian rapper player athlete star politician
president candidate senator leader author writer artist celebrity billionaire ceo executive coach
director judge lawmaker official minister member golfer tennis footballer quarterback driver pitcher
swimmer gymnast skater host presenter journalist pope king queen prince princess designer chef
model influencer youtuber entrepreneur founder scientist astronaut governor mayor justice rocker
""".split()
_ORG_NOUNS = """
company companies airline airlines automaker carmaker university college school network retailer chain
brand team club party organization organisation group bank firm platform app service agency band
league newspaper outlet startup giant manufacturer maker restaurant store supermarket broadcaster
streamer studio publisher charity union channel website site operator carrier provider business
corporation conglomerate railway railroad
""".split()
_COUNTRY_NOUNS = "country countries nation nations".split()
_STATE_NOUNS = "state states province territory".split()
_CITY_NOUNS = "city cities town capital village".split()
_PLACE_NOUNS = "region place venue island county area continent location destination site border".split()
_DATE_NOUNS = "year date day month time decade week".split()
_NUMBER_NOUNS = "percentage percent number amount share price age rate sum total figure".split()
_NAME_NOUNS = "name movie film song album show series book novel title word brand".split()
_HEADS = {
    **dict.fromkeys(_NAME_NOUNS, NAME),
    **dict.fromkeys(_PERSON_NOUNS, PERSON),
    **dict.fromkeys(_ORG_NOUNS, ORG),
    **dict.fromkeys(_COUNTRY_NOUNS, COUNTRY),
    **dict.fromkeys(_STATE_NOUNS, STATE),
    **dict.fromkeys(_CITY_NOUNS, CITY),
    **dict.fromkeys(_PLACE_NOUNS, PLACE),
    **dict.fromkeys(_DATE_NOUNS, DATE),
    **dict.fromkeys(_NUMBER_NOUNS, NUMBER),
}
_WHICH = re.compile(r"\b(?:which|what)\s+((?:[\w'’.-]+\s+){0,3}[\w'’.-]+)", re.I)
_WORD = re.compile(r"[\w'’-]+")
_POSSESSIVE = re.compile(r"['’]s?$")
_PERCENT = re.compile(r"%|\bper ?cent", re.I)

#: how well an entity label answers each kind of question (absent: 0)
FIT: dict[str, dict[str, float]] = {
    PERSON: {PERSON: 1.0, AGENT: 0.8, NAME: 0.7, ORG: 0.5},
    ORG: {ORG: 1.0, AGENT: 0.8, NAME: 0.7, PERSON: 0.2},
    COUNTRY: {COUNTRY: 1.0, NAME: 0.3, NORP: 0.3},
    STATE: {STATE: 1.0, NAME: 0.3},
    CITY: {PLACE: 1.0, NAME: 1.0, STATE: 0.5, COUNTRY: 0.5},
    PLACE: {PLACE: 1.0, COUNTRY: 1.0, STATE: 1.0, NAME: 0.7, ORG: 0.2},
    NUMBER: {NUMBER: 1.0},
    DATE: {DATE: 1.0},
    NAME: {NAME: 1.0, PERSON: 1.0, ORG: 1.0, PLACE: 0.8, COUNTRY: 0.8, STATE: 0.8},
}


@lru_cache(maxsize=4096)
def answer_kind(question: str) -> str:
    """One of: person, org, country, state, city, place, number, date, name, any."""
    q = question.lower()
    if re.search(
        r"\bhow (?:many|much|long|old|far|often|high|tall|big|large)\b|"
        r"\bwhat (?:percentage|percent|number|amount|share|proportion)\b",
        q,
    ):
        return NUMBER
    if re.search(r"\bwhen\b|\bwhat time\b", q):
        return DATE
    heads = [m.group(1).split() for m in _WHICH.finditer(q)]
    for words in heads:
        if words[0] in {"is", "was", "are", "were"} and words[1:3] == ["the", "name"]:
            return NAME
        for word in words:
            word = _POSSESSIVE.sub("", word.strip("'’."))
            if word in _HEADS:
                return _HEADS[word]
            if word.endswith("s") and word[:-1] in _HEADS:
                return _HEADS[word[:-1]]
    if re.search(r"\bwhere\b", q):
        return PLACE
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return PERSON
    return ANY


#: languages whose sentences the cues above can judge ("": not detected)
CUE_LANGUAGES = frozenset({"en", ""})


def candidates(kind: str, sentence: str, question: str) -> list[tuple[Entity, float]]:
    """The spans of ``sentence`` that could answer a ``kind`` question, with how well
    each fits (0..1]; spans the question already names are left out."""
    fit = FIT.get(kind)
    if not fit:
        return []
    asked = _asked(question)
    out = []
    found = list(entities(sentence))
    if kind in {PERSON, ORG}:
        found += _agents(sentence, found)
    for ent in found:
        weight = fit.get(ent.label, 0.0)
        if kind in {CITY, PLACE} and ent.label == NAME:
            # an unknown name is a place where it follows "in", "at", "to" …
            weight = fit[PLACE] if after_locative(sentence, ent.start) else 0.0
        if weight <= 0 or _named_in(ent.text, asked):
            continue
        if kind == NUMBER and _PERCENT.search(question) and not _PERCENT.search(ent.text):
            weight *= 0.5  # "what percentage" wants "87%"
        out.append((ent, weight))
    return out


def type_score(kind: str, sentence: str, question: str, language: str = "") -> float:
    """How much ``sentence`` (in ``language``) looks like it holds the kind of thing asked
    for (0..1). The cues are English: a sentence in another language cannot be judged
    and scores the midpoint, neither raised nor lowered, whatever the kind ("any" would
    otherwise favour its sentences with digits: it looks for capitalised names too)."""
    if language not in CUE_LANGUAGES:
        return 0.5
    if kind == ANY:
        asked = _asked(question)
        return 0.5 if any(not _named_in(e.text, asked) for e in entities(sentence)) else 0.0
    return max((w for _, w in candidates(kind, sentence, question)), default=0.0)


# "hosted by Azerbaijan's national intelligence agency": who did it, named or not
_STOP_AGENT = (
    "and|or|but|in|on|at|to|for|from|with|who|that|which|as|after|before|during|since|than|because|"
    "over|into|about|against|under|between|through|while|when|where|was|is|were|are|has|have|had|a|an"
)
_AGENT = re.compile(
    rf"\bby\s+((?:the\s+)?[A-Za-z][\w'’&.-]*(?:\s+(?!(?:{_STOP_AGENT})\b)[A-Za-z][\w'’&.-]*){{0,4}})"
)
_NOT_AGENTS = frozenset(
    {
        "far",
        "then",
        "now",
        "default",
        "contrast",
        "comparison",
        "design",
        "law",
        "mistake",
        "phone",
        "email",
        "car",
        "air",
    }
)


def _agents(sentence: str, found: list[Entity]) -> list[Entity]:
    """Agent phrases after a passive "by" that hold no typed name already found."""
    out = []
    for m in _AGENT.finditer(sentence):
        a, b = m.span(1)
        text = sentence[a:b].rstrip(".'’")
        first = text.split()[0].lower()
        if first in _NOT_AGENTS or (first in {"the", "a", "an"} and len(text.split()) == 1):
            continue
        if any(e.start >= a and e.end <= a + len(text) and e.label in {PERSON, ORG, NAME} for e in found):
            continue  # the name inside it is the answer
        out.append(Entity(a, a + len(text), AGENT, text))
    return out


@lru_cache(maxsize=4096)
def _asked(question: str) -> frozenset[str]:
    return frozenset(w.lower().strip("'’") for w in _WORD.findall(question))


def _named_in(text: str, asked: frozenset[str]) -> bool:
    """Whether the question already holds this span (its first or last word)."""
    words = [w.lower().strip("'’") for w in _WORD.findall(text)]
    return bool(words) and (words[0] in asked or words[-1] in asked or _stem(words[-1]) in asked)


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


# "to" is locative except in "according to X", "due to X", "thanks to X", "owing to X"
_TO = r"(?<![Aa]ccording )(?<![Dd]ue )(?<![Tt]hanks )(?<![Oo]wing )to"
_LOCATIVE = re.compile(rf"\b(?:in|at|near|from|outside|across|{_TO})\s+(?:the\s+)?$", re.I)


def after_locative(sentence: str, start: int) -> bool:
    return bool(_LOCATIVE.search(sentence[max(0, start - 16) : start]))
