"""Published dates exactly as precise as the text that gives them.

A date is only what the text says: nothing is filled in from today. The value
is kept as an ISO prefix whose length is its precision:

- ``"2020"``: a year, ``"2020-05"``: a month, ``"2020-05-09"``: a day;
- a full timestamp gives its day as written (``"2023-05-09T23:30:00-05:00"`` →
  ``"2023-05-09"``, no time-zone conversion);
- a weekday, a day of the month or a month without a year (``"Tuesday"``,
  ``"10"``, ``"May"``) is not a date: ``""``;
- an impossible date (``"2023-02-30"``) is ``""`` too, and :func:`read_date`
  says why, so a reader can warn about that file.

:func:`published_span` turns a stored value into the first and last day it covers,
which is how filters and rankings compare partial dates with days.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

#: years outside this range are read as not a date (a four-digit ISO prefix needs them)
MIN_YEAR, MAX_YEAR = 1000, 9999
#: longer values are not read as dates at all
MAX_CHARS = 100

_NUMERIC = re.compile(r"\A(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?=\Z|T\d|\s+\d{1,2}:\d{2})")
_PREFIX = re.compile(r"\A(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Two defaults that differ in every part: what the text leaves out comes out different.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2004, 2, 2))  # both leap years (29 February)


def normalize_date(value: object) -> str:
    """The ISO prefix (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) a value states, or ""."""
    return read_date(value)[0]


def read_date(value: object) -> tuple[str, str]:
    """``(iso, warning)``: the ISO prefix of ``value`` (or ""), and why a date-like
    value was dropped (or "" when there is nothing to say)."""
    if value is None:
        return "", ""
    if isinstance(value, datetime):
        return _in_range(value.date().isoformat()), ""
    if isinstance(value, date):
        return _in_range(value.isoformat()), ""
    text = " ".join(str(value).split())
    if not text or len(text) > MAX_CHARS:
        return "", ""
    m = _NUMERIC.match(text)
    if m:
        return _numeric(text, *m.groups())
    return _parsed(text)


def published_span(published: str) -> tuple[date, date] | None:
    """First and last day an ISO prefix covers (``"2020"`` → 1 January … 31 December 2020).

    ``None`` for "" or anything that is not an ISO prefix of a real date.
    """
    m = _PREFIX.match(published or "")
    if not m:
        return None
    year, month, day = (int(g) if g else 0 for g in m.groups())
    try:
        if day:
            one = date(year, month, day)
            return one, one
        if month:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def _numeric(text: str, year: str, month: str | None, day: str | None) -> tuple[str, str]:
    y = int(year)
    if not MIN_YEAR <= y <= MAX_YEAR:
        return "", ""
    if month is None:
        return year, ""
    m = int(month)
    if not 1 <= m <= 12:
        return "", _unreal(text)
    if day is None:
        return f"{y:04d}-{m:02d}", ""
    try:
        return date(y, m, int(day)).isoformat(), ""
    except ValueError:
        return "", _unreal(text)


def _parsed(text: str) -> tuple[str, str]:
    from dateutil import parser as dateparser

    try:
        a, b = (dateparser.parse(text, default=d, fuzzy=False) for d in _DEFAULTS)
    except (ValueError, OverflowError) as exc:  # ParserError is a ValueError
        return "", _unreal(text) if "out of range for month" in str(exc) else ""
    if a.year != b.year or not MIN_YEAR <= a.year <= MAX_YEAR:
        return "", ""  # no year stated: "Tuesday", "10", "May"
    if a.month != b.month:
        return f"{a.year:04d}", ""
    if a.day != b.day:
        return f"{a.year:04d}-{a.month:02d}", ""
    return a.date().isoformat(), ""


def _in_range(iso: str) -> str:
    return iso if MIN_YEAR <= int(iso[:4]) <= MAX_YEAR else ""


def _unreal(text: str) -> str:
    shown = text if len(text) <= 60 else text[:60] + "…"
    return f"published date {shown} is not a real date; indexed without a date"
