"""The time expressions of a news question, read as an inclusive date window.

``read_time(question, as_of)`` finds the words that name a time ("last week", "in May",
"on June 3, 2024", "since March", "recently") and maps them to a :class:`TimeWindow`
relative to ``as_of``, the day the question is asked. Rules only (regular expressions
plus calendar arithmetic): every accepted span is a date expression by construction.

Semantics (all windows inclusive):

- Weeks are ISO weeks, Monday to Sunday. "this week" = Monday of as_of's week .. as_of;
  "last week"/"previous week" = the previous Monday..Sunday; "a week ago"/"N weeks ago"
  = the whole ISO week holding as_of - 7N days; "next week" = the next Monday..Sunday.
- "this month"/"this year" = the 1st of the month/year .. as_of; "last month"/"last
  year" = the previous calendar month/year; "earlier this week/month/year" = the same
  as "this ...", marked past.
- "today", "tonight", "this morning/afternoon/evening" = as_of; "yesterday", "last
  night" = as_of - 1; "N days ago" = that day; "N months ago" = that calendar month.
- Rolling windows: "the past two weeks", "over the last 3 days", "in the past year",
  "this past week" = as_of minus N units .. as_of (so "the last 3 days" holds today and
  the three days before). Counts: a/one = 1, couple = 2, few = 3, several = 5.
  "in recent days/weeks/months/years" = 7 days / 4 weeks / 3 months / 3 years.
  "the next/coming N units" = as_of .. as_of plus N units; "tomorrow" = as_of + 1;
  "later this week/month/year" = as_of .. the period's end; "next month/year" = the next
  calendar month/year.
- "recently", "lately", "of late", "recent" = as_of - 30 days .. as_of, never strict,
  and vague: any other window in the question takes precedence over it.
- A month or date without a year ("in May", "on June 3", "since March") is the most
  recent one whose first day is not after as_of. When the question speaks of the future
  ("will", "upcoming", "set to", "scheduled", "going to", "expected to") it is the
  earliest one that has not ended yet instead. In ranges and lists ("between March and
  May", "from August 15th to August 18th, 2024", "in January and February") the last item
  decides the year and earlier items take the year before it when their month is later.
  A whole named month or year keeps its calendar bounds even when it runs past as_of.
- "last May" = the most recent May before as_of's month; "this May" = May of as_of's
  year; "early/mid/late May" = days 1-10 / 11-20 / 21-end ("the start/middle/end of"
  likewise); "early/mid/late 2024" = Jan-Apr / May-Aug / Sep-Dec.
- Weekdays: "on Monday", "Monday", "Monday's" = the most recent Monday on or before
  as_of (the future reading: the next one on or after); "last Tuesday"/"this past
  Tuesday" = the most recent Tuesday strictly before as_of; "this Friday"/"next Friday"
  = that day of as_of's / the next ISO week. "last weekend"/"this past weekend" = Saturday
  and Sunday of the previous ISO week; "over the weekend" = the most recent Saturday ..
  min(Sunday, as_of); "this weekend" = this ISO week's Saturday..Sunday.
- Seasons are meteorological: spring = Mar-May, summer = Jun-Aug, fall/autumn = Sep-Nov,
  winter YEAR = Dec YEAR .. Feb YEAR+1. "this summer" = the one of as_of's year, "last
  summer" = the last one ended, "in (the) summer" = the last one begun ("in the fall" is
  not read: as often a tumble).
- "since X" = X's first day .. as_of.
- ISO dates "2024-05-06" (or 2024/05/06), "May 6", "6 May", "the 6th of May", with an
  optional weekday before and year after ("Sunday, Jan. 7, 2024").

Cues keep ordinary words from being read as dates: a bare month name ("May", "March")
counts only after "in", "since", "during", "throughout", "from", "between", "of" (capitalised),
"last/this/next", "early/mid/late", or as a partner in a range or list; a bare year only
after "in", "during", "since", "of", "as of", "from", "between", "throughout" or
"early/mid/late" (so "the 2024 Golden Globes" and "Trump's 2020 election" name things,
not times); "may"/"march"/"mar" before a number need a capital letter; a bare weekday
needs "on", "last", "this", "next", "since", or a capital letter with no holiday before it
("Black Friday", "Super Tuesday"), no "in"/"the"/"a" before it unless possessive ("in
Wednesday", the series), and no name after it ("Sunday Times"). A capitalised "Today"
inside a sentence is a name ("USA TODAY"). Dates after "every"
or "each", and year-less dates in a question that says "annually", are recurring: no window.
Years attributive to a name, holidays ("Christmas Day"), decades without "the" ("1990s
game show"), centuries, apostrophe decades ("the '50s"), numeric dates other than ISO,
"before"/"after"/"until"/"by" bounds and durations ("for the first time in 32 years")
are not read.

Several windows in one question: a vague one ("recently") yields to any other; the rest
are intersected, narrowest first. A window disjoint from the narrower ones is dropped;
when the two expressions stand side by side in one phrase (nothing between them but a
comma, "in", "of", "on", "during", "from", "at" or "and": "last week in 2019") that is a
contradiction: ``conflict`` says so and the window is None, since neither reading can be
trusted. Apart, they usually name two events ("The baby names of 2023 were announced this
week"): the narrowest window stands and ``conflict`` stays empty.

Years are read from 1800 to 2099 only. A time expression of the question names when its
events happened, which is not always when the news was published ("the first mammal
cloned in 1996"): callers should weigh a window, not filter on it, unless ``strict``.

``present`` is true for the words "now", "currently", "current", "latest", "newest",
"still", "so far", "to date", "upcoming", "ongoing", "nowadays", "these days", "at the
moment", and for windows read from "today", "tonight", "this week/month/year", "recently";
and for a question whose first auxiliary is present or future (is, are, am, has, have,
do, does, will, can, and their negatives; a capitalised one inside a sentence is a name:
"What happened to Will Smith?") unless it is ``past``. ``past`` is true when the
window ends before the Monday of as_of's week, or an expression is a past-time one
("yesterday", "last ...", "... ago", "earlier this ...").

``strict`` is true when "only", "exclusively", "solely" or "strictly" stands before the
expression with at most three words between drawn from "articles", "news", "stories",
"reports", "from", "in", "published" and the like ("only articles from 2023"), or
"only"/"exclusively" ends the phrase after it ("articles from May only").

``future`` is true when the window starts after as_of ("next month", "this fall" asked in
June, "on April 8" in a question that says "will"): planned events, whose articles are
older than their window.
"""

from __future__ import annotations

import calendar
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

__all__ = ["TimeReading", "TimeWindow", "read_time"]


@dataclass(frozen=True)
class TimeWindow:
    start: date | None  # inclusive; None = open
    end: date | None  # inclusive; None = open
    strict: bool = False  # the question insists ("only in May")
    label: str = ""  # human text, e.g. "May 2024", "the week of 2024-05-06"


@dataclass(frozen=True)
class TimeReading:
    window: TimeWindow | None  # None: the question names no time (or its times contradict)
    spans: tuple[tuple[int, int], ...]  # char offsets of the matched words, in order
    present: bool  # about the present / latest state
    past: bool  # names a past time explicitly
    conflict: str = ""  # non-empty when two side-by-side windows contradict
    future: bool = False  # the window starts after as_of ("next month", "on April 8" + "will")

    def without_time(self, question: str) -> str:
        """The question with the matched words removed and whitespace collapsed."""
        parts: list[str] = []
        pos = 0
        for start, end in self.spans:
            parts.append(question[pos:start])
            pos = end
        parts.append(question[pos:])
        text = re.sub(r"\s+", " ", " ".join(parts)).strip().lstrip(",;:").strip()
        return re.sub(r"\s+([?.,!;:])", r"\1", text)


# --- vocabulary -------------------------------------------------------------------------

_MONTH_NUM = {
    name: i
    for i, names in enumerate(
        [
            (),
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH_NAMES = [calendar.month_name[i] for i in range(13)]
_AMBIGUOUS_MONTHS = {"may", "march", "mar"}  # a modal verb, a verb, a verb
_WEEKDAY_NUM = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_NUM_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "few": 3,
    "several": 5,
}
_SEASON_START = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_PART_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}
_PART_MONTHS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}
_PART_ALIASES = {"start": "early", "beginning": "early", "middle": "mid", "end": "late"}

_M_FULL = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_M_ANY = rf"(?:{_M_FULL}|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?)"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:18|19|20)\d\d"
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_NUM = r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a\s+)?few|several|(?:a\s+)?couple(?:\s+of)?)"
_UNIT = r"(?P<unit>day|week|month|year|decade)s?"

# Any word a time expression needs: only the text around one is scanned with the big patterns.
_TRIGGER_WORDS = frozenset(
    [
        *_MONTH_NUM,
        *_WEEKDAY_NUM,
        *"today tonight yesterday tomorrow week weeks weekend month months year years day days decade "
        "decades ago recent recently lately late night morning afternoon evening spring summer fall "
        "autumn winter".split(),
    ]
)
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?|\d+")
_LEAD_WORDS = 5  # "throughout the previous several weeks": the longest lead-in before a trigger word
# Calendar names, resolved after cues, ranges and lists are known.
_CALENDAR = re.compile(
    rf"""
    \b(?P<iy>{_YEAR})[-/](?P<im>1[0-2]|0?[1-9])[-/](?P<id>3[01]|[12]\d|0?[1-9])\b(?![-/]\d)
  | (?:\b(?P<wd1>{_WD}),?\s+)?\b(?P<m1>{_M_ANY})(?<=\w|\.)\s*(?P<d1>{_DAY})\b(?![,.]?\d|\s*%|:)
        (?:,?\s+(?P<y1>{_YEAR})\b)?
  | (?:\b(?P<wd2>{_WD}),?\s+)?(?:\bthe\s+)?\b(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_M_ANY})(?:\b|(?<=\.))
        (?:,?\s+(?P<y2>{_YEAR})\b)?
  | \b(?P<m3>{_M_ANY})\s*,?\s+(?:of\s+)?(?P<y3>{_YEAR})\b
  | \b(?P<dec>(?:19|20)\d0)['’]?s\b
  | \b(?P<y4>{_YEAR})\b(?![-–/]\d|\s*%|[.,]\d)
  | \b(?P<m4>{_M_FULL})\b
  | \b(?P<wd3>{_WD})(?P<poss>['’]s)?(?![a-z])(?:\s+(?P<tod>morning|afternoon|evening|night))?
    """,
    re.I | re.X,
)

# Expressions anchored to as_of, resolved at once.
_RELATIVE = re.compile(
    rf"""
    (?P<today>\b(?:(?:earlier|later)\s+)?today\b|\btonight\b|\bthis\s+(?:morning|afternoon|evening)\b)
  | (?P<yesterday>\bthe\s+day\s+before\s+yesterday\b|\byesterday(?:\s+(?:morning|afternoon|evening))?\b|\blast\s+night\b)
  | (?P<tomorrow>\btomorrow\b)
  | (?P<recent_units>\b(?:(?:in|over|during)\s+)?recent\s+(?P<ru>day|week|month|year)s\b)
  | (?P<rolling>\b(?:(?:in|over|during|within|for|throughout|from)\s+)?
        (?:the\s+(?:past|last|previous)|this\s+past|past|last|previous)\s+
        (?:(?P<n>{_NUM})\s+(?=\w+s\b))?{_UNIT}\b(?!['’]|\s+of\b))
  | (?P<coming>\b(?:(?:in|over|during|within)\s+)?the\s+(?:next|coming)\s+(?:(?P<cn>{_NUM})\s+)?(?P<cunit>day|week|month|year|decade)s?\b(?!\s+of\b))
  | (?P<ago>\b(?P<an>{_NUM})\s+(?P<au>day|week|month|year)s?\s+ago\b)
  | (?P<weekend>\b(?:(?:over|at|during)\s+the|this\s+past|this|last|next|past)\s+weekend(?:['’]s)?\b)
  | (?P<cal_rel>\b(?:(?:in|during|since|from|over)\s+)?(?P<early>earlier\s+|later\s+)?
        (?P<rel>this|last|next|previous)\s+(?P<runit>week|month|year)(?:['’]s)?\b(?!\s+of\b))
  | (?P<season>\b(?:(?P<sprep>in|during|over|throughout|since|from)\s+)?
        (?:(?P<srel>this\s+past|this|last|next|past)\s+|(?P<sthe>the)\s+)?
        (?P<sname>spring|summer|fall|autumn|winter)(?:['’]s)?\b(?:\s+(?:of\s+)?(?P<sy>{_YEAR})\b)?)
  | (?P<recently>\b(?:recently|lately|of\s+late)\b|(?<!\bmost\s)\brecent\b)
    """,
    re.I | re.X,
)

_CUE_BEFORE = re.compile(
    r"(?:\b(?P<prep>since|in|on|during|throughout|from|between|as\s+of|of)\s+)?"
    r"(?:(?P<mod>early|mid|late|the\s+(?:end|start|beginning|middle)\s+of)(?:\s+|-))?"
    r"(?:(?P<rel>this\s+past|last|this|next)\s+)?$",
    re.I,
)
_PRESENT_WORDS = frozenset(
    "now currently current latest newest still upcoming ongoing nowadays presently".split()
)
_PRESENT_PAIRS = frozenset(
    [("so", "far"), ("to", "date"), ("these", "days"), ("at", "present"), ("the", "moment")]
)
_FUTURE_WORDS = frozenset(["will", "won't", "upcoming", "scheduled"])
_FUTURE_PAIRS = frozenset([("set", "to"), ("going", "to"), ("expected", "to")])
_AUX_PRESENT = frozenset(
    "is are am has have does do will can cannot isn't aren't hasn't haven't doesn't don't won't can't".split()
)
_AUX_PAST = frozenset("was were did had wasn't weren't didn't hadn't".split())
_STRICT_BEFORE = re.compile(
    r"\b(?P<w>only|exclusively|solely|strictly)\s+"
    r"(?:(?:articles?|news|stories|story|reports?|results?|sources?|coverage|items?|pieces?|"
    r"published|written|dated|from|in|on|during|since|of|the|between|within|for|over)\s+){0,3}$",
    re.I,
)
_STRICT_AFTER = re.compile(r"^\s*,?\s*(?P<w>only|exclusively)\b(?=\s*(?:[.?!,;:)]|$|please\b))", re.I)
_HOLIDAY_BEFORE = re.compile(
    r"\b(?:black|good|super|cyber|ash|easter|palm|bloody|holy|maundy|shrove|giving|mothering|"
    r"low|whit|trinity|passion)\s+$",
    re.I,
)
_ARTICLE_BEFORE = re.compile(r"\b(?:the|a|an|in)\s+$", re.I)  # "in Wednesday" (the series)
_RECURRING_BEFORE = re.compile(r"\b(?:every|each)\s+(?:the\s+)?$", re.I)
_ANNUALLY = re.compile(r"\b(?:annually|every\s+year|each\s+year|yearly)\b", re.I)
_RANGE_GAP = re.compile(r"^\s*(?:and|to|through|thru|until|till|[-–—])\s*$", re.I)
_LIST_GAP = re.compile(r"^\s*(?:,\s*(?:and|or)?|and|or|&)\s*$", re.I)
_WORD_START = re.compile(r"\b\w")
_PHRASE_GAP = re.compile(r"^\s*,?\s*(?:(?:in|of|on|during|from|at|and)\s+)?$", re.I)


# --- calendar arithmetic ----------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _minus(as_of: date, n: int, unit: str) -> date:
    if unit == "day":
        return as_of - timedelta(days=n)
    if unit == "week":
        return as_of - timedelta(days=7 * n)
    if unit == "month":
        return _add_months(as_of, -n)
    return _add_months(as_of, -12 * n * (10 if unit == "decade" else 1))


def _count(text: str | None) -> int:
    if not text:
        return 1
    words = text.lower().split()
    word = words[-1] if words[-1] != "of" else words[-2]
    return int(word) if word.isdigit() else _NUM_WORDS[word]


def _season_window(name: str, year: int) -> tuple[date, date]:
    first = _SEASON_START[name.lower()]
    start = date(year, first, 1)
    last = _add_months(start, 2)
    return start, _month_end(last.year, last.month)


# --- hits ---------------------------------------------------------------------------------


@dataclass
class _Hit:
    start: int
    end: int
    kind: str  # iso, md, m, y, decade, wd, season, rel
    first: date | None = None
    last: date | None = None
    year: int = 0
    month: int = 0
    day: int = 0
    weekday: int = -1
    part: str = ""  # early / mid / late
    rel: str = ""  # this / last / next / this past (calendar names)
    label: str = ""  # when the window alone would be named wrongly ("this week" from the 1st)
    prep: str = ""  # the cue word before it
    cued: bool = False
    past_word: bool = False
    present_word: bool = False
    vague: bool = False
    members: list[_Hit] = field(default_factory=list)  # the items of a range or list


def _calendar_hits(question: str, starts: list[int]) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _scan(_CALENDAR, question, starts):
        g = m.groupdict()
        start, end = m.start(), m.end()
        if g["iy"]:
            try:
                d = date(int(g["iy"]), int(g["im"]), int(g["id"]))
            except ValueError:
                continue
            hits.append(_Hit(start, end, "iso", first=d, last=d, cued=True))
            continue
        month_text = g["m1"] or g["m2"] or g["m3"]
        if month_text:
            word = month_text.rstrip(".").lower()
            capital = month_text[0].isupper()
            day_text = g["d1"] or g["d2"]
            year_text = g["y1"] or g["y2"] or g["y3"]
            day_digits = re.match(r"\d+", day_text) if day_text else None
            hit = _Hit(
                start,
                end,
                "md" if day_text else "m",
                month=_MONTH_NUM[word],
                day=int(day_digits.group()) if day_digits else 0,
                year=int(year_text) if year_text else 0,
                cued=capital or word not in _AMBIGUOUS_MONTHS,
            )
            if hit.day and hit.day > calendar.monthrange(hit.year or 2024, hit.month)[1]:
                continue
            hits.append(hit)
        elif g["dec"]:
            hits.append(_Hit(start, end, "decade", year=int(g["dec"])))
        elif g["y4"]:
            hits.append(_Hit(start, end, "y", year=int(g["y4"])))
        elif g["m4"]:
            hits.append(_Hit(start, end, "m", month=_MONTH_NUM[g["m4"].lower()]))
        elif g["wd3"]:
            word = g["wd3"]
            hit = _Hit(start, end, "wd", weekday=_WEEKDAY_NUM[word.lower()])
            after = question[end:]
            before = question[:start]
            hit.cued = (
                word[0].isupper()
                and not _HOLIDAY_BEFORE.search(before)
                and (bool(g["poss"]) or not _ARTICLE_BEFORE.search(before))
                and (bool(g["poss"] or g["tod"]) or not re.match(r"\s+[A-Z]", after))
            )
            hits.append(hit)
    return hits


def _relative_hits(question: str, starts: list[int], as_of: date) -> list[_Hit]:
    hits: list[_Hit] = []
    monday = _monday(as_of)
    for m in _scan(_RELATIVE, question, starts):
        g = m.groupdict()
        start, end = m.start(), m.end()
        hit = _Hit(start, end, "rel", cued=True)
        if g["today"]:
            found = re.search(r"today|tonight|this", g["today"], re.I)
            assert found is not None  # the group matched one of these words
            word = found.group()
            if word.lower() == "today" and word[0].isupper() and not _sentence_start(question, m.start()):
                continue
            hit.first = hit.last = as_of
            hit.present_word = True
        elif g["yesterday"]:
            back = 2 if g["yesterday"].lower().startswith("the day before") else 1
            hit.first = hit.last = as_of - timedelta(days=back)
            hit.past_word = True
        elif g["tomorrow"]:
            hit.first = hit.last = as_of + timedelta(days=1)
        elif g["recent_units"]:
            n, unit = {"day": (7, "day"), "week": (4, "week"), "month": (3, "month"), "year": (3, "year")}[
                g["ru"].lower()
            ]
            hit.first, hit.last = _minus(as_of, n, unit), as_of
            hit.label = f"{hit.first.isoformat()} to {hit.last.isoformat()}"
            hit.present_word = hit.vague = True
        elif g["rolling"]:
            unit = g["unit"].lower()
            phrase = g["rolling"].lower()
            calendar_last = not g["n"] and re.search(r"(?<!the )\b(?:last|previous)\s", phrase)
            if calendar_last and not re.search(r"\bthe\s+(?:past|last|previous)\b", phrase):
                # "last week" without "the": the previous calendar week/month/year
                hit.first, hit.last = _previous_period(unit, as_of)
                hit.past_word = True
                if unit == "decade":
                    hit.first, hit.last = _minus(as_of, 10, "year"), as_of
            else:
                hit.first, hit.last = _minus(as_of, _count(g["n"]), unit), as_of
                hit.label = f"{hit.first.isoformat()} to {hit.last.isoformat()}"
        elif g["coming"]:
            unit = g["cunit"].lower()
            n = _count(g["cn"])
            hit.first, hit.last = as_of, _minus(as_of, -n, unit)
        elif g["ago"]:
            unit = g["au"].lower()
            n = _count(g["an"])
            day = _minus(as_of, n, unit)
            if unit == "day":
                hit.first = hit.last = day
            elif unit == "week":
                hit.first = _monday(day)
                hit.last = hit.first + timedelta(days=6)
            elif unit == "month":
                hit.first, hit.last = date(day.year, day.month, 1), _month_end(day.year, day.month)
            else:
                hit.first, hit.last = date(day.year, 1, 1), date(day.year, 12, 31)
            hit.past_word = True
        elif g["weekend"]:
            phrase = g["weekend"].lower()
            saturday = monday + timedelta(days=5)
            if phrase.startswith(("last", "past", "this past")):
                hit.first, hit.last = saturday - timedelta(days=7), saturday - timedelta(days=6)
                hit.past_word = True
            elif phrase.startswith("next"):
                hit.first, hit.last = saturday + timedelta(days=7), saturday + timedelta(days=8)
            elif phrase.startswith("this"):
                hit.first = saturday
                hit.last = (
                    min(saturday + timedelta(days=1), as_of) if as_of >= saturday else saturday + timedelta(1)
                )
            else:  # over the weekend: the most recent one
                if as_of < saturday:
                    saturday -= timedelta(days=7)
                hit.first, hit.last = saturday, min(saturday + timedelta(days=1), as_of)
            hit.label = f"the weekend of {hit.first.isoformat()}"
        elif g["cal_rel"]:
            unit = g["runit"].lower()
            rel = g["rel"].lower()
            if rel == "this":
                hit.first = {"week": monday, "month": as_of.replace(day=1), "year": date(as_of.year, 1, 1)}[
                    unit
                ]
                if g["early"] and g["early"].lower().startswith("later"):
                    hit.first = as_of
                    hit.last = {
                        "week": monday + timedelta(days=6),
                        "month": _month_end(as_of.year, as_of.month),
                        "year": date(as_of.year, 12, 31),
                    }[unit]
                else:
                    hit.last = as_of
                    hit.past_word = bool(g["early"])
                    hit.present_word = not g["early"]
                    hit.label = {
                        "week": f"the week of {monday.isoformat()}",
                        "month": f"{_MONTH_NAMES[as_of.month]} {as_of.year}",
                        "year": str(as_of.year),
                    }[unit]
            elif rel in ("last", "previous"):
                hit.first, hit.last = _previous_period(unit, as_of)
                hit.past_word = True
            else:
                hit.first, hit.last = _next_period(unit, as_of)
            if g["cal_rel"].lower().startswith("since"):
                hit.last = as_of
        elif g["season"]:
            window = _season_hit(g, as_of)
            if window is None:
                continue
            hit.first, hit.last, hit.past_word = window
            name = g["sname"].lower()
            hit.label = f"{name} {hit.first.year}" + (
                f"-{hit.last.year % 100:02d}" if name == "winter" else ""
            )
        elif g["recently"]:
            hit.first, hit.last = as_of - timedelta(days=30), as_of
            hit.label = f"{hit.first.isoformat()} to {hit.last.isoformat()}"
            hit.present_word = hit.vague = True
        hits.append(hit)
    return hits


def _sentence_start(question: str, pos: int) -> bool:
    return not question[:pos].strip() or bool(re.search(r"[.?!:]\s*$", question[:pos]))


def _previous_period(unit: str, as_of: date) -> tuple[date, date]:
    if unit == "day":
        d = as_of - timedelta(days=1)
        return d, d
    if unit == "week":
        start = _monday(as_of) - timedelta(days=7)
        return start, start + timedelta(days=6)
    if unit == "month":
        d = _add_months(as_of.replace(day=1), -1)
        return d, _month_end(d.year, d.month)
    return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)


def _next_period(unit: str, as_of: date) -> tuple[date, date]:
    if unit == "week":
        start = _monday(as_of) + timedelta(days=7)
        return start, start + timedelta(days=6)
    if unit == "month":
        d = _add_months(as_of.replace(day=1), 1)
        return d, _month_end(d.year, d.month)
    return date(as_of.year + 1, 1, 1), date(as_of.year + 1, 12, 31)


def _season_hit(g: dict[str, str | None], as_of: date) -> tuple[date, date, bool] | None:
    name = (g["sname"] or "").lower()
    rel = re.sub(r"\s+", " ", (g["srel"] or "").lower())
    if g["sy"]:
        return *_season_window(name, int(g["sy"])), False
    occurrences = [_season_window(name, y) for y in range(as_of.year - 2, as_of.year + 2)]
    if rel == "this":
        year = as_of.year - 1 if name == "winter" and as_of.month <= 2 else as_of.year
        return *_season_window(name, year), False
    if rel in ("last", "past", "this past"):
        ended = [o for o in occurrences if o[1] < as_of]
        return *ended[-1], True
    if rel == "next":
        return *next(o for o in occurrences if o[0] > as_of), False
    if g["sprep"] and name != "fall":  # "in the fall" is as often a tumble
        begun = [o for o in occurrences if o[0] <= as_of]
        return *begun[-1], False
    return None


# --- resolving calendar names -------------------------------------------------------------


def _resolve(hit: _Hit, as_of: date, future: bool) -> bool:
    """Fill hit.first/last from its calendar parts; False when it names no real date."""
    if hit.kind in ("iso", "rel") or hit.first is not None:
        return True
    if hit.kind == "md":
        year = hit.year or _year_for_day(hit.month, hit.day, as_of, future)
        if year is None:
            return False
        hit.first = hit.last = date(year, hit.month, hit.day)
    elif hit.kind == "m":
        year = hit.year or _year_for_month(hit, as_of, future)
        if hit.part:
            low, high = _PART_DAYS[hit.part]
            hit.first = date(year, hit.month, low)
            hit.last = _month_end(year, hit.month) if high == 31 else date(year, hit.month, high)
        else:
            hit.first, hit.last = date(year, hit.month, 1), _month_end(year, hit.month)
    elif hit.kind == "y":
        low, high = _PART_MONTHS.get(hit.part, (1, 12))
        hit.first, hit.last = date(hit.year, low, 1), _month_end(hit.year, high)
    elif hit.kind == "decade":
        hit.first, hit.last = date(hit.year, 1, 1), date(hit.year + 9, 12, 31)
    elif hit.kind == "wd":
        hit.first = hit.last = _weekday_date(hit, as_of, future)
    return True


def _year_for_day(month: int, day: int, as_of: date, future: bool) -> int | None:
    years = range(as_of.year, as_of.year + 9) if future else range(as_of.year, as_of.year - 9, -1)
    for year in years:
        if day > calendar.monthrange(year, month)[1]:
            continue
        d = date(year, month, day)
        if (d >= as_of) if future else (d <= as_of):
            return year
    return None


def _year_for_month(hit: _Hit, as_of: date, future: bool) -> int:
    this = as_of.year
    if hit.rel == "this":
        return this
    if hit.rel in ("last", "this past"):
        return this if hit.month < as_of.month else this - 1
    if hit.rel == "next":
        return this if hit.month > as_of.month else this + 1
    if future:
        return this if hit.month >= as_of.month else this + 1
    return this if hit.month <= as_of.month else this - 1


def _weekday_date(hit: _Hit, as_of: date, future: bool) -> date:
    monday = _monday(as_of)
    if hit.rel == "this":
        return monday + timedelta(days=hit.weekday)
    if hit.rel == "next":
        return monday + timedelta(days=7 + hit.weekday)
    back = (as_of.weekday() - hit.weekday) % 7
    if hit.rel in ("last", "this past"):
        return as_of - timedelta(days=back or 7)
    if future and hit.prep != "since":
        return as_of + timedelta(days=(hit.weekday - as_of.weekday()) % 7)
    return as_of - timedelta(days=back)


def _cue_before(before: str) -> re.Match[str] | None:
    """The longest cue ("in", "since", "in early", "last") that ends ``before``."""
    starts = [m.start() for m in _WORD_START.finditer(before)][-5:]
    for start in starts:
        m = _CUE_BEFORE.fullmatch(before, start)
        if m and m.end() > m.start():
            return m
    return None


def _attach_cues(question: str, hits: list[_Hit]) -> None:
    for hit in hits:
        if hit.kind == "rel":
            continue
        before = question[max(0, hit.start - 40) : hit.start]
        if hit.kind == "decade":
            m = re.search(r"\b(?P<prep>in|during|since|throughout|of|from)\s+the\s+$", before, re.I)
            if m:
                hit.start -= len(before) - m.start()
                hit.prep, hit.cued = m["prep"].lower(), True
            continue
        m = _cue_before(before)
        if m is None:
            continue
        prep = (m["prep"] or "").lower()
        mod = (m["mod"] or "").lower().split()
        rel = re.sub(r"\s+", " ", (m["rel"] or "").lower())
        if hit.kind == "y" and rel:
            continue  # "this 2024" is not English; leave the year alone
        if hit.kind in ("md", "iso") and (mod or rel):
            mod, rel = [], ""
            m2 = re.search(r"\b(?P<prep>since|on|from|between|of|in)\s+$", before, re.I)
            if not m2:
                continue
            prep = m2["prep"].lower()
            hit.start -= len(before) - m2.start()
            hit.prep = prep
            continue
        if hit.kind == "wd":
            if mod or prep not in ("", "on", "since", "from", "between"):
                continue
            if not prep and not rel:
                continue
        if hit.kind == "m" and prep == "of" and not (mod or rel) and not question[hit.start].isupper():
            continue
        if hit.kind == "m" and prep == "on" and not (mod or rel):
            continue
        if hit.kind == "y" and prep == "on":
            continue
        hit.start -= len(before) - m.start()
        hit.prep, hit.rel = prep, rel
        if mod:
            word = mod[-2] if mod[-1] == "of" else mod[0]
            hit.part = _PART_ALIASES.get(word, word)
        hit.cued = True
        hit.past_word = hit.past_word or rel in ("last", "this past")


def _combine(question: str, hits: list[_Hit], as_of: date, future: bool) -> list[_Hit]:
    """Merge ranges ("between March and May") and lists ("in January and February")."""
    out: list[_Hit] = []
    for hit in hits:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind != "rel"
            and hit.kind not in ("rel", "iso")
            and _compatible(prev, hit)
        ):
            gap = question[prev.end : hit.start]
            if prev.prep in ("between", "from") and not prev.members and _RANGE_GAP.match(gap):
                out[-1] = _merge([prev, hit], as_of, future, prev.start, hit.end, "range")
                continue
            if prev.cued and _LIST_GAP.match(gap):
                members = [*(prev.members or [prev]), hit]
                out[-1] = _merge(members, as_of, future, prev.start, hit.end, "list")
                continue
        out.append(hit)
    return out


def _compatible(a: _Hit, b: _Hit) -> bool:
    ka = "md" if a.kind in ("md", "m") else a.kind
    kb = "md" if b.kind in ("md", "m") else b.kind
    tail = a.members[-1] if a.members else a
    if a.members and tail.kind != b.kind and not (ka == kb == "md"):
        return False
    return ka == kb and (ka != "md" or b.cued or b.kind == "m" or b.day > 0)


def _merge(members: list[_Hit], as_of: date, future: bool, start: int, end: int, how: str) -> _Hit:
    last = members[-1]
    last.cued = True
    if not _resolve(last, as_of, future):
        last.first = last.last = as_of
    year = last.first.year if last.first else 0
    for item in reversed(members[:-1]):
        if item.kind in ("md", "m") and not item.year:
            after = members[members.index(item) + 1]
            item.year = year if (item.month, item.day) <= (after.month, after.day or 31) else year - 1
        if item.kind == "wd":
            assert last.first is not None  # resolved above, or as_of
            item.first = item.last = last.first - timedelta(days=(last.first.weekday() - item.weekday) % 7)
        item.cued = True
        _resolve(item, as_of, future)
        if item.first is not None:
            year = item.first.year
    firsts = [m.first for m in members if m.first]
    lasts = [m.last for m in members if m.last]
    merged = _Hit(start, end, how, first=min(firsts), last=max(lasts), cued=True)
    merged.members = members
    merged.past_word = any(m.past_word for m in members)
    merged.prep = members[0].prep
    return merged


def _drop_overlaps(hits: list[_Hit]) -> list[_Hit]:
    hits = sorted(hits, key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[_Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            if hit.end - hit.start > kept[-1].end - kept[-1].start:
                kept[-1] = hit
            continue
        kept.append(hit)
    return kept


# --- the reading ----------------------------------------------------------------------------


def _label(start: date, end: date, as_of: date) -> str:
    if start == end:
        return start.isoformat()
    to_date = end == as_of
    same_month = start.day == 1 and (start.year, start.month) == (end.year, end.month)
    if same_month and (to_date or end == _month_end(end.year, end.month)):
        return f"{_MONTH_NAMES[start.month]} {start.year}"
    if (
        (start.month, start.day) == (1, 1)
        and start.year == end.year
        and (to_date or (end.month, end.day) == (12, 31))
    ):
        return str(start.year)
    if start.weekday() == 0 and ((to_date and (end - start).days < 7) or (end - start).days == 6):
        return f"the week of {start.isoformat()}"
    return f"{start.isoformat()} to {end.isoformat()}"


def _tense_present(question: str, tokens: list[re.Match[str]], words: list[str]) -> bool:
    for m, word in zip(tokens, words, strict=True):
        if word not in _AUX_PRESENT and word not in _AUX_PAST:
            continue
        if m.group()[0].isupper() and not _sentence_start(question, m.start()):
            continue  # "Will Smith", "Can Yaman": a name, not an auxiliary
        return word in _AUX_PRESENT
    return False


def _has(words: list[str], singles: frozenset[str], pairs: frozenset[tuple[str, str]]) -> bool:
    return not singles.isdisjoint(words) or any(pair in pairs for pair in itertools.pairwise(words))


def _starts(tokens: list[re.Match[str]], words: list[str]) -> list[int]:
    """Where an expression may begin: a trigger word or one of the few words before it."""
    out: set[int] = set()
    for i, word in enumerate(words):
        if word.isdigit():
            if len(word) != 4 or word[:2] not in ("18", "19", "20"):
                continue
        elif word.partition("'")[0] not in _TRIGGER_WORDS:
            continue
        out.update(m.start() for m in tokens[max(0, i - _LEAD_WORDS) : i + 1])
    return sorted(out)


def _scan(pattern: re.Pattern[str], question: str, starts: list[int]) -> list[re.Match[str]]:
    """Like ``pattern.finditer`` but trying only ``starts``: leftmost, non-overlapping."""
    found: list[re.Match[str]] = []
    end = -1
    for pos in starts:
        if pos < end:
            continue
        m = pattern.match(question, pos)
        if m:
            found.append(m)
            end = m.end()
    return found


def _adjacent(question: str, a: _Hit, b: _Hit) -> bool:
    first, second = (a, b) if a.start < b.start else (b, a)
    return bool(_PHRASE_GAP.match(question[first.end : second.start]))


def _strict_spans(question: str, hit: _Hit) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    before = question[max(0, hit.start - 80) : hit.start]
    m = _STRICT_BEFORE.search(before)
    if m:
        offset = hit.start - len(before)
        spans.append((offset + m.start("w"), offset + m.end("w")))
    m = _STRICT_AFTER.match(question[hit.end :])
    if m:
        spans.append((hit.end + m.start("w"), hit.end + m.end("w")))
    return spans


def read_time(question: str, as_of: date) -> TimeReading:
    """The time expressions of ``question`` as a window relative to ``as_of`` (see the module doc)."""
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    tokens = list(_TOKEN.finditer(question))
    words = [m.group().lower().replace("’", "'") for m in tokens]
    present_word = _has(words, _PRESENT_WORDS, _PRESENT_PAIRS)
    tense_present = _tense_present(question, tokens, words)
    starts = _starts(tokens, words)
    if not starts:
        return TimeReading(None, (), present_word or tense_present, False)

    future = _has(words, _FUTURE_WORDS, _FUTURE_PAIRS)
    hits = _drop_overlaps(_calendar_hits(question, starts) + _relative_hits(question, starts, as_of))
    _attach_cues(question, hits)
    hits = _combine(question, hits, as_of, future)
    annually = bool(_ANNUALLY.search(question))
    accepted: list[_Hit] = []
    for hit in hits:
        if not hit.cued:
            continue
        if _RECURRING_BEFORE.search(question[max(0, hit.start - 20) : hit.start]):
            continue
        if annually and hit.kind in ("md", "m", "wd") and not hit.year:
            continue
        if not _resolve(hit, as_of, future):
            continue
        if hit.prep == "since":
            hit.last = as_of
        accepted.append(hit)

    if not accepted:
        return TimeReading(None, (), present_word or tense_present, False)

    spans: list[tuple[int, int]] = []
    strict = False
    for hit in accepted:
        spans.append((hit.start, hit.end))
        extra = _strict_spans(question, hit)
        strict = strict or bool(extra)
        spans.extend(extra)
    spans = sorted(set(spans))

    window_hits = [h for h in accepted if not h.vague] or accepted
    # _resolve filled first and last of every accepted hit
    ordered = sorted(window_hits, key=lambda h: ((cast(date, h.last) - cast(date, h.first)).days, h.start))
    start, end = ordered[0].first, ordered[0].last
    conflict = ""
    base = ordered[0]
    assert start is not None and end is not None and base.first is not None and base.last is not None
    for hit in ordered[1:]:
        assert hit.first is not None and hit.last is not None
        if hit.last < start or hit.first > end:
            if _adjacent(question, base, hit) and not conflict:
                a = question[base.start : base.end]
                b = question[hit.start : hit.end]
                conflict = (
                    f'"{a}" ({_label(base.first, base.last, as_of)}) and "{b}" '
                    f"({_label(hit.first, hit.last, as_of)}) do not overlap"
                )
            continue
        start, end = max(start, hit.first), min(end, hit.last)

    past = any(h.past_word for h in accepted)
    window: TimeWindow | None = None
    if not conflict:
        label = base.label if (start, end) == (base.first, base.last) and base.label else ""
        window = TimeWindow(start, end, strict=strict, label=label or _label(start, end, as_of))
        past = past or end < _monday(as_of)
    present = present_word or any(h.present_word for h in accepted) or (tense_present and not past)
    is_future = window is not None and window.start is not None and window.start > as_of
    return TimeReading(window, tuple(spans), present, past, conflict, is_future)
