"""The answer itself, when a quoted sentence clearly holds one: a verbatim span.

A short answer is a name, an organisation, a place, a number or a date inside
the focus sentence of the first quote, of the kind the question asks for, that
the question does not already name. None when unsure: no candidate of a fitting
kind, or several equally fitting ones with nothing to tell them apart. A wrong
short answer misleads more than none.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.answer.answer_types import CITY, PLACE, SPAN_KINDS, after_locative, candidates
from retrieval.types import Quote, ShortAnswer


@dataclass(frozen=True)
class ShortParams:
    #: the span's fit to the kind asked for (retrieval.answer.answer_types.FIT), at least
    min_fit: float = 0.7
    #: at most this many spans of the best fit in the sentence (else: too ambiguous)
    max_rivals: int = 2
    #: the first quote's confidence (Answer.confidence), at least
    min_confidence: float = 0.0


def short_answer(
    question: str, kind: str, quote: Quote, confidence: float = 1.0, params: ShortParams = ShortParams()
) -> ShortAnswer | None:
    """The answer span of ``quote``'s focus sentence, or None when unsure."""
    if kind not in SPAN_KINDS or confidence < params.min_confidence:
        return None
    text = quote.article.text
    a, b = quote.focus
    sentence = text[a:b]
    found = candidates(kind, sentence, question)
    if not found:
        return None
    best = max(w for _, w in found)
    top = [(e, w) for e, w in found if w == best]
    if best < params.min_fit or len(top) > params.max_rivals:
        return None
    # Of equals: a place after "in", "at" … for where-questions, then the one nearest
    # to the question's words in the sentence.
    matches = [(s - a, e - a) for s, e in quote.matches if a <= s < b]

    def distance(start: int, end: int) -> int:
        return min((max(ms - end, start - me, 0) for ms, me in matches), default=0)

    def bare(start: int) -> bool:
        # "in Baku" says where; "Azerbaijan remains committed" only names a place
        return kind in {CITY, PLACE} and not after_locative(sentence, start)

    pick = min(top, key=lambda c: (-c[1], bare(c[0].start), distance(c[0].start, c[0].end), c[0].start))[0]
    return ShortAnswer(pick.text, quote.article.id, a + pick.start, a + pick.end, kind)
