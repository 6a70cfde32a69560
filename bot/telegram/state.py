"""What the Telegram bot remembers: per-chat questions (for /more, /sources and
buttons) and per-user question budgets."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from retrieval.types import Article, Quote

SESSIONS_KEPT = 30  # per chat: buttons under older answers then say "too old"


class RateLimit:
    """At most ``calls`` per ``seconds`` per key (a sliding window)."""

    def __init__(self, calls: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls = calls
        self.seconds = seconds
        self.clock = clock
        self._hits: dict[int, deque[float]] = {}

    def wait(self, key: int) -> float:
        """0 and count the call when allowed, else the seconds until the next is."""
        if self.calls <= 0:
            return 0.0
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.seconds:
            hits.popleft()
        if len(hits) >= self.calls:
            return self.seconds - (now - hits[0])
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle users
            for k in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.seconds]:
                del self._hits[k]
        return 0.0


@dataclass
class Session:
    """One question in one chat, and what has been shown for it."""

    id: int
    question: str  # as typed
    query: str  # as searched (follow-ups expanded)
    answered: bool
    quotes: list[Quote] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)  # in source-number order

    def numbers(self) -> dict[str, int]:
        return {a.id: n for n, a in enumerate(self.articles, 1)}

    def add(self, quotes: Sequence[Quote]) -> list[Quote]:
        """Record quotes as shown; returns those not shown before."""
        seen = {(q.article.id, q.start) for q in self.quotes}
        fresh = [q for q in quotes if (q.article.id, q.start) not in seen]
        self.quotes.extend(fresh)
        known = {a.id for a in self.articles}
        for q in fresh:
            if q.article.id not in known:
                known.add(q.article.id)
                self.articles.append(q.article)
        return fresh


@dataclass
class Conversation:
    """A chat's recent questions (buttons on older messages keep working)."""

    sessions: OrderedDict[int, Session] = field(default_factory=OrderedDict)
    next_id: int = 1
    last: Session | None = None

    def start(self, question: str, query: str, answered: bool) -> Session:
        session = Session(self.next_id, question, query, answered)
        self.next_id += 1
        self.sessions[session.id] = session
        while len(self.sessions) > SESSIONS_KEPT:
            self.sessions.popitem(last=False)
        self.last = session
        return session
