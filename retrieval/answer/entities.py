"""Names, numbers and dates in an English sentence, as labelled character spans.

Cheap surface cues, no model: capitalised word runs are names, typed where a
gazetteer or a neighbouring word tells (a country, a US state, an organisation
suffix, a person's title); digits, spelled numbers and percentages are numbers;
month names, weekdays and years are dates. Offsets are into the text given, so
a span is always a verbatim substring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from retrieval.text import stopwords

PERSON, ORG, COUNTRY, STATE, PLACE, NAME, NUMBER, DATE, NORP = (
    "person",
    "org",
    "country",
    "state",
    "place",
    "name",
    "number",
    "date",
    "norp",
)


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str  # one of the labels above
    text: str


_COUNTRY_NAMES = """
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas
bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei
bulgaria burundi cambodia cameroon canada chad chile china colombia congo croatia cuba cyprus czechia
denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon
gambia georgia germany ghana greece greenland grenada guatemala guinea guyana haiti honduras hungary
iceland india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati
kosovo kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg
madagascar malawi malaysia maldives mali malta mauritania mauritius mexico micronesia moldova monaco
mongolia montenegro morocco mozambique myanmar namibia nauru nepal netherlands nicaragua niger nigeria
norway oman pakistan palau palestine panama paraguay peru philippines poland portugal qatar romania
russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain sudan suriname
sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga tunisia turkey türkiye
turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe
britain england scotland wales gaza
""".split()
_COUNTRY_PHRASES = (
    "united states|united kingdom|united arab emirates|south africa|south korea|north korea|new zealand|"
    "saudi arabia|sri lanka|costa rica|el salvador|ivory coast|czech republic|dominican republic|"
    "papua new guinea|sierra leone|south sudan|puerto rico|hong kong|vatican city|great britain|"
    "the netherlands|the philippines|the u\\.s\\.|the us|the uk|u\\.s\\.|u\\.k\\.|usa"
)
_STATES = """
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
vermont virginia washington wisconsin wyoming
""".split()
_STATE_PHRASES = (
    "new hampshire|new jersey|new mexico|new york|north carolina|north dakota|south carolina|"
    "south dakota|west virginia|rhode island"
)
COUNTRIES = frozenset(_COUNTRY_NAMES)
STATES = frozenset(_STATES)
_COUNTRY_RE = re.compile(rf"^(?:{_COUNTRY_PHRASES})$", re.I)
_STATE_RE = re.compile(rf"^(?:{_STATE_PHRASES})$", re.I)

_ORG_WORDS = frozenset(
    """
    inc inc. corp corp. co co. ltd ltd. llc plc group company companies corporation airlines airline
    airways bank university college school institute agency association council committee commission
    party union federation foundation league club fc network news times post journal motors
    department ministry office court congress senate parliament police army navy force forces
    organization organisation service services industries technologies labs systems studios records
    entertainment media pictures games airport hospital church board authority administration bureau
    """.split()
)
_PERSON_TITLES = frozenset(
    """
    mr mr. mrs mrs. ms ms. dr dr. sir dame president pope king queen prince princess minister
    premier chancellor senator sen. rep. gov. governor mayor judge justice general gen. secretary
    ceo chairman chairwoman coach star singer rapper actor actress director founder chief leader
    spokesperson spokesman spokeswoman officer commissioner ambassador lawmaker representative
    """.split()
)
# Capitalised words that open sentences or name months/days: not names on their own.
_NOT_NAMES = frozenset(
    """
    a an the this that these those he she it we they i you his her its our their my your there here
    in on at by for from of to with without as but and or if when while after before since because
    although though however meanwhile yet so also still then now today yesterday tomorrow last next
    what who whom whose which where why how according some many most more several all both each every
    no not one two three four five six seven eight nine ten mr mrs ms dr former late then-president
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_RE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:1[89]|20)\d\d)?|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+(?:1[89]|20)\d\d)?|"
    rf"(?:january|february|march|april|june|july|august|september|october|november|december)"
    rf"(?:\s+(?:1[89]|20)\d\d)?|(?:early|mid|late)[- ](?:{_MONTHS})|(?:1[89]|20)\d\d|"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:last|next|this) (?:week|month|year|weekend))\b",
    re.I,
)
_SPELLED = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    "a dozen|dozens|hundreds|thousands|millions|billions"
)
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
_NUMBER_RE = re.compile(
    rf"(?:[$€£¥]\s?)?\b\d[\d,]*(?:\.\d+)?(?:-\d[\d,]*(?![\w-]))?{_SCALE}(?:\s?(?:%|percent|per cent))?|"
    rf"\b(?:{_SPELLED})(?:[- ](?:{_SPELLED}))*{_SCALE}(?:\s?(?:percent|per cent))?\b",
    re.I,
)
_CAPWORD = r"[A-Z\u00C0-\u024F][\w'’&.-]*"
_NAME_RE = re.compile(
    rf"{_CAPWORD}(?:\s+(?:of|de|da|del|van|von|al|bin|la|le|the|for|&)\s+{_CAPWORD}|\s+{_CAPWORD})*"
)
_STOPWORDS = stopwords("en") | {"due", "later", "earlier", "still", "instead", "once", "overall", "indeed"}
_WORD_BEFORE = re.compile(r"([\w.]+)\s*$")
_SUFFIX = re.compile(r"(?:['’]s?|-based|-born|-led|-owned)$", re.I)
_TOKEN = re.compile(r"\S+")
_CONNECTORS = frozenset({"of", "de", "da", "del", "van", "von", "al", "bin", "la", "le", "the", "for", "&"})
#: news outlets and agencies: the reporter, never the answer
_MEDIA = frozenset(
    (
        "ap",
        "associated press",
        "reuters",
        "afp",
        "cnn",
        "bbc",
        "nbc",
        "cbs",
        "abc",
        "npr",
        "pbs",
        "msnbc",
        "fox news",
        "usa today",
        "bloomberg",
        "axios",
        "politico",
        "guardian",
        "the guardian",
        "new york times",
        "the new york times",
        "washington post",
        "the washington post",
        "wall street journal",
        "the wall street journal",
        "the week",
        "getty images",
        "getty",
        "cnbc",
        "sky news",
        "al jazeera",
        "the hill",
        "the atlantic",
        "nbc news",
        "cbs news",
        "abc news",
    )
)
_VERBAL = re.compile(r"(?:ing|ed|ly)$")
_FIRST = re.compile(r"[\"“‘'(\[\s]*")


def _first_word(sentence: str) -> int:
    return _FIRST.match(sentence).end()  # type: ignore[union-attr]


def _label(name: str, before: str) -> str:
    full = name.lower()
    low = full.rstrip(".")
    words = low.split()
    if low in COUNTRIES or _COUNTRY_RE.match(low) or _COUNTRY_RE.match(full):
        return COUNTRY
    if low in STATES or _STATE_RE.match(low):
        return STATE
    if words[-1] in _ORG_WORDS or words[0] in {"university", "bank", "department", "ministry"}:
        return ORG
    if name.isupper() and len(name) >= 2:
        return ORG  # an acronym: NATO, AT&T, NASA
    if before.lower() in _PERSON_TITLES:
        return PERSON
    if low.endswith(("ian", "ish", "ese", "ean")) and len(words) == 1:
        return NORP
    return NAME


@lru_cache(maxsize=16384)
def entities(sentence: str) -> tuple[Entity, ...]:
    """Names, numbers and dates in ``sentence``, in order, not overlapping."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(a: int, b: int, label: str) -> None:
        if a < b and not any(a < e and b > s for s, e in taken):
            taken.append((a, b))
            found.append(Entity(a, b, label, sentence[a:b]))

    for m in _DATE_RE.finditer(sentence):
        add(m.start(), m.end(), DATE)
    for m in _NUMBER_RE.finditer(sentence):
        a, b = m.start(), m.end()
        if sentence[a:b].strip().lower() == "one":
            continue  # mostly a pronoun: "one of the …"
        add(a, b, NUMBER)
    for m in _NAME_RE.finditer(sentence):
        for a, b, titled in _name_parts(sentence, m.start(), m.end()):
            text = sentence[a:b]
            if text.lower() in _NOT_NAMES or text.lower() in _MEDIA:
                continue
            if text.isupper() and (len(text) > 5 or " " in text):
                continue  # a dateline or a shouted heading ("DETROIT (AP) —"), not an acronym
            opening = a == _first_word(sentence) and " " not in text
            if opening and (_VERBAL.search(text) or sentence[b : b + 1] == "," or text.lower() in _STOPWORDS):
                continue  # "Speaking at …", "Later, …"
            before = _WORD_BEFORE.search(sentence, 0, a)
            add(a, b, PERSON if titled else _label(text, before.group(1) if before else ""))
    found.sort(key=lambda e: e.start)
    return tuple(_join_dates(sentence, found))


def _name_parts(sentence: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """A capitalised run cut into names: without a leading function word ("The", "In"),
    a possessive or a "-based"; a person's title splits it ("Red Lobster CEO Jonathan
    Tibus": "Red Lobster", then the person "Jonathan Tibus"). (start, end, titled) each."""
    words = [(m.start() + start, m.end() + start) for m in _TOKEN.finditer(sentence[start:end])]
    while words and _bare(sentence, words[0]) in _NOT_NAMES:
        words = words[1:]
    title = max((i for i, w in enumerate(words[:-1]) if _bare(sentence, w) in _PERSON_TITLES), default=-1)
    groups = [(words[:title], False), (words[title + 1 :], True)] if title >= 0 else [(words, False)]
    out = []
    for group, titled in groups:
        while group and _bare(sentence, group[0]) in _NOT_NAMES | _PERSON_TITLES:
            group = group[1:]
        while group and _bare(sentence, group[-1]) in _CONNECTORS:
            group = group[:-1]
        if not group:
            continue
        a, b = group[0][0], group[-1][1]
        text = _SUFFIX.sub("", sentence[a:b])
        if not text.lower().endswith(("u.s.", "u.k.")):
            text = text.rstrip(".'’-")
        if text:
            out.append((a, a + len(text), titled))
    return out


def _bare(sentence: str, word: tuple[int, int]) -> str:
    return sentence[word[0] : word[1]].lower().strip(",")


def _join_dates(sentence: str, found: list[Entity]) -> list[Entity]:
    """One date for "Tuesday, May 9" and "May 9, 2024" (spans apart by a comma or a space)."""
    out: list[Entity] = []
    for ent in found:
        prev = out[-1] if out else None
        if prev and prev.label == ent.label == DATE and sentence[prev.end : ent.start] in {" ", ", "}:
            out[-1] = Entity(prev.start, ent.end, DATE, sentence[prev.start : ent.end])
        else:
            out.append(ent)
    return out
