"""The rule-based reader: the candidates' own cues (hit, term overlap, kind fit, cosine)."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.answer.candidates import Candidate
from retrieval.answer.readers.base import Reader, Reading
from retrieval.search.query import Query


class RulesReader(Reader):
    """Ranks by the score the candidates stage gave (no model, every language)."""

    name = "rules"

    def read(self, query: Query, candidates: Sequence[Candidate]) -> Reading:
        return Reading(tuple(c.score for c in candidates))
