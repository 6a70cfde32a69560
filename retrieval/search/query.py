"""The question as every later step reads it, worked out once: a frozen :class:`Query`.

Cleaning, language detection, word-by-word renderings in other languages, search
terms, their idf weights and the question's vectors are computed here, once per
question, and carried through :meth:`Retriever.search <retrieval.search.retriever.Retriever.search>`
and :func:`compose_answer <retrieval.answer.quotes.compose_answer>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from retrieval.language import detect
from retrieval.search.recency import TimeContext, time_filters
from retrieval.search.time_expressions import read_time
from retrieval.search.translation import Translator
from retrieval.text import clean_question, terms
from retrieval.types import AsOf, Filters

MODES = ("hybrid", "dense", "lexical")
#: a question is rarely longer than a paragraph: very long input keeps its start
MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class Rendering:
    """The question rendered word by word in another language (retrieval.search.translation)."""

    language: str
    #: each question word's rendering, its senses together (alternatives, not a sentence)
    words: tuple[str, ...]
    terms: tuple[str, ...] = ()  # search terms of the words, in ``language``

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, eq=False)
class Query:
    """One question, ready to search and to quote for."""

    text: str  # cleaned: what is searched
    language: str = ""
    terms: tuple[str, ...] = ()  # search terms, in ``language``
    renderings: tuple[Rendering, ...] = ()
    #: idf of every term above and of the renderings' terms
    idf: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    #: the idf of a term the archive does not hold
    unseen_idf: float = 0.0
    #: what dense search compares passages with (the renderings leaned in), and the
    #: question's own vector (the no-answer floor reads it); None in lexical mode
    vector: np.ndarray | None = None
    own_vector: np.ndarray | None = None
    filters: Filters | None = None
    mode: str = "hybrid"
    #: when the question is asked and what time it names (None: time plays no part)
    time: TimeContext | None = None
    #: what is searched: ``text`` without the words that name a time
    searched: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")

    def idf_of(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def known_share(self, words: Sequence[str]) -> float:
        """Share of ``words`` (distinct search terms) the archive holds at all."""
        wanted = set(words)
        if not wanted:
            return 1.0
        return sum(self.idf_of(t) < self.unseen_idf for t in wanted) / len(wanted)

    @classmethod
    def plain(
        cls,
        text: str,
        idf: Mapping[str, float] | Callable[[str], float] | None = None,
        renderings: Mapping[str, Sequence[str]] | None = None,
        **fields: Any,
    ) -> Query:
        """A query of ``text`` without vectors (e.g. for tests): ``idf`` weighs its terms
        (default 1 each, every term known); ``renderings``: language -> rendered words."""
        cleaned = clean_question(text)
        language = str(fields.pop("language", detect(cleaned)))
        words = tuple(terms(cleaned, language=language))
        rendered = tuple(
            Rendering(lang, tuple(w), tuple(terms(" ".join(w), language=lang)))
            for lang, w in (renderings or {}).items()
        )
        lookup = idf if callable(idf) else (lambda t: (idf or {}).get(t, 1.0))
        every = {*words, *(t for r in rendered for t in r.terms)}
        weights = MappingProxyType({t: float(lookup(t)) for t in every})
        return cls(cleaned, language, words, rendered, weights, float("inf"), **fields)


def make_query(
    question: str,
    *,
    embed: Callable[[str], np.ndarray] | None,
    idfs: Callable[[Sequence[str]], Mapping[str, float]],
    unseen_idf: Callable[[], float],
    translators: Sequence[Translator] = (),
    lean: float = 0.5,
    filters: Filters | None = None,
    mode: str = "hybrid",
    as_of: AsOf | None = None,
) -> Query:
    """Work ``question`` out once: ``embed`` gives a query vector (None: no dense side),
    ``idfs`` the idf of many terms in one look-up; renderings of ``translators`` are
    searched too, their vectors leaned into the question's with weight ``lean``.
    ``as_of``: the day the question is asked (given explicitly: nothing published later is
    quoted); its time expressions are then read, and not searched for.
    Raises ValueError when the time limits leave no day to search."""
    text = clean_question(question)[:MAX_QUESTION_CHARS]
    time = None
    searched = text
    if as_of is not None and text:
        time = TimeContext(as_of, read_time(text, as_of.day))
        searched = time.reading.without_time(text) or text
        filters = time_filters(filters, time)
    language = detect(text)
    words = tuple(terms(searched, language=language))
    renderings = tuple(
        Rendering(lang, rendered, tuple(terms(" ".join(rendered), language=lang)))
        for lang, rendered in translate(text, language, translators).items()
    )
    wanted = sorted({*words, *(t for r in renderings for t in r.terms)})
    idf = MappingProxyType(dict(idfs(wanted))) if wanted else MappingProxyType({})
    own = vector = None
    if embed is not None and mode != "lexical" and text:
        own = vector = embed(searched)
        if renderings and lean > 0:
            for r in renderings:
                vector = vector + lean * embed(r.text)
            vector = (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)
    return Query(
        text,
        language,
        words,
        renderings,
        idf,
        unseen_idf() if text else 0.0,
        vector,
        own,
        filters,
        mode,
        time,
        searched,
    )


def translate(text: str, language: str, translators: Sequence[Translator]) -> dict[str, tuple[str, ...]]:
    """``text`` rendered word by word in every language a translator knows (target
    language -> each word's rendering); empty when none translates from ``language``."""
    found: dict[str, tuple[str, ...]] = {}
    for translator in translators:
        if language and translator.source == language and translator.target not in found:
            words = translator.translate(text)
            if words:
                found[translator.target] = words
    return found
