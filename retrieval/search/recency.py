"""When a question is asked and what time it names, turned into what retrieval does with it.

A question has an as-of date (the day it is asked) and may name a time ("last week",
"in May"). From them:

- hard limits (:func:`time_filters`): nothing published after an as-of date given
  explicitly ("as it was known then"), and a window the question insists on ("only in May");
- preferred days (:func:`preferred_window`), searched too, their best passages merged into
  the dense and BM25 rankings by their own scores, so that the few passages from then
  compete with the whole archive: the window the question names, or the last
  ``recent_days`` for a question naming no past time;
- a prior on article age (:func:`age_prior`) multiplying the fused scores: an exponential
  decay with a half-life of days, stronger for questions about the present, absent for
  questions that name a past time, where being in the named window counts instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from retrieval.dates import published_span
from retrieval.search.time_expressions import TimeReading
from retrieval.types import AsOf, Filters, Quote


@dataclass(frozen=True)
class TimeParams:
    """How much time counts; chosen on the 2024 set (bench/quality.py --dates)."""

    #: the preferred days of a question naming no past time: the last this many
    recent_days: int = 14
    #: half-life of the age prior, in days
    half_life_days: float = 14.0
    #: share of a fused score the age prior can take away from the oldest articles (0: off):
    #: for questions about the present, and for the others when the as-of date was given
    #: (a question dated only by when it is typed is about a thing, not a time)
    present_weight: float = 0.3
    neutral_weight: float = 0.2
    #: the share taken from articles outside a window the question names
    outside_window_weight: float = 0.3
    #: days of slack around a named window (publishing lags the events)
    window_slack_days: int = 3
    #: a window whose newest matching article is older than this many days is called out
    stale_days: int = 30
    #: quotes scoring at least this share of the best one count as matching
    relevant_share: float = 0.8


@dataclass(frozen=True)
class TimeContext:
    """The question's as-of day (given or not) and what time it names, as the retriever reads it."""

    asked: AsOf
    reading: TimeReading

    @property
    def as_of(self) -> date:
        return self.asked.day

    @property
    def given(self) -> bool:
        """The as-of date was given explicitly: nothing after it is quoted."""
        return self.asked.given

    @property
    def names_past(self) -> bool:
        window = self.reading.window
        return window is not None and self.reading.past

    @property
    def about_present(self) -> bool:
        return self.reading.present or (self.reading.window is None and not self.reading.past)


def time_filters(user: Filters | None, time: TimeContext | None) -> Filters | None:
    """``user``'s filters narrowed by the hard time limits; raises ValueError, saying why,
    when they leave no day at all (e.g. only in a month after the as-of date)."""
    if time is None:
        return user
    since = user.since if user else None
    until = user.until if user else None
    window = time.reading.window
    strict = window is not None and window.strict
    if window is not None and strict:
        since = max(d for d in (since, window.start) if d) if (since or window.start) else None
        until = min(d for d in (until, window.end) if d) if (until or window.end) else None
    by = time.as_of if time.given else None
    if (since and until and since > until) or (since and by and since > by):
        what = window.label if window is not None and strict and window.label else "that time"
        if by and window is not None and window.start and window.start > by:
            raise ValueError(f"Nothing published by {by.day} {by:%B %Y} can be from {what}.")
        raise ValueError(f"The question's time ({what}) and the filters leave no day to search.")
    sources = user.sources if user else ()
    if since is None and until is None and by is None and not sources:
        return None
    return Filters(sources=sources, since=since, until=until, published_by=by)


def preferred_window(time: TimeContext | None, params: TimeParams) -> tuple[date, date] | None:
    """The days a question prefers (searched as one more ranking), or None."""
    if time is None:
        return None
    window = time.reading.window
    slack = timedelta(days=params.window_slack_days)
    if window is not None:
        start = (window.start or date.min + slack) - slack
        end = (window.end or time.as_of) + slack
        if time.given:
            end = min(end, time.as_of)
        return (start, end) if start <= end else None
    if time.reading.past:
        return None
    return time.as_of - timedelta(days=params.recent_days), time.as_of


def age_prior(published: str, time: TimeContext, params: TimeParams, reference: date) -> float:
    """A factor in (0, 1] for an article published on ``published``: 1 for the newest (and
    for undated ones), decaying with age before ``reference`` (the as-of date, or the
    archive's newest day when that is older); in or out of a named window for questions
    naming a past time."""
    span = published_span(published)
    window = time.reading.window
    if window is not None and (time.reading.past or not time.about_present):
        if span is None:
            return 1.0
        slack = timedelta(days=params.window_slack_days)
        start = (window.start or date.min + slack) - slack
        end = (window.end or reference) + slack
        inside = span[1] >= start and span[0] <= end
        return 1.0 if inside else 1.0 - params.outside_window_weight
    weight = params.present_weight if time.reading.present else (params.neutral_weight if time.given else 0.0)
    if weight <= 0 or span is None:  # an undated article: no evidence either way
        return 1.0
    age = max(0, (reference - span[1]).days)
    return 1.0 - weight + weight * math.exp(-math.log(2) * age / params.half_life_days)


def present_first(quotes: Sequence[Quote], time: TimeContext | None, share: float = 0.9) -> tuple[Quote, ...]:
    """For a question about the present, the newest of the quotes scoring at least
    ``share`` of the best comes first (the rest keep their order)."""
    if time is None or not time.reading.present or len(quotes) < 2:
        return tuple(quotes)
    best = quotes[0].score
    close = [q for q in quotes if q.score >= share * best and published_span(q.article.published)]
    if not close:
        return tuple(quotes)
    newest = max(close, key=lambda q: (published_span(q.article.published) or (date.min, date.min))[1])
    return (newest, *(q for q in quotes if q is not newest))


def time_notice(quotes: Sequence[Quote], time: TimeContext | None, params: TimeParams) -> str:
    """What the reader should know about the dates: a contradiction in the question, no
    article from the time it names, or that the newest article quoted is much older than
    the time asked about."""
    if time is None or not quotes:
        return ""
    if time.reading.conflict:
        return f"{time.reading.conflict}; answering without a time limit."
    window = time.reading.window
    close = [q for q in quotes if q.score >= params.relevant_share * quotes[0].score]
    spans = [span for q in close if (span := published_span(q.article.published))]
    if window is not None and not time.about_present:
        slack = timedelta(days=params.window_slack_days)
        start, end = (window.start or date.min + slack) - slack, (window.end or time.as_of) + slack
        if not any(last >= start and first <= end for first, last in spans):
            return f"No article quoted is from {window.label or 'then'}: these are the nearest."
        return ""
    if window is None and not time.reading.present:
        return ""
    if not spans:
        return "None of the articles quoted has a date."
    newest = max(last for _, last in spans)
    start = window.start if window is not None and window.start else time.as_of
    if newest < start - timedelta(days=params.stale_days):
        return f"The newest article on this is from {newest.day} {newest:%B %Y}."
    return ""
