"""From retrieved passages to verbatim quotes: score sentences, cut extracts, group.

Every quote is ``article.text[start:end]`` — an exact substring, never rewritten.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from retrieval.answer.answer_types import CUE_LANGUAGES, answer_kind, type_score
from retrieval.answer.candidates import Candidate, QuestionTerms, gather
from retrieval.answer.readers.base import Reader, Reading, Span
from retrieval.answer.readers.rules import RulesReader
from retrieval.answer.short_answer import ShortParams, short_answer
from retrieval.search.query import Query
from retrieval.store.sentences import sentence_text
from retrieval.text import match_spans, sentence_spans, word_count
from retrieval.types import Answer, Hit, Quote, ShortAnswer

RULES = RulesReader()
Similarity = Callable[[Sequence[str]], np.ndarray]
WINDOW_CHARS = 1500  # how far around the answer sentence to look for context
#: quotes composed (then neighbours merged), whatever k: the first k never depend on k
QUOTES_COMPOSED = 20


@dataclass(frozen=True)
class QuoteParams:
    """Weights and limits; chosen on the dev set (bench/quality.py)."""

    hit_weight: float = 0.45
    overlap_weight: float = 0.40
    type_weight: float = 0.15
    context_words: int = 55  # grow a quote with neighbour sentences up to this many words
    #: a focus without the kind of answer asked for grows first towards a neighbour with one
    context_by_kind: bool = True
    #: neighbouring quotes of one article are merged into one up to this many words
    merged_words: int = 140
    max_sentences: int = 3
    #: an article's first this many quotes lead; its further ones follow every other
    #: article's (0: in score order)
    per_article: int = 1
    #: below this cosine (question vs best passage) the archive "holds no answer";
    #: an Archive takes it from its model (ModelTraits.relevance_floor)
    min_dense: float = 0.30
    #: the same floor when the closest article is in another language than the question
    #: (cross-lingual cosines run lower); None: ``min_dense``
    min_dense_across: float | None = None
    #: ... unless this share of the question's (idf-weighted) terms is in one sentence
    min_overlap: float = 0.75
    hits_considered: int = 8
    #: of the candidate sentences (by hit and overlap), this many are weighed by answer kind
    typed_candidates: int = 40
    #: weight of the question-vs-sentence cosine (min-max scaled) in the score of a
    #: sentence in another language than the question's, where no question word can
    #: match (within one language it cost recall on the dev set: bench/quality.py)
    sentence_cosine_weight: float = 0.30
    #: the best sentences (by the other signals) of this many top hits are embedded
    #: for it, at most ``dense_sentences`` of them, in one small batch
    dense_hits: int = 3
    dense_sentences: int = 10
    dense_per_hit: int = 1  # of them, at least this many from each hit that has them
    #: its weight for sentences in the question's own language: 0 (off) unless the model's
    #: sentence cosines are reliable there too (an Archive takes it from its model)
    sentence_cosine_same_language: float = 0.0
    #: a sentence's closeness counts its passage's cosine (Hit.dense) this many times too
    dense_passage: float = 0.0
    #: below this confidence (:func:`_confidence`) a question in a language the answer-type
    #: cues read is "not answered", however close its topic
    min_confidence: float = 0.42
    #: weights of (sentence cosine, term overlap, answer-kind fit) in the confidence
    confidence_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    #: nearest passages shown (marked as such) when the archive holds no answer
    nearest_shown: int = 2
    short: ShortParams = field(default_factory=ShortParams)


def compose_answer(
    query: Query,
    hits: Sequence[Hit],
    k: int = 5,
    params: QuoteParams = QuoteParams(),
    answered: bool | None = None,
    similarity: Similarity | None = None,
    relevance: tuple[float, str] | None = None,
    reader: Reader | None = None,
) -> Answer:
    """Pick the sentences that answer ``query`` from ``hits`` and quote them, in stages:
    candidates (:func:`gather`) -> score (:func:`score`, the ``reader``) -> pick and quote
    (:func:`pick`) -> judge (:func:`judge`).

    ``answered`` forces the confidence decision (used by the lexical/dense-only
    baselines); by default the reader's confidence decides, or the rules' (dense score,
    term overlap, kind fit). ``similarity`` scores sentences against the question (cosines,
    one per text). An article in the language of one of the query's renderings is matched,
    and highlighted, with that rendering's words. ``relevance``: the question's own cosine
    to its closest passage and that passage's language, for the relevance floor, when
    the hits' cosines are not the question's alone (default: the best hit's).
    ``reader``: what scores the candidates (default, and for languages it does not read:
    the rules).
    """
    question = query.text
    if not question:
        return Answer(question, (), answered=False, notice="Please ask a question.")
    if not hits:
        return Answer(
            question, (), answered=False, notice="The archive holds nothing matching that question."
        )
    if reader is None or not reader.reads(query):
        reader = RULES
    kind = answer_kind(question)
    terms_of = QuestionTerms.of(query)
    candidates = candidates_of(query, hits, params, kind, terms_of)
    reading = score(query, candidates, hits, reader, params, similarity)
    if reading.confidence is not None:  # a quote's score is then the reader's, in 0..1
        for cand, value in zip(candidates, reading.scores, strict=True):
            cand.score = 1.0 / (1.0 + math.exp(-value))
    order = sorted(range(len(candidates)), key=lambda i: -reading.scores[i])
    ranked = [candidates[i] for i in order]
    quotes = pick(query, ranked, kind, terms_of, k, params)
    first = next((c for c in ranked if quotes and c.focus == quotes[0].focus), None)
    verdict = judge(query, hits, candidates, first, reading, reader, params, relevance)
    if answered is None:
        answered = verdict.answered
    short = None
    if answered and quotes:
        span = None
        if reading.spans and first is not None:
            span = reading.spans[order[ranked.index(first)]]
        # the rules' span (a name, number, date ... of the kind asked for, when
        # unambiguous), else the reader's where it is sure enough
        short = short_answer(question, kind, quotes[0], verdict.confidence, params.short)
        if short is None and reading.confidence is not None:
            short = _span_answer(span, quotes[0], kind, reader)
    notice = "" if answered else "The archive holds no clear answer; the nearest passages follow."
    shown = quotes[:k] if answered else quotes[: min(k, params.nearest_shown)]
    return Answer(
        question,
        tuple(shown),
        answered=answered,
        notice=notice,
        more=tuple(quotes[k:]) if answered else (),
        hits=tuple(hits),
        short=short,
        confidence=round(verdict.confidence, 4),
    )


def candidates_of(
    query: Query,
    hits: Sequence[Hit],
    params: QuoteParams = QuoteParams(),
    kind: str | None = None,
    terms_of: QuestionTerms | None = None,
) -> list[Candidate]:
    """The candidates stage (:func:`gather`) with ``params``' weights; ``kind`` and
    ``terms_of`` are read off the query unless the caller has them already."""
    return gather(
        query,
        hits,
        answer_kind(query.text) if kind is None else kind,
        QuestionTerms.of(query) if terms_of is None else terms_of,
        hits_considered=params.hits_considered,
        hit_weight=params.hit_weight,
        overlap_weight=params.overlap_weight,
        type_weight=params.type_weight,
        typed=params.typed_candidates,
    )


def score(
    query: Query,
    candidates: list[Candidate],
    hits: Sequence[Hit],
    reader: Reader,
    params: QuoteParams,
    similarity: Similarity | None = None,
) -> Reading:
    """The scoring stage: the sentence cosine cue where it is on, then the reader, once."""
    if (
        similarity is not None
        and max(params.sentence_cosine_weight, params.sentence_cosine_same_language) > 0
    ):
        _add_sentence_similarity(candidates, hits[: params.dense_hits], query.language, similarity, params)
    return reader.read(query, candidates)


def pick(
    query: Query,
    ranked: Sequence[Candidate],
    kind: str,
    terms_of: QuestionTerms,
    k: int,
    params: QuoteParams,
) -> list[Quote]:
    """The pick and quote stages: the best candidates in order, each grown into a quote
    that overlaps no earlier one of its article, neighbours merged, sources spread."""
    question = query.text
    quotes: list[Quote] = []
    for cand in ranked:
        taken = [(q.start, q.end) for q in quotes if q.article.id == cand.hit.article.id]
        if any(cand.focus[0] < e and cand.focus[1] > s for s, e in taken):
            continue
        language_of = cand.hit.article.language
        fit = (
            (lambda t, lang=language_of: type_score(kind, t, question, lang))
            if params.context_by_kind
            else None
        )
        quotes.append(_quote(cand, terms_of.for_language(language_of).terms, params, taken, fit))
        if len(quotes) >= max(k, QUOTES_COMPOSED):
            break
    quotes = _merge_adjacent(quotes, params.merged_words)
    return _spread(quotes, params.per_article)


@dataclass(frozen=True)
class Verdict:
    answered: bool
    confidence: float


def judge(
    query: Query,
    hits: Sequence[Hit],
    candidates: Sequence[Candidate],
    first: Candidate | None,
    reading: Reading,
    reader: Reader,
    params: QuoteParams,
    relevance: tuple[float, str] | None = None,
) -> Verdict:
    """The judge stage: does the first quote answer? The reader's confidence where it
    gives one; else the rules: the question close enough to the archive (relevance floor,
    or most of its terms in one sentence), and the first sentence looking like an answer."""
    if reading.confidence is not None:
        return Verdict(reading.confidence >= reader.min_confidence, reading.confidence)
    language = query.language
    if relevance is None:
        closest = max(hits, key=lambda h: h.dense)
        relevance = (closest.dense, closest.article.language)
    top_dense, closest_language = relevance
    floor = params.min_dense
    if params.min_dense_across is not None and _foreign(closest_language, language):
        floor = params.min_dense_across
    best_overlap = max((c.overlap for c in candidates), default=0.0)
    confidence = _confidence(first, params) if first is not None else 0.0
    judged = not _foreign(closest_language, language) and language in CUE_LANGUAGES
    answered = top_dense >= floor or best_overlap >= params.min_overlap
    # Close in topic is not enough: the best sentence must look like an answer.
    answered = answered and (confidence >= params.min_confidence or not judged)
    return Verdict(answered, confidence)


def _span_answer(span: Span | None, quote: Quote, kind: str, reader: Reader) -> ShortAnswer | None:
    """The reader's span as the short answer, when sure enough and inside the first quote."""
    if span is None or span.probability < reader.min_span:
        return None
    if not (quote.start <= span.start < span.end <= quote.end):
        return None
    text = quote.article.text[span.start : span.end]
    return ShortAnswer(text, quote.article.id, span.start, span.end, kind)


def _confidence(cand: Candidate, params: QuoteParams) -> float:
    """How sure the archive is that ``cand``'s sentence answers (0..1): its own closeness
    to the question (or its passage's), the share of the question's terms it holds, and
    whether it holds the kind of thing asked for."""
    cosine = cand.cosine if cand.cosine is not None else cand.hit.dense
    w = params.confidence_weights
    value = w[0] * cosine + w[1] * cand.overlap + w[2] * cand.fit
    return min(1.0, max(0.0, value / (sum(w) or 1.0)))


def _spread(quotes: list[Quote], per_article: int) -> list[Quote]:
    """More sources first: each article's first ``per_article`` quotes keep their order,
    the rest move behind them."""
    if per_article <= 0:
        return quotes
    first: list[Quote] = []
    later: list[Quote] = []
    seen: dict[str, int] = {}
    for q in quotes:
        n = seen.get(q.article.id, 0)
        (first if n < per_article else later).append(q)
        seen[q.article.id] = n + 1
    return first + later


def _merge_adjacent(quotes: list[Quote], max_words: int) -> list[Quote]:
    """One quote for neighbouring extracts of one article (only blank text between them),
    while it stays within ``max_words``."""
    out: list[Quote] = []
    for q in quotes:
        text = q.article.text
        merged = False
        for i, p in enumerate(out):
            if p.article.id != q.article.id:
                continue
            lo, hi = (p, q) if p.start <= q.start else (q, p)
            if not text[lo.end : hi.start].strip() and word_count(text[lo.start : hi.end]) <= max_words:
                matches = tuple(sorted(set(p.matches) | set(q.matches)))
                out[i] = replace(p, start=lo.start, end=hi.end, matches=matches)
                merged = True
                break
        if not merged:
            out.append(q)
    return out


def _add_sentence_similarity(
    candidates: list[Candidate],
    top: Sequence[Hit],
    language: str,
    similarity: Similarity,
    params: QuoteParams,
) -> None:
    """Raise the leading sentences of the top hits by their closeness to the question
    (scaled 0..1): ``sentence_cosine_weight`` for articles in another language than the question's
    (``language``), ``sentence_cosine_same_language`` for the others."""

    weights = {
        id(h): params.sentence_cosine_weight
        if _foreign(h.article.language, language)
        else params.sentence_cosine_same_language
        for h in top
    }
    ranked = sorted((c for c in candidates if weights.get(id(c.hit), 0.0) > 0), key=lambda c: -c.score)
    # The best few of every hit first (one hit's many sentences must not crowd out a
    # better-matching article in another language), then the best of the rest.
    per_hit: dict[int, int] = {}
    chosen: list[Candidate] = []
    for cand in ranked:
        if per_hit.get(id(cand.hit), 0) < params.dense_per_hit:
            per_hit[id(cand.hit)] = per_hit.get(id(cand.hit), 0) + 1
            chosen.append(cand)
    chosen = chosen[: params.dense_sentences]
    picked = {id(c) for c in chosen}
    chosen += [c for c in ranked if id(c) not in picked][: params.dense_sentences - len(chosen)]
    if len(chosen) < 2:
        return
    texts = [sentence_text(c.hit.article.text, *c.focus) for c in chosen]
    own = np.asarray(similarity(texts), dtype=np.float64)
    for cand, cos in zip(chosen, own.tolist(), strict=True):
        cand.cosine = cos
    cosines = own + params.dense_passage * np.array([c.hit.dense for c in chosen])
    spread = float(cosines.max() - cosines.min())
    if spread <= 1e-6:
        return
    for cand, cos in zip(chosen, ((cosines - cosines.min()) / spread).tolist(), strict=True):
        cand.score += weights[id(cand.hit)] * cos


def _foreign(article_language: str, language: str) -> bool:
    """Whether an article is in another language than the question's (both known)."""
    return bool(language and article_language and article_language != language)


def _quote(
    cand: Candidate,
    q_terms: list[str],
    params: QuoteParams,
    taken: list[tuple[int, int]],
    fit: Callable[[str], float] | None = None,
) -> Quote:
    """Grow the focus sentence with free neighbours up to ``context_words``.

    Sentences already inside another quote of the same article (``taken``) are
    never added, so quotes never overlap. When the focus holds no answer of the kind
    asked for (``fit``) and one neighbour does, that neighbour comes first.
    """
    text = cand.hit.article.text
    lo_bound = max([e for s, e in taken if e <= cand.focus[0]], default=0)
    hi_bound = min([s for s, e in taken if s >= cand.focus[1]], default=len(text))
    # Split a window around the focus that starts and ends at line breaks (where
    # sentence splitting restarts), so its sentences are the article's sentences.
    start = text.rfind("\n", lo_bound, max(lo_bound, cand.focus[0] - WINDOW_CHARS)) + 1
    end = text.find("\n", min(hi_bound, cand.focus[1] + WINDOW_CHARS), hi_bound)
    spans = sentence_spans(text, max(start, lo_bound), hi_bound if end == -1 else end)
    i = next((n for n, s in enumerate(spans) if s[0] <= cand.focus[0] < s[1]), None)
    if i is None:  # cannot happen with consistent splitting; never quote a broken span
        spans, i = [cand.focus], 0
    lo = hi = i
    words = word_count(text[spans[i][0] : spans[i][1]])
    while hi - lo + 1 < params.max_sentences and words < params.context_words:
        before = word_count(text[spans[lo - 1][0] : spans[lo - 1][1]]) if lo > 0 else None
        after = word_count(text[spans[hi + 1][0] : spans[hi + 1][1]]) if hi + 1 < len(spans) else None
        if before is None and after is None:
            break
        # Prefer the previous sentence when the focus leans on it ("He said ..."), or
        # the neighbour that holds the kind of answer the focus lacks.
        take_before = after is None or (before is not None and _leans_back(text, spans[i]))
        if fit is not None and before is not None and after is not None and cand.fit <= 0:
            fits = fit(text[slice(*spans[lo - 1])]), fit(text[slice(*spans[hi + 1])])
            if fits[0] != fits[1]:
                take_before = fits[0] > fits[1]
        if take_before and before is not None:
            lo -= 1
            words += before
        elif after is not None:
            hi += 1
            words += after
        else:
            break
    start, end = spans[lo][0], spans[hi][1]
    matches = tuple(match_spans(text, start, end, set(q_terms), cand.hit.article.language))
    score = round(min(1.0, max(0.0, cand.score)), 3)
    return Quote(cand.hit.article, start, end, score=score, focus=cand.focus, matches=matches)


_LEANING = re.compile(
    r"^[\"“]?(?:he|she|it|they|this|that|these|those|his|her|their|its|the group|but|and|however)\b", re.I
)


def _leans_back(text: str, span: tuple[int, int]) -> bool:
    return bool(_LEANING.match(text[span[0] : span[1]]))
