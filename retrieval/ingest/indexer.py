"""Bring an archive (any store) in step with a set of article sources, embedding only what changed.

One :func:`refresh` serves every store and every caller (``newsbot index``, ``/reindex``,
the feed watcher). The rules, the same for both stores:

- an article is rewritten when its text, metadata, path or layout (chunking, BM25 terms,
  sentence vectors: :func:`layout_of`) differ from what is stored; passages whose text is
  stored already keep their vectors, so a change of chunking re-chunks every article but
  embeds only the passages whose text is new;
- the archive remembers its sources (folders and files of articles, feeds' folders):
  a run touches only the articles under the sources it names, and keeps those of the
  others; a source and its articles go only when a run forgets it (``forget``);
- articles whose file is gone from a named source are removed, except those of a source
  folder that is empty (an unmounted disk, a typo), and a run that would remove more than
  half of the named sources' articles needs ``allow_removal``;
- ``full`` embeds everything again, keeping the archive's model and chunking unless
  others are given;
- every article written gets its MinHash signature, and every article its story (its
  near-duplicate group, :mod:`retrieval.store.near_duplicates`, named after its earliest
  published member): each run that writes or removes articles groups the whole archive
  again from the stored signatures and updates the story of stored articles whose group
  changed (a new copy may join two stories). Stories are set before the articles are
  written, so a run cut short leaves work that makes the next run group again.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.embedding import DEFAULT_BACKEND, Embedder, LazyEmbedder, resolve_model
from retrieval.errors import SourceError
from retrieval.ingest.articles import Loaded, Problem, display_path, load_articles
from retrieval.ingest.chunking import ChunkingParams, chunk_text
from retrieval.store import Location, VectorStore, open_store, passage_key
from retrieval.store.base import StoreWriter
from retrieval.store.lexical import TOKENIZER
from retrieval.store.manifest import ArticleEntry, Manifest, Source, metadata_hash
from retrieval.store.near_duplicates import DuplicateParams, StoryGroups, signature, signature_of_hashes
from retrieval.store.sentences import SentenceTable
from retrieval.text import sentence_spans
from retrieval.types import Article

#: (stage, done, total): "passages" or "sentences" embedded (or found stored) so far
OnProgress = Callable[[str, int, int], None]
#: how articles are grouped into stories (threshold 0.6: bench/near_duplicates.py)
STORY_PARAMS = DuplicateParams()


@dataclass(frozen=True)
class IndexReport:
    location: str  # the index folder, or the database URL without its password
    model: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    #: articles whose source looked gone but were kept, and why (e.g. an empty folder)
    kept: list[Problem] = field(default_factory=list)
    #: articles of remembered sources this run did not name (kept as they were)
    others: int = 0
    #: sources forgotten by this run, and the articles removed with each
    forgotten: list[tuple[str, int]] = field(default_factory=list)
    #: the sources the archive remembers after this run
    sources: list[Source] = field(default_factory=list)
    articles: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    wrote: bool = False
    #: sentence vectors (models that index them): embedded now, and the seconds it took
    sentences_embedded: int = 0
    sentence_seconds: float = 0.0
    #: stories of more than one article, the articles in them, and the seconds spent
    #: signing and grouping
    stories: int = 0
    grouped: int = 0
    story_seconds: float = 0.0

    @property
    def passages_per_second(self) -> float:
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.location,
            "model": self.model,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": p.path, "reason": p.reason} for p in self.skipped if not p.warning],
            "duplicates": [{"path": p.path, "reason": p.reason} for p in self.duplicates],
            "kept": [{"path": p.path, "reason": p.reason} for p in self.kept],
            "other_sources_articles": self.others,
            "forgotten": [{"source": path, "removed": n} for path, n in self.forgotten],
            "sources": [s.as_json() for s in self.sources],
            "warnings": [{"path": p.path, "reason": p.reason} for p in self.skipped if p.warning],
            "articles": self.articles,
            "passages": self.passages,
            "embedded": self.embedded,
            "reused": self.reused,
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "passages_per_second": round(self.passages_per_second, 1),
            "sentences_embedded": self.sentences_embedded,
            "sentence_seconds": round(self.sentence_seconds, 3),
            "stories": self.stories,
            "grouped": self.grouped,
            "story_seconds": round(self.story_seconds, 3),
            "wrote": self.wrote,
        }


def layout_of(params: ChunkingParams, index_sentences: bool) -> str:
    """How an article is stored: chunking, BM25 terms, sentence vectors, MinHash signature."""
    d = STORY_PARAMS
    return f"{params.signature}/t{TOKENIZER}/s{int(index_sentences)}/m{d.shingle}.{d.num_perm}.{d.seed}.{d.min_words}"


def refresh(
    location: Location | Path | str | VectorStore,
    sources: Sequence[Path],
    model: Embedder | str | None = None,
    chunking: ChunkingParams | Mapping[str, int | None] | None = None,
    *,
    full: bool = False,
    allow_removal: bool = False,
    index_type: str = "auto",
    backend: str = DEFAULT_BACKEND,
    cache_dir: Path | None = None,
    on_progress: OnProgress | None = None,
    batch: int = 256,
    feeds: Mapping[Path, Path] | None = None,
    forget: Sequence[Path] = (),
) -> IndexReport:
    """Bring the store at ``location`` (an index folder, a ``postgresql://`` URL or an open
    store) in step with the articles under ``sources``.

    ``model``: an embedder, a model name (``resolve_model``), or None for the archive's own
    model (else the default); a name is loaded only when something needs embedding.
    ``chunking``: parameters, or just ``max_words`` / ``overlap_sentences``, overriding the
    archive's own (else the defaults). ``index_type``: FAISS only. ``feeds``: the folders
    among ``sources`` that a feeds file fills (folder -> feeds file), remembered as such.
    ``forget``: remembered sources to drop, with their articles.
    """
    if isinstance(chunking, ChunkingParams):
        chunking = {"max_words": chunking.max_words, "overlap_sentences": chunking.overlap_sentences}
    started = time.perf_counter()
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise SourceError(f"articles folder not found: {', '.join(missing)}")
    own = not isinstance(location, VectorStore)
    store = location if isinstance(location, VectorStore) else open_store(location, index_type=index_type)
    try:
        with store.writer() as writer:
            return _Run(writer, store.location, started, on_progress, batch).refresh(
                sources, model, chunking or {}, full, allow_removal, backend, cache_dir, feeds or {}, forget
            )
    finally:
        if own:
            store.close()


class _Run:
    """One refresh: what changed, then embedding and writing in batches."""

    def __init__(
        self,
        writer: StoreWriter,
        location: str,
        started: float,
        on_progress: OnProgress | None,
        batch: int,
    ) -> None:
        self.writer = writer
        self.location = location
        self.started = started
        self.on_progress = on_progress
        self.batch = batch
        self.embedded = self.sentences_embedded = 0
        self.embed_seconds = self.sentence_seconds = 0.0

    def refresh(
        self,
        sources: Sequence[Path],
        model: Embedder | str | None,
        chunking: Mapping[str, int | None],
        full: bool,
        allow_removal: bool,
        backend: str,
        cache_dir: Path | None,
        feeds: Mapping[Path, Path],
        forget: Sequence[Path],
    ) -> IndexReport:
        manifest = self.writer.manifest()
        if isinstance(model, Embedder):
            embedder = model
        else:
            name = model if model is not None else (manifest.model if manifest is not None else None)
            embedder = LazyEmbedder(resolve_model(name), backend=backend, cache_dir=cache_dir)
        if manifest is not None and not full:
            manifest.check_model(embedder.name)
        params = ChunkingParams.merged(manifest.chunking if manifest is not None else None, chunking)
        layout = layout_of(params, embedder.traits.index_sentences)
        stored = manifest.articles if manifest is not None else {}
        plan = _SourcePlan.of(manifest, sources, feeds, forget, full, self.location)
        sources = [*sources, *plan.also]
        loaded = load_articles(sources)
        kept = _kept(sources, loaded, stored)
        ids = {a.id for a in loaded.articles}
        forgotten = {i for i, e in stored.items() if i not in ids and plan.forgets(e.path)}
        others = {
            i for i, e in stored.items() if i not in ids and i not in forgotten and not plan.names(e.path)
        }
        if full and others:
            raise SourceError(
                f"a full rebuild of {self.location} would drop {_articles(len(others))} of sources "
                "this run does not name (see newsbot sources): name them with --articles, "
                "or forget them (--forget-source)"
            )
        in_scope = set(stored) - forgotten - others
        gone = sorted(in_scope - ids - set(kept))
        _check_removal(len(gone), len(in_scope), allow_removal, full and bool(kept), self.location)
        old = {} if full else stored
        added = [a.id for a in loaded.articles if a.id not in old]
        updated = [a.id for a in loaded.articles if a.id in old and old[a.id].hash != a.content_hash]
        # BM25 terms of another tokenizer: every article is tokenized again (vectors kept)
        retokenize = manifest is not None and manifest.extra.get("tokenizer", TOKENIZER) != TOKENIZER
        todo = [a for a in loaded.articles if full or retokenize or _stale(old.get(a.id), a, layout)]
        removed = [] if full else gone + sorted(forgotten)
        if full or manifest is None:
            embedder.load()
            self.writer.reset(embedder.name, embedder.dim, params.as_dict())
        elif manifest.chunking != params.as_dict() or retokenize:
            self.writer.set_chunking(params.as_dict())
        remembered = [s.as_json() for s in plan.sources]
        if full or manifest is None or remembered != (manifest.extra.get("sources") or []):
            self.writer.set_sources(remembered)
        base = {} if full or manifest is None else stored
        stories = self._stories(todo, removed, base, loaded.articles)
        if stories.moved:
            self.writer.set_stories(stories.moved)
        written = self._write(todo, embedder, params, layout, stories)
        for article_id in removed:
            self.writer.remove_article(article_id)
        sizes = Counter(stories.story.values())
        unchanged = {a.id for a in loaded.articles} - {a.id for a in todo}
        passages = written + sum(stored[i].passages for i in unchanged if i in stored)
        return IndexReport(
            location=self.location,
            model=embedder.name,
            added=added,
            updated=updated,
            removed=removed,
            unchanged=len(loaded.articles) - len(added) - len(updated),
            skipped=loaded.problems,
            duplicates=loaded.duplicates,
            kept=[Problem(stored[i].path or i, reason) for i, reason in sorted(kept.items())],
            others=len(others),
            forgotten=[(p, sum(plan.forgets(stored[i].path, p) for i in forgotten)) for p in plan.forgotten],
            sources=list(plan.sources),
            articles=len(loaded.articles) + len(kept) + len(others),
            passages=passages + sum(stored[i].passages for i in (*kept, *others)),
            embedded=self.embedded,
            reused=passages - self.embedded,
            seconds=time.perf_counter() - self.started,
            embed_seconds=self.embed_seconds,
            wrote=bool(todo or removed or full or manifest is None or forgotten),
            sentences_embedded=self.sentences_embedded,
            sentence_seconds=self.sentence_seconds,
            stories=sum(n > 1 for n in sizes.values()),
            grouped=sum(n for n in sizes.values() if n > 1),
            story_seconds=stories.seconds,
        )

    def _stories(
        self,
        todo: Sequence[Article],
        removed: Sequence[str],
        stored: Mapping[str, ArticleEntry],
        articles: Sequence[Article],
    ) -> _Stories:
        """Signatures of the articles to write, and every article's story: the archive
        grouped again when articles are written or removed, else the stored stories."""
        t0 = time.perf_counter()
        fresh = {a.id: signature(a.text, STORY_PARAMS) for a in todo}
        if not fresh and not removed:
            return _Stories(fresh, {i: e.story or i for i, e in stored.items()}, {}, 0.0)
        gone = set(removed)
        kept = [i for i in stored if i not in fresh and i not in gone]
        live = self.writer.signatures() if kept else {}
        empty = signature_of_hashes(np.empty(0, dtype=np.uint32), STORY_PARAMS)
        published = {a.id: a.published for a in articles}
        # A story is named after its earliest published member (undated ones last).
        order = sorted([*kept, *fresh], key=lambda i: (not published.get(i), published.get(i, ""), i))
        groups = StoryGroups(STORY_PARAMS)
        groups.add_many((i, fresh[i] if i in fresh else live.get(i, empty)) for i in order)
        story = {i: groups.group_of(i) for i in order}
        moved = {i: story[i] for i in kept if stored[i].story != story[i]}
        return _Stories(fresh, story, moved, time.perf_counter() - t0)

    def _write(
        self, todo: list[Article], embedder: Embedder, params: ChunkingParams, layout: str, stories: _Stories
    ) -> int:
        """Chunk, embed what is new and put every article of ``todo``; returns their passages."""
        chunked = [(a, [(p.start, p.end) for p in chunk_text(a.id, a.text, params)]) for a in todo]
        keys = {passage_key(a.text[s:e]): a.text[s:e] for a, spans in chunked for s, e in spans}
        known = self.writer.known_vectors(sorted(keys)) if keys else {}
        total = len(keys.keys() - known.keys())
        sentences = _sentence_total(todo) if embedder.traits.index_sentences else 0
        done_sentences = 0
        for group in _batches(chunked, known, self.batch):
            missing = list(dict.fromkeys(k for a, spans in group for k in _keys(a, spans) if k not in known))
            if missing:
                known.update(self._embed(embedder, [keys[k] for k in missing], total))
            tables = None
            if embedder.traits.index_sentences:
                texts = [a.text for a, _ in group]
                tables = self._sentences(embedder, texts)
                done_sentences += sum(len(sentence_spans(t)) for t in texts)
                if self.on_progress is not None:
                    self.on_progress("sentences", done_sentences, sentences)
            for i, (article, spans) in enumerate(group):
                vectors = np.array([known[k] for k in _keys(article, spans)], dtype=np.float32)
                table = tables.of_article(i) if tables is not None else None
                self.writer.put_article(
                    article,
                    spans,
                    vectors.reshape(len(spans), -1),
                    sentences=table,
                    layout=layout,
                    signature=stories.signatures[article.id],
                    story=stories.story[article.id],
                )
        return sum(len(spans) for _, spans in chunked)

    def _embed(self, embedder: Embedder, texts: list[str], total: int) -> Iterator[tuple[bytes, np.ndarray]]:
        embedder.load()  # passages per second measure embedding, not loading the model
        done = self.embedded

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if self.on_progress is not None:
                self.on_progress("passages", done, total)

        t0 = time.perf_counter()
        vectors = embedder.embed_passages(texts, tick)
        self.embed_seconds += time.perf_counter() - t0
        self.embedded += len(texts)
        return zip((passage_key(t) for t in texts), vectors, strict=True)

    def _sentences(self, embedder: Embedder, texts: list[str]) -> SentenceTable:
        """The sentence table of these articles (in this order), embedding unknown sentences."""
        embedder.load()
        t0 = time.perf_counter()
        known = self.writer.known_sentence_vectors
        table, n = SentenceTable.build(texts, embedder.embed_passages, embedder.dim, known)
        if n:
            self.sentence_seconds += time.perf_counter() - t0
            self.sentences_embedded += n
        return table


@dataclass(frozen=True)
class _Stories:
    signatures: dict[str, np.ndarray]  # of the articles written in this run
    story: dict[str, str]  # every article's story id
    moved: dict[str, str]  # stored articles (not rewritten) whose story changes
    seconds: float


def _keys(article: Article, spans: Sequence[tuple[int, int]]) -> list[bytes]:
    return [passage_key(article.text[s:e]) for s, e in spans]


def _batches(
    chunked: list[tuple[Article, list[tuple[int, int]]]], known: Mapping[bytes, np.ndarray], size: int
) -> Iterator[list[tuple[Article, list[tuple[int, int]]]]]:
    """Articles in groups holding about ``size`` passages still to embed (so writes follow
    embedding closely: a killed run keeps what PostgreSQL has committed)."""
    group: list[tuple[Article, list[tuple[int, int]]]] = []
    pending = 0
    for article, spans in chunked:
        group.append((article, spans))
        pending += sum(k not in known for k in _keys(article, spans))
        if pending >= size:
            yield group
            group, pending = [], 0
    if group:
        yield group


def _sentence_total(articles: Sequence[Article]) -> int:
    return sum(len(sentence_spans(a.text)) for a in articles)


def _stale(entry: ArticleEntry | None, article: Article, layout: str) -> bool:
    """Whether ``article`` must be (re)written over what is stored as ``entry``."""
    return (
        entry is None
        or entry.hash != article.content_hash
        or entry.path != article.path
        or entry.layout != layout
        or entry.meta != metadata_hash(article)
    )


@dataclass(frozen=True)
class _SourcePlan:
    """Which sources a run reads, which stored articles it may remove, what it remembers."""

    named: tuple[str, ...]  # absolute paths of the sources read (remembered ones of --full too)
    also: tuple[Path, ...]  # remembered sources read although not named (a full rebuild)
    forgotten: tuple[str, ...]
    sources: tuple[Source, ...]  # remembered after the run

    @classmethod
    def of(
        cls,
        manifest: Manifest | None,
        sources: Sequence[Path],
        feeds: Mapping[Path, Path],
        forget: Sequence[Path],
        full: bool,
        location: str,
    ) -> _SourcePlan:
        remembered = list(manifest.sources) if manifest is not None else []
        paths = {os.path.abspath(s.path) for s in remembered}
        stored = manifest.articles.values() if manifest is not None else ()
        named = [os.path.abspath(s) for s in sources]
        forgotten = [os.path.abspath(p) for p in forget]
        for path in forgotten:
            if path in named:
                raise SourceError(f"{display_path(path)} is both read and forgotten by this run: drop one")
            if path not in paths and not any(
                e.path and _under(os.path.abspath(e.path), path) for e in stored
            ):
                listed = ", ".join(display_path(s.path) for s in remembered) or "none"
                raise SourceError(
                    f"{display_path(path)} is not a source of {location} (its sources: {listed})"
                )
        kept = [s for s in remembered if os.path.abspath(s.path) not in forgotten]
        also: list[Path] = []
        if full:  # a rebuild reads every remembered source, or refuses to drop one
            for s in kept:
                if os.path.abspath(s.path) in named:
                    continue
                if not os.path.exists(s.path):
                    raise SourceError(
                        f"a full rebuild of {location} would drop the articles of {display_path(s.path)} "
                        f"(not found): restore it, or forget it (--forget-source {display_path(s.path)})"
                    )
                also.append(Path(s.path))
        labels = {os.path.abspath(folder): os.path.abspath(file) for folder, file in feeds.items()}
        by_path = {os.path.abspath(s.path): s for s in kept}
        for path in named:
            old = by_path.get(path)
            by_path[path] = Source(path, labels.get(path, old.feeds if old else ""))
        return cls(
            tuple(named + [os.path.abspath(p) for p in also]),
            tuple(also),
            tuple(forgotten),
            tuple(by_path.values()),
        )

    def names(self, path: str) -> bool:
        """Whether an article stored from ``path`` belongs to a source this run reads."""
        return bool(path) and any(_under(os.path.abspath(path), n) for n in self.named)

    def forgets(self, path: str, source: str | None = None) -> bool:
        where = (source,) if source is not None else self.forgotten
        return bool(path) and any(_under(os.path.abspath(path), f) for f in where)


def _articles(n: int) -> str:
    return f"{n} article" + ("" if n == 1 else "s")


#: reasons a file was not read this time that say nothing about its article being gone
_PASSING = ("changed while being read", "cannot read")


def _kept(sources: Sequence[Path], loaded: Loaded, stored: Mapping[str, ArticleEntry]) -> dict[str, str]:
    """Stored articles not to remove although no source holds them now, and why: those of
    a source folder that holds no file at all (unmounted? a typo?), of a folder that could
    not be read, and of a file that could not be read this time."""
    found = [os.path.abspath(_problem_path(p)) for p in (*loaded.problems, *loaded.duplicates)]
    found += [os.path.abspath(a.path) for a in loaded.articles]
    guarded: list[tuple[str, str]] = []  # (folder or file, why its articles stay)
    for root in sources:
        top = os.path.abspath(root)
        if root.is_dir() and not any(_under(p, top) for p in found):
            guarded.append((top, f"kept: the folder {display_path(root)} is empty now (not mounted?)"))
    for problem in loaded.problems:  # unreadable folders among them ("cannot read folder: …")
        if not problem.warning and problem.reason.startswith(_PASSING):
            guarded.append((os.path.abspath(_problem_path(problem)), f"kept: {problem.reason}"))
    out: dict[str, str] = {}
    for article_id, entry in stored.items():
        path = os.path.abspath(entry.path) if entry.path else ""
        for where, why in guarded:
            if path and _under(path, where):
                out[article_id] = why
                break
    return out


def _problem_path(problem: Problem) -> str:
    """The file a problem is about ("x.jsonl:3" and "x.json (item 2)" name parts of x)."""
    path = problem.path.split(" (")[0]
    head, sep, tail = path.rpartition(":")
    return head if sep and tail.isdigit() else path


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_removal(gone: int, stored: int, allowed: bool, full_drops_kept: bool, location: str) -> None:
    if full_drops_kept:
        raise SourceError(
            f"a source folder is empty now: a full rebuild of {location} would drop its articles; "
            "check the folder, or remove it from the sources"
        )
    if gone and gone * 2 > stored and not allowed:
        raise SourceError(
            f"this refresh would remove {gone} of the {_articles(stored)} in {location} (their files are "
            "gone); check the article folders, or allow it (newsbot index --allow-removal)"
        )


__all__ = ["IndexReport", "Manifest", "OnProgress", "layout_of", "refresh"]
