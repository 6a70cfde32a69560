"""Topic alerts: which newly arrived articles are about a followed topic, and what to quote.

A topic is worked out once like a question (:func:`retrieval.search.query.make_query`: terms,
the archive's idf, a vector; vectors are cached by topic text). New articles are cut
with the archive's own chunking and their passage vectors read from the store by key
(nothing is embedded again). Every topic x passage pair is scored by its cosine and by
the idf-weighted share of the topic's terms the passage holds (the quote composer's
overlap, at passage level); their weighted sum is absolute, unlike rank fusion, so one
threshold (``AlertParams``, calibrated in bench/alerts.py) says "this article is about
the topic". The best passages of a matching article go to :func:`compose_answer` as
hits, and it picks the sentence to quote (its ``matches`` are the words to bold).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.archive import Archive
from retrieval.ingest.chunking import ChunkingParams, chunk_text
from retrieval.search.query import Query, make_query
from retrieval.store import passage_key
from retrieval.text import terms
from retrieval.types import Article, Hit, Quote


@dataclass(frozen=True)
class AlertParams:
    """How a topic matches a passage; chosen on the dev sets (bench/alerts.py --sweep: the
    threshold where precision stops rising on realtimeqa-2024, checked on realtimeqa-dev).
    The scale is the default model's; another model may want its own threshold."""

    #: score = dense_weight x cosine + (1 - dense_weight) x term coverage
    dense_weight: float = 0.5
    #: an article alerts when its best passage scores at least this
    threshold: float = 0.65
    #: best passages of a matching article handed to the quote composer
    hits: int = 2


@dataclass(frozen=True)
class Match:
    """One new article about one topic, and the quote that shows it."""

    topic: str
    article: Article
    quote: Quote
    score: float  # the best passage's fused score
    dense: float  # its cosine to the topic
    coverage: float  # share of the topic's idf-weighted terms in it


@dataclass(frozen=True)
class StoryMatch:
    """The best match of one story for one topic, and the other outlets' copies."""

    story: str
    match: Match
    others: tuple[Article, ...] = ()


class TopicVectors:
    """Topic vectors by (model, text), embedded once, in batches; the least recently used go."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, archive: Archive, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:  # matching and a new follow may embed at the same time
            return self._vectors_of(archive, texts)

    def _vectors_of(self, archive: Archive, texts: Sequence[str]) -> dict[str, np.ndarray]:
        embedder = archive.embedder
        missing = list(dict.fromkeys(t for t in texts if (embedder.name, t) not in self._vectors))
        if missing:
            fresh = embedder.embed([embedder.query_prefix + t for t in missing])
            for text, vector in zip(missing, fresh, strict=True):
                self._vectors[(embedder.name, text)] = vector
        found: dict[str, np.ndarray] = {}
        for t in texts:
            self._vectors.move_to_end((embedder.name, t))
            found[t] = self._vectors[(embedder.name, t)]
        while len(self._vectors) > max(self.size, len(texts)):
            self._vectors.popitem(last=False)
        return found


@dataclass(frozen=True)
class Passages:
    """The passages of some articles: which article, where, their vectors and search terms."""

    articles: tuple[Article, ...]
    owner: np.ndarray  # passage -> index into ``articles``
    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # (passages, dim), unit length
    terms: tuple[frozenset[str], ...]


def article_passages(archive: Archive, article_ids: Iterable[str]) -> Passages:
    """The articles' passages as the archive cut them, with their stored vectors (a passage
    the store lacks, e.g. removed meanwhile, is embedded)."""
    store = archive.store
    params = ChunkingParams.merged(store.manifest().chunking, {})
    articles: list[Article] = []
    owner: list[int] = []
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    for article_id in dict.fromkeys(article_ids):
        article = store.article(article_id)
        if article is None or not article.text:
            continue
        for p in chunk_text(article.id, article.text, params):
            owner.append(len(articles))
            spans.append((p.start, p.end))
            texts.append(p.text)
        articles.append(article)
    keys = [passage_key(t) for t in texts]
    known = store.known_vectors(sorted(set(keys))) if keys else {}
    missing = [t for t, k in zip(texts, keys, strict=True) if k not in known]
    fresh = iter(archive.embedder.embed_passages(missing) if missing else ())
    dim = archive.embedder.dim
    vectors = np.array([known[k] if k in known else next(fresh) for k in keys], dtype=np.float32)
    langs = [articles[i].language for i in owner]
    return Passages(
        tuple(articles),
        np.array(owner, dtype=np.int64),
        tuple(spans),
        vectors.reshape(len(keys), dim),
        tuple(frozenset(terms(t, language=lang)) for t, lang in zip(texts, langs, strict=True)),
    )


def topic_queries(archive: Archive, topics: Sequence[str], cache: TopicVectors | None = None) -> list[Query]:
    """Each topic worked out as the archive works out a question (one batch of vectors)."""
    cache = cache or TopicVectors()
    texts = [" ".join(t.split()) for t in topics]
    vectors = cache.vectors(archive, [t for t in texts if t])
    retriever = archive.retriever
    store = archive.store
    return [
        make_query(
            text,
            embed=lambda t: vectors[t] if t in vectors else cache.vectors(archive, [t])[t],
            idfs=store.idfs,
            unseen_idf=store.unseen_idf,
            translators=retriever.translators,
            lean=retriever.params.rendering_vector_weight,
        )
        for text in texts
    ]


def scores(queries: Sequence[Query], passages: Passages) -> tuple[np.ndarray, np.ndarray]:
    """(cosine, coverage), each of shape (passages, topics)."""
    n, m = len(passages.spans), len(queries)
    dim = passages.vectors.shape[1] if passages.vectors.ndim == 2 else 0
    topic_vectors = np.zeros((m, dim), dtype=np.float32)
    for j, q in enumerate(queries):
        if q.vector is not None:
            topic_vectors[j] = q.vector
    dense = passages.vectors @ topic_vectors.T if n and m else np.zeros((n, m), dtype=np.float32)
    vocab: dict[str, int] = {}
    for q in queries:
        for t in q.terms:
            vocab.setdefault(t, len(vocab))
    weights = np.zeros((len(vocab), m), dtype=np.float32)
    for j, q in enumerate(queries):
        distinct = set(q.terms)
        total = sum(q.idf_of(t) for t in distinct)
        for t in distinct:
            weights[vocab[t], j] = q.idf_of(t) / total if total > 0 else 0.0
    present = np.zeros((n, len(vocab)), dtype=np.float32)
    for i, found in enumerate(passages.terms):
        ids = [vocab[t] for t in found if t in vocab]
        present[i, ids] = 1.0
    coverage = present @ weights if n and m else np.zeros((n, m), dtype=np.float32)
    return dense.astype(np.float32, copy=False), coverage


class TopicMatcher:
    """Matches new articles against followed topics; keeps the topics' vectors between rounds."""

    def __init__(self, params: AlertParams = AlertParams(), cache: TopicVectors | None = None) -> None:
        self.params = params
        self.cache = cache or TopicVectors()

    def match(self, archive: Archive, topics: Sequence[str], article_ids: Sequence[str]) -> list[Match]:
        """Every (topic, article) pair that scores at least the threshold, best first."""
        topics = list(dict.fromkeys(topics))
        if not topics or not article_ids:
            return []
        passages = article_passages(archive, article_ids)
        if not passages.spans:
            return []
        queries = topic_queries(archive, topics, self.cache)
        dense, coverage = scores(queries, passages)
        w = self.params.dense_weight
        fused = w * dense + (1 - w) * coverage
        found: list[Match] = []
        for a, article in enumerate(passages.articles):
            rows = np.flatnonzero(passages.owner == a)
            best = fused[rows].max(axis=0)
            for j in np.flatnonzero(best >= self.params.threshold).tolist():
                match = self._match(
                    archive, queries[j], topics[j], article, passages, rows, fused, dense, coverage, j
                )
                if match is not None:
                    found.append(match)
        found.sort(key=lambda m: (-m.score, m.topic, m.article.id))
        return found

    def _match(
        self,
        archive: Archive,
        query: Query,
        topic: str,
        article: Article,
        passages: Passages,
        rows: np.ndarray,
        fused: np.ndarray,
        dense: np.ndarray,
        coverage: np.ndarray,
        j: int,
    ) -> Match | None:
        order = rows[np.argsort(-fused[rows, j], kind="stable")][: self.params.hits]
        hits = [
            Hit(
                article,
                passages.spans[i][0],
                passages.spans[i][1],
                score=float(fused[i, j]),
                dense=float(dense[i, j]),
                lexical=float(coverage[i, j]),
            )
            for i in order
        ]
        answer = archive.quote(query, hits, k=1)
        if not answer.quotes:
            return None
        top = order[0]
        return Match(
            topic,
            article,
            answer.quotes[0],
            score=float(fused[top, j]),
            dense=float(dense[top, j]),
            coverage=float(coverage[top, j]),
        )


def by_article(article_id: str) -> str:
    """The default story key: every article is a story of its own."""
    return article_id


def story_key_of(archive: Archive) -> Callable[[str], str]:
    """How the archive groups syndicated copies into stories: article id -> its story's id
    (the article's own id when it has no copies), read from the store once per article."""
    known: dict[str, str] = {}

    def key(article_id: str) -> str:
        if article_id not in known:
            story = archive.store.stories([article_id]).get(article_id)
            known[article_id] = story.id if story is not None else article_id
        return known[article_id]

    return key


def group_stories(matches: Sequence[Match], story_key: Callable[[str], str] = by_article) -> list[StoryMatch]:
    """One :class:`StoryMatch` per (topic, story): its best match, the other copies after it
    (their outlets are named in the alert). Order: the best match first."""
    groups: dict[tuple[str, str], list[Match]] = {}
    for m in matches:
        groups.setdefault((m.topic, story_key(m.article.id)), []).append(m)
    out: list[StoryMatch] = []
    for (_, story), group in groups.items():
        group.sort(key=lambda m: (-m.score, m.article.id))
        out.append(StoryMatch(story, group[0], tuple(m.article for m in group[1:])))
    out.sort(key=lambda s: (-s.match.score, s.match.topic, s.story))
    return out
