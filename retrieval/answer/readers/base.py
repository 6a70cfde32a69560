"""The reader contract: score a question's candidate sentences, once per question, in one batch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answer.candidates import Candidate
from retrieval.search.query import Query


@dataclass(frozen=True)
class Span:
    """An answer span inside a candidate sentence, as offsets into its article."""

    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Reading:
    """What a reader made of a question's candidates (in the order it was given them)."""

    #: one per candidate, higher is better: the order quotes are picked in
    scores: tuple[float, ...]
    #: the probability (0..1) that the best candidate answers; None: the composer judges
    #: with its own rules
    confidence: float | None = None
    #: one per candidate (or empty): the best answer span inside it, where the reader reads spans
    spans: tuple[Span | None, ...] = ()


class Reader(ABC):
    """Scores candidate sentences for a question."""

    #: "rules" or "learned"
    name: str = ""
    #: a question is answered when the reading's confidence reaches this
    min_confidence: float = 0.0
    #: a span is the short answer when its probability reaches this
    min_span: float = 1.0

    @abstractmethod
    def read(self, query: Query, candidates: Sequence[Candidate]) -> Reading:
        """Score ``candidates`` (best first by the rules) for ``query``."""

    def reads(self, query: Query) -> bool:
        """Whether this reader reads ``query``'s language (else the rules do)."""
        return True
