"""The one object the interfaces talk to: a store, its model, and answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.articles import Article
from retrieval.embedding import DEFAULT_BACKEND, Embedder
from retrieval.language import detect
from retrieval.quotes import QuoteParams, compose_answer
from retrieval.retriever import FusionParams, Retriever
from retrieval.sentences import sentence_key
from retrieval.store import VectorStore
from retrieval.text import clean_question, terms
from retrieval.translation import Translator, default_translators
from retrieval.types import Answer, Filters
from retrieval.vector_cache import VectorCache

MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class ArchiveStats:
    index_dir: str  # the index folder, or the database URL without its password
    articles: int
    passages: int
    model: str
    index_type: str
    created: str  # ISO timestamp of the index build
    sources: tuple[tuple[str, int], ...]  # outlet, articles; most first
    languages: tuple[tuple[str, int], ...]
    first_published: str
    last_published: str
    sentences: int = 0  # sentence vectors (the multilingual model's indexes)


def quote_params_for(model: Embedder) -> QuoteParams:
    """:class:`QuoteParams` with the model's own relevance floors and sentence scoring."""
    params = QuoteParams(
        min_dense=model.relevance_floor,
        min_dense_across=model.cross_lingual_floor,
        dense_same_language=model.sentence_weight,
    )
    if model.index_sentences:
        # Sentence vectors read from the index cost nothing to weigh, so weigh more of
        # them, each with its passage's cosine (XQuAD, 790 held-out questions per set,
        # answer recall@1: hi 0.819 -> 0.843, zh->en 0.604 -> 0.633, hi->en 0.741 -> 0.761).
        params = replace(params, dense_sentences=20, dense_passage=1.0)
    return params


class Archive:
    """Answers questions from one store. Thread-safe for concurrent ``ask`` calls."""

    def __init__(
        self,
        retriever: Retriever,
        index_dir: Path | str,
        quote_params: QuoteParams | None = None,
        translators: Sequence[Translator] | None = None,
    ) -> None:
        """``quote_params`` default to :class:`QuoteParams` with the model's own relevance floor
        and sentence scoring; ``translators`` (default: every packaged dictionary) render
        questions word by word in other languages, for articles in those languages."""
        self.retriever = retriever
        self.translators: Sequence[Translator] = default_translators() if translators is None else translators
        #: where the store lives: an index folder, or a ``postgresql://`` URL
        self.index_dir = index_dir
        model = retriever.embedder
        self.quote_params = quote_params or quote_params_for(model)
        #: sentences the composer compares with questions: read from the store when it holds
        #: them (models that index sentences), else embedded, once each
        self.sentences = VectorCache(self._sentence_vectors)

    @classmethod
    def open(
        cls,
        index_dir: Path | str,
        embedder: Embedder | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        fusion: FusionParams = FusionParams(),
        translators: Sequence[Translator] | None = None,
    ) -> Archive:
        retriever = Retriever.open(index_dir, embedder, backend=backend, cache_dir=cache_dir, params=fusion)
        return cls(retriever, index_dir, translators=translators)

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    @property
    def store(self) -> VectorStore:
        return self.retriever.store

    def close(self) -> None:
        self.store.close()

    def ask(self, question: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid") -> Answer:
        """Quotes answering ``question``, best first; ``answer.more`` holds the next ones."""
        cleaned = clean_question(question)
        if not cleaned:
            return Answer(cleaned, (), answered=False, notice="Please type a question.")
        # Very long input: keep the start; a question is rarely longer than a paragraph.
        cleaned = cleaned[:MAX_QUESTION_CHARS]
        # Search deeper than the hits we quote from: neighbouring passages of a good
        # article merge into one wider hit instead of being cut off.
        depth = max(k, 2 * self.quote_params.hits_considered)
        language = detect(cleaned)
        translations = self.translate(cleaned, language)
        rendered = {target: " ".join(words) for target, words in translations.items()}
        # One look-up for the whole question: the fusion and compose_answer weigh these terms.
        wanted = set(terms(cleaned, language=language))
        for target, text in rendered.items():
            wanted.update(terms(text, language=target))
        idf = self.store.idfs(sorted(wanted))
        also = list(rendered.values())
        plain = self.embedder.embed_query(cleaned) if mode != "lexical" else None
        vector = self.retriever.query_vector(cleaned, also, plain) if plain is not None else None
        hits = self.retriever.search(
            cleaned, k=depth, filters=filters, mode=mode, vector=vector, idfs=idf, translations=also
        )
        if not hits and filters is not None and filters.active:
            return Answer(cleaned, (), answered=False, notice="No article matches those filters.")

        def similarity(sentences: Sequence[str]) -> np.ndarray:
            return self.sentences.vectors(sentences) @ vector

        answer = compose_answer(
            cleaned,
            hits,
            lambda t: idf[t] if t in idf else self.store.idf(t),
            k=k,
            params=self.quote_params,
            similarity=similarity if vector is not None else None,
            translations=translations,
            # the rendering lifts every English cosine: the floor reads the question's own
            relevance=self._relevance(plain, filters) if also and plain is not None else None,
        )
        return replace(answer, searched_as=tuple(rendered.items())) if rendered else answer

    def _relevance(self, vector: np.ndarray, filters: Filters | None) -> tuple[float, str] | None:
        """Cosine of ``vector`` to its closest passage, and that article's language."""
        found = self.store.dense_search(vector, 1, filters)
        located = self.store.locate([found[0][0]]) if found else {}
        if not located:
            return None
        return found[0][1], located[found[0][0]].article.language

    def translate(self, question: str, language: str | None = None) -> dict[str, tuple[str, ...]]:
        """``question`` rendered word by word in every language a translator knows
        (target language -> each word's rendering); empty when none translates from its
        language."""
        language = detect(question) if language is None else language
        found = {}
        for translator in self.translators:
            if language and translator.source == language and translator.target not in found:
                words = translator.translate(question)
                if words:
                    found[translator.target] = words
        return found

    def _sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        keys = [sentence_key(t) for t in texts]
        stored = self.store.sentence_vectors(keys)
        missing = [t for t, key in zip(texts, keys, strict=True) if key not in stored]
        fresh = iter(self.embedder.embed_passages(missing) if missing else ())
        return np.array([stored[key] if key in stored else next(fresh) for key in keys], dtype=np.float32)

    def article(self, article_id: str) -> Article | None:
        return self.store.article(article_id)

    def articles(self) -> list[Article]:
        """Every article's metadata (the text may be empty)."""
        return self.store.catalog()

    def stats(self) -> ArchiveStats:
        return ArchiveStats(index_dir=self.store.location, **asdict(self.store.stats()))
