"""The composer's first stage: every sentence of the top hits, with the cues that rank it.

A :class:`Candidate` is one sentence (its offsets in the article) of one retrieved hit,
with the share of the question's terms it holds and how well it fits the kind of answer
asked for; a reader (:mod:`retrieval.answer.readers`) then scores the candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from retrieval.answer.answer_types import type_score
from retrieval.search.query import Query
from retrieval.text import sentence_spans, terms
from retrieval.types import Hit

Idf = Callable[[str], float]


@dataclass(frozen=True)
class Terms:
    """A question's search terms in one language, in groups of alternatives (the senses a
    dictionary gives one question word), with their idf weights."""

    terms: list[str]
    groups: list[frozenset[str]]
    weights: dict[str, float]
    total: float

    @classmethod
    def of(cls, groups: Iterable[Iterable[str]], idf: Idf) -> Terms:
        kept = list(dict.fromkeys(frozenset(g) for g in groups if g))
        found = sorted(set().union(*kept))
        weights = {t: idf(t) for t in found}
        return cls(found, kept, weights, sum(max(weights[t] for t in g) for g in kept) or 1.0)

    @classmethod
    def of_renderings(cls, words: Sequence[str], language: str, idf: Idf) -> Terms:
        """Each rendered question word is one group of alternatives."""
        return cls.of((frozenset(terms(w, language=language)) for w in words), idf)

    def overlap(self, sentence: str, language: str) -> float:
        """Share of the (idf-weighted) groups found in ``sentence``: a group counts with its
        best term found, so a word with many senses weighs as much as a word with one."""
        found = set(terms(sentence, language=language))
        return sum(max((self.weights[t] for t in g & found), default=0.0) for g in self.groups) / self.total


@dataclass(frozen=True)
class QuestionTerms:
    """The question's terms for articles in its own language and in each rendering's."""

    own: Terms
    wanted: dict[str, Terms]

    @classmethod
    def of(cls, query: Query) -> QuestionTerms:
        idf = query.idf_of
        wanted = {
            r.language: Terms.of_renderings(r.words, r.language, idf)
            for r in query.renderings
            if r.language != query.language
        }
        return cls(Terms.of(([t] for t in query.terms), idf), wanted)

    def for_language(self, language: str) -> Terms:
        return self.wanted.get(language, self.own)


@dataclass
class Candidate:
    """One sentence of a hit. ``score`` is the rule-based rank (hit, overlap, kind fit);
    a reader may add to it (``cosine``) or replace it (``reader``)."""

    hit: Hit
    focus: tuple[int, int]
    overlap: float
    score: float
    fit: float = 0.0  # holds the kind of thing asked for (answer_types.type_score)
    cosine: float | None = None  # question vs sentence, where it was embedded
    rank: int = 0  # its hit's rank among the hits (0: the best)
    rule: float = 0.0  # the rule-based score before any reader

    @property
    def text(self) -> str:
        return self.hit.article.text[self.focus[0] : self.focus[1]]


def gather(
    query: Query,
    hits: Sequence[Hit],
    kind: str,
    terms_of: QuestionTerms,
    *,
    hits_considered: int,
    hit_weight: float,
    overlap_weight: float,
    type_weight: float,
    typed: int,
) -> list[Candidate]:
    """Every sentence of the first ``hits_considered`` hits, best first by the rules:
    ``hit_weight`` x the hit's score (relative to the best) + ``overlap_weight`` x term
    overlap, then ``type_weight`` x kind fit for the best ``typed`` of them (the cues
    cost the most; the rest, at most ``type_weight`` behind, rarely reach a quote).
    Ordered by the score before the kind fit: the scoring stage sorts."""
    best_hit = max((h.score for h in hits), default=1.0) or 1.0
    found: list[Candidate] = []
    for rank, hit in enumerate(hits[:hits_considered]):
        text = hit.article.text
        language = hit.article.language
        for a, b in sentence_spans(text, hit.start, hit.end):
            overlap = terms_of.for_language(language).overlap(text[a:b], language)
            score = hit_weight * (hit.score / best_hit) + overlap_weight * overlap
            found.append(Candidate(hit, (a, b), overlap, score, rank=rank))
    found.sort(key=lambda c: -c.score)
    for cand in found[:typed]:
        cand.fit = type_score(kind, cand.text, query.text, cand.hit.article.language)
        cand.score += type_weight * cand.fit
    for cand in found:
        cand.rule = cand.score
    return found
