"""PostgreSQL + pgvector as a :class:`VectorStore`: one live archive shared by many processes.

The tables are in :mod:`retrieval.store.pg_schema`. Every write is one transaction, so
readers (in any process) see an article all old or all new, and each query sees the
latest committed state: no restart after an update. BM25 is Lucene's (k1=1.5, b=0.75)
over the same terms as the FAISS store's ``lexical.py``, so both stores rank alike.
Lost connections (a server restart, a network cut) are retried with back-off; when the
database stays unreachable a :class:`StoreUnavailableError` says so, and the next call
tries again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from retrieval.dates import published_span
from retrieval.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError
from retrieval.store.base import StoreStats, StoreWriter, Story, VectorStore
from retrieval.store.lexical import K1, TOKENIZER, B, bm25_idf
from retrieval.store.location import Location
from retrieval.store.manifest import ArticleEntry, Manifest, metadata_hash
from retrieval.store.pg_schema import (
    DATA_TABLES,
    SCHEMA,
    SCHEMA_VERSION,
    WRITE_LOCK,
    WRITER_LOCK,
    create_tables,
    ensure_schema,
    upgrade,
    upgrade_hint,
)
from retrieval.store.rows import Located, Ranked, passage_key
from retrieval.store.sentences import SentenceTable
from retrieval.text import terms as text_terms
from retrieval.types import Article, Filters

log = logging.getLogger("newsbot.store")
#: the longest wait between two tries of a lost connection, in seconds
MAX_RETRY_WAIT = 8.0
#: candidates the HNSW graph search keeps (pgvector's default is 40); recall on the dev set: bench/stores.py
HNSW_EF_SEARCH = 200
T = TypeVar("T")

_ARTICLE_COLUMNS = ("id", "text", "title", "source", "published", "url", "path", "author", "language", "note")


class PgStore(VectorStore):
    """An archive in PostgreSQL with pgvector; safe to share between threads and processes.

    ``retries`` times a lost connection is re-opened (waiting ``retry_wait`` seconds,
    doubling, at most ``MAX_RETRY_WAIT``) before :class:`StoreUnavailableError` is raised;
    writes wait ``write_retries`` times (about a minute) for a primary. The schema is
    created on first use; one of an older version is upgraded by the next indexing run.

    ``url`` may name several hosts (libpq's ``postgresql://h1,h2/db`` or
    ``?host=h1,h2``, with ``target_session_attrs``): a reader that lands on a standby
    answers from it (logged once, as a warning); writes wait for a primary.
    """

    def __init__(
        self,
        url: str,
        *,
        retries: int = 4,
        write_retries: int = 10,
        retry_wait: float = 0.5,
        connect_timeout: int = 5,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        self.url = url
        self.where = Location(url=url)
        self.location = self.where.shown
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"invalid database URL {self.location}: {exc}") from None
        self.retries = retries
        self.write_retries = write_retries
        self.retry_wait = retry_wait
        self.standby = False  # the current connection is to a read-only standby
        self.connect_timeout = connect_timeout
        self.ef_search = ef_search
        self._local = threading.local()
        self._open: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._version: int | None = None  # the schema's, read at the first connection
        self._run(lambda conn: None)  # connect now: a wrong URL fails at open, not at the first question

    # ------------------------------------------------------------------ connections

    def _connection(self) -> psycopg.Connection[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        conn = self._connect()
        try:
            self._note_standby(conn)
            if self._version is None:
                self._version = ensure_schema(conn, self.location)
            from pgvector.psycopg import register_vector

            register_vector(conn)
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        with self._lock:
            self._open.append(conn)
        return conn

    def _note_standby(self, conn: psycopg.Connection[Any]) -> None:
        """Log once when connections move to a read-only standby, and once when back."""
        standby = conn.info.parameter_status("in_hot_standby") == "on"
        with self._lock:
            changed, self.standby = standby != self.standby, standby
        if changed and standby:
            log.warning(
                "%s: connected to a read-only standby; answering from it, writes wait for a primary",
                self.location,
            )
        elif changed:
            log.warning("%s: connected to a primary again (writable)", self.location)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)

    def _discard(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            conn.close()

    def _run(self, work: Callable[[psycopg.Connection[Any]], T], *, write: bool = False) -> T:
        """``work(connection)``, again on a fresh connection when the connection is lost.

        Safe because every call is a read or one whole transaction. A ``write`` that finds
        no primary (the server is down, or a standby answered: read-only) waits longer,
        ``write_retries`` times, for one to be back (a standby promoted, the primary
        restarted): libpq picks the host again at each new connection.
        """
        error: Exception | None = None
        retries = self.write_retries if write else self.retries
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(min(self.retry_wait * 2 ** (attempt - 1), MAX_RETRY_WAIT))
            try:
                return work(self._connection())
            except (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                psycopg.errors.ReadOnlySqlTransaction,
            ) as exc:
                if isinstance(exc, psycopg.errors.QueryCanceled):
                    raise
                error = exc
                self._discard()
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        what = "a writable (primary) PostgreSQL database" if write else "the PostgreSQL database"
        raise StoreUnavailableError(
            f"cannot reach {what} {self.location}: {reason} "
            f"(tried {retries + 1} times); is the server running?"
        ) from error

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def _meta(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        if self._version != SCHEMA_VERSION:
            raise IndexMismatchError(upgrade_hint(self.location))
        meta = dict(conn.execute(f"SELECT key, value FROM {SCHEMA}.meta").fetchall())
        if "model" not in meta:
            raise IndexMissingError(
                f"no index in {self.location}: build one with `newsbot index --store URL` "
                "(add --articles DIR for your articles)"
            )
        return meta

    # ------------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        def read(conn: psycopg.Connection[Any]) -> Manifest:
            with conn.transaction():  # one snapshot of meta and articles
                meta = self._meta(conn)
                rows = conn.execute(
                    f"SELECT id, hash, passages, path, layout, meta, story FROM {SCHEMA}.articles"
                ).fetchall()
                (passages,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone() or (0,)
            return Manifest(
                model=meta["model"],
                dim=int(meta["dim"]),
                chunking=meta["chunking"],
                articles={
                    r[0]: ArticleEntry(
                        hash=r[1], passages=r[2], path=r[3], layout=r[4], meta=r[5], story=r[6]
                    )
                    for r in rows
                },
                passages=int(passages),
                index_type="pgvector-hnsw",
                created=meta.get("created", ""),
                extra={"tokenizer": meta.get("tokenizer", 1), "sources": meta.get("sources") or []},
            )

        return self._run(read)

    def count(self) -> int:
        def read(conn: psycopg.Connection[Any]) -> int:
            self._meta(conn)
            row = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone()
            return int(row[0]) if row else 0

        return self._run(read)

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> Ranked:
        if k <= 0:
            return []
        where, params = _where(filters)
        join = f"JOIN {SCHEMA}.articles a ON a.id = p.article_id" if where else ""
        select = f"SELECT p.id, 1 - (p.embedding <=> %(v)s) FROM {SCHEMA}.passages p {join} {where} "
        query = select + "ORDER BY p.embedding <=> %(v)s LIMIT %(k)s"
        # "+ 0": an expression the HNSW index cannot serve, so every allowed row is scored.
        exact = select + "ORDER BY (p.embedding <=> %(v)s) + 0 LIMIT %(k)s"
        vec = np.asarray(vector, dtype=np.float32).ravel()

        def read(conn: psycopg.Connection[Any]) -> Ranked:
            args = {"v": vec, "k": k, **params}
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('hnsw.ef_search', %s, true), "
                    "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                    [str(min(1000, max(self.ef_search, k)))],
                )
                rows = conn.execute(query, args).fetchall()
                if where and len(rows) < k:
                    # A narrow filter can exhaust the graph walk (hnsw.max_scan_tuples)
                    # before k rows pass it: search what it allows exactly instead.
                    rows = conn.execute(exact, args).fetchall()
            # Iterative scans may return rows slightly out of order.
            return sorted(((int(i), float(s)) for i, s in rows), key=lambda r: (-r[1], r[0]))

        return self._run(read)

    def lexical_search(self, terms: Sequence[str], k: int, filters: Filters | None = None) -> Ranked:
        counts = Counter(terms)
        if not counts or k <= 0:
            return []
        where, params = _where(filters)
        join = f"JOIN {SCHEMA}.articles a ON a.id = p.article_id" if where else ""
        # Each term weighs its idf (bm25_idf, from the same statistics) times its repeats.
        statement = f"""
            WITH w AS (SELECT * FROM unnest(%(terms)s::text[], %(weights)s::float8[]) AS w(term, idf)),
            tot AS (SELECT greatest(length, 1)::float8 / greatest(passages, 1) AS avg FROM {SCHEMA}.totals)
            SELECT p.id, sum(w.idf * po.tf / (po.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / tot.avg))) AS score
            FROM w JOIN {SCHEMA}.postings po ON po.term = w.term
                   JOIN {SCHEMA}.passages p ON p.id = po.passage_id {join}
                   CROSS JOIN tot
            {where}
            GROUP BY p.id ORDER BY score DESC, p.id LIMIT %(k)s
        """

        def read(conn: psycopg.Connection[Any]) -> Ranked:
            with conn.transaction():
                idf = self._idfs(conn, list(counts))
                known = [t for t in counts if idf[t][1]]
                if not known:
                    return []
                args = {
                    "terms": known,
                    "weights": [counts[t] * idf[t][0] for t in known],
                    "k": k,
                    "k1": K1,
                    "b": B,
                    **params,
                }
                rows = conn.execute(statement, args).fetchall()
            return [(int(i), float(s)) for i, s in rows if s > 0]

        return self._run(read)

    def locate(self, rows: Sequence[int]) -> dict[int, Located]:
        if not rows:
            return {}
        cols = ", ".join(f"a.{c}" for c in _ARTICLE_COLUMNS)
        query = (
            f'SELECT p.id, p.start, p."end", a.hash, {cols} FROM {SCHEMA}.passages p '
            f"JOIN {SCHEMA}.articles a ON a.id = p.article_id WHERE p.id = ANY(%s)"
        )

        def read(conn: psycopg.Connection[Any]) -> dict[int, Located]:
            found = conn.execute(query, [list(rows)]).fetchall()
            articles: dict[str, Article] = {}
            out = {}
            for row_id, start, end, content_hash, *values in found:
                article = articles.get(values[0])
                if article is None:
                    article = Article(
                        **dict(zip(_ARTICLE_COLUMNS, values, strict=True)), content_hash=content_hash
                    )
                    articles[article.id] = article
                out[int(row_id)] = Located(article, int(start), int(end))
            return out

        return self._run(read)

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        wanted = list(dict.fromkeys(terms))
        if not wanted:
            return {}

        def read(conn: psycopg.Connection[Any]) -> dict[str, float]:
            with conn.transaction():
                return {t: w for t, (w, _) in self._idfs(conn, wanted).items()}

        return self._run(read)

    @staticmethod
    def _idfs(conn: psycopg.Connection[Any], wanted: list[str]) -> dict[str, tuple[float, int]]:
        """(idf, document frequency) of each term, in the caller's transaction."""
        (n,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone() or (0,)
        df = dict(
            conn.execute(f"SELECT term, df FROM {SCHEMA}.lexicon WHERE term = ANY(%s)", [wanted]).fetchall()
        )
        return {t: (float(bm25_idf(n, df.get(t, 0))), int(df.get(t, 0))) for t in wanted}

    def article(self, article_id: str) -> Article | None:
        cols = ", ".join(_ARTICLE_COLUMNS)

        def read(conn: psycopg.Connection[Any]) -> Article | None:
            row = conn.execute(
                f"SELECT hash, {cols} FROM {SCHEMA}.articles WHERE id = %s", [article_id]
            ).fetchone()
            if row is None:
                return None
            return Article(**dict(zip(_ARTICLE_COLUMNS, row[1:], strict=True)), content_hash=row[0])

        return self._run(read)

    def catalog(self) -> list[Article]:
        cols = [c for c in _ARTICLE_COLUMNS if c != "text"]

        def read(conn: psycopg.Connection[Any]) -> list[Article]:
            found = conn.execute(
                f"SELECT hash, {', '.join(cols)} FROM {SCHEMA}.articles ORDER BY id"
            ).fetchall()
            return [Article(text="", content_hash=r[0], **dict(zip(cols, r[1:], strict=True))) for r in found]

        return self._run(read)

    def stories(self, article_ids: Sequence[str]) -> dict[str, Story]:
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        cols = [c for c in _ARTICLE_COLUMNS if c != "text"]
        query = (
            f"SELECT q.id, m.story, m.hash, {', '.join(f'm.{c}' for c in cols)} FROM {SCHEMA}.articles q "
            f"JOIN {SCHEMA}.articles m ON m.story = q.story "
            "WHERE q.id = ANY(%s) AND q.story <> '' ORDER BY q.id, m.id"
        )

        def read(conn: psycopg.Connection[Any]) -> dict[str, Story]:
            members: dict[str, list[Article]] = {}
            story_of: dict[str, str] = {}
            for asked, story, content_hash, *values in conn.execute(query, [wanted]).fetchall():
                story_of[asked] = story
                members.setdefault(asked, []).append(
                    Article(text="", content_hash=content_hash, **dict(zip(cols, values, strict=True)))
                )
            return {i: Story(story_of[i], tuple(m)) for i, m in members.items() if len(m) > 1}

        return self._run(read)

    def stats(self) -> StoreStats:
        def read(conn: psycopg.Connection[Any]) -> StoreStats:
            with conn.transaction():
                meta = self._meta(conn)
                n, first, last = conn.execute(
                    f"SELECT count(*), min(NULLIF(published, '')), max(NULLIF(published, '')) "
                    f"FROM {SCHEMA}.articles"
                ).fetchone() or (0, None, None)
                (passages,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone() or (0,)
                (sentences,) = conn.execute(f"SELECT count(*) FROM {SCHEMA}.sentences").fetchone() or (0,)
                counts = {
                    col: tuple(
                        (v, int(c))
                        for v, c in conn.execute(
                            sql.SQL(
                                "SELECT {c}, count(*) FROM {t} WHERE {c} <> '' GROUP BY {c} ORDER BY 2 DESC, 1"
                            ).format(c=sql.Identifier(col), t=sql.Identifier(SCHEMA, "articles"))
                        ).fetchall()
                    )
                    for col in ("source", "language")
                }
            return StoreStats(
                location=self.location,
                articles=int(n),
                passages=int(passages),
                model=meta["model"],
                index_type="pgvector-hnsw",
                created=meta.get("created", ""),
                sources=counts["source"],
                languages=counts["language"],
                first_published=first or "",
                last_published=last or "",
                sentences=int(sentences),
            )

        return self._run(read)

    def sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        if not rows:
            return {}
        vec = np.asarray(vector, dtype=np.float32).ravel()

        def read(conn: psycopg.Connection[Any]) -> dict[int, float]:
            found = conn.execute(
                f"""SELECT p.id, max(1 - (s.embedding <=> %s)) FROM {SCHEMA}.passages p
                    JOIN {SCHEMA}.sentences s ON s.article_id = p.article_id
                         AND s.start < p."end" AND s."end" > p.start
                    WHERE p.id = ANY(%s) GROUP BY p.id""",
                [vec, list(rows)],
            ).fetchall()
            return {int(r): float(c) for r, c in found}

        return self._run(read)

    def sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self._vectors_by_key("sentences", keys)

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self._vectors_by_key("passages", keys)

    def _vectors_by_key(self, table: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of ``table`` (passages or sentences) whose text hashes to ``keys``."""
        if not keys:
            return {}
        statement = sql.SQL("SELECT DISTINCT ON (key) key, embedding FROM {} WHERE key = ANY(%s)").format(
            sql.Identifier(SCHEMA, table)
        )

        def read(conn: psycopg.Connection[Any]) -> dict[bytes, np.ndarray]:
            found = conn.execute(statement, [list(keys)]).fetchall()
            return {bytes(k): np.asarray(v.to_numpy(), dtype=np.float32) for k, v in found}

        return self._run(read)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[PgWriter]:
        """The indexer's lock (a session of its own: the lock lives as long). An older schema
        is upgraded first; on leaving, the planner's statistics are refreshed when anything
        was written (after a bulk load, stale ones make BM25 queries 30x slower)."""
        conn = self._run(lambda _: self._connect(), write=True)
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
            if self._version == 1:
                self._run(upgrade, write=True)
                self._version = SCHEMA_VERSION
            writer = PgWriter(self)
            yield writer
            if writer.written:
                self.analyze()
        finally:
            conn.close()  # releases the lock

    def analyze(self) -> None:
        """Refresh the planner's statistics of every table (quick: it samples)."""
        tables = sql.SQL(", ").join(sql.Identifier(SCHEMA, t) for t in DATA_TABLES)
        self._run(lambda conn: conn.execute(sql.SQL("ANALYZE {}").format(tables)), write=True)

    def _reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                create_tables(conn, dim)
                meta = {
                    "model": model,
                    "dim": int(dim),
                    "chunking": dict(chunking),
                    "tokenizer": TOKENIZER,
                    "created": _now(),
                }
                for key, value in meta.items():
                    _set_meta(conn, key, value)

        self._run(write, write=True)

    def _set_chunking(self, chunking: dict[str, int]) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                _set_meta(conn, "chunking", dict(chunking))
                _set_meta(conn, "tokenizer", TOKENIZER)

        self._run(write, write=True)

    def _set_sources(self, sources: Sequence[Mapping[str, str]]) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                _set_meta(conn, "sources", [dict(s) for s in sources])

        self._run(write, write=True)

    def _put(
        self,
        article: Article,
        spans: Sequence[tuple[int, int]],
        vectors: np.ndarray,
        sentences: SentenceTable | None,
        layout: str,
        meta_hash: str,
        signature: np.ndarray | None = None,
        story: str = "",
    ) -> None:
        if len(spans) != len(vectors):
            raise ValueError(f"{len(spans)} passages but {len(vectors)} vectors")
        texts = [article.text[s:e] for s, e in spans]
        counts = [Counter(text_terms(t, language=article.language)) for t in texts]
        lengths = [sum(c.values()) for c in counts]
        df = Counter(t for c in counts for t in c)
        vectors = np.asarray(vectors, dtype=np.float32)
        span = published_span(article.published)
        columns = [*_ARTICLE_COLUMNS, "hash", "published_from", "published_to", "passages", "layout", "meta"]
        values = [getattr(article, c) for c in _ARTICLE_COLUMNS]
        first, last = span if span is not None else (None, None)
        values += [article.content_hash, first, last, len(spans), layout, meta_hash]
        columns += ["story", "signature"]
        values += [story or article.id, None if signature is None else _signature_bytes(signature)]

        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                self._meta(conn)
                self._delete(conn, article.id)
                conn.execute(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(SCHEMA, "articles"),
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                    ),
                    values,
                )
                if not spans:
                    return
                ids = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT nextval('{SCHEMA}.passages_id_seq') FROM generate_series(1, %s)",
                        [len(spans)],
                    ).fetchall()
                ]
                with conn.cursor() as cur:
                    cur.executemany(
                        f'INSERT INTO {SCHEMA}.passages (id, article_id, start, "end", key, length, embedding) '
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [
                            (i, article.id, s, e, passage_key(t), n, v)
                            for i, (s, e), t, n, v in zip(ids, spans, texts, lengths, vectors, strict=True)
                        ],
                    )
                    with cur.copy(f"COPY {SCHEMA}.postings (term, passage_id, tf) FROM STDIN") as copy:
                        for i, c in zip(ids, counts, strict=True):
                            for term, tf in c.items():
                                copy.write_row((term, i, tf))
                    if sentences is not None and len(sentences):
                        cur.executemany(
                            f'INSERT INTO {SCHEMA}.sentences (article_id, start, "end", key, embedding) '
                            "VALUES (%s, %s, %s, %s, %s)",
                            [
                                (article.id, int(s), int(e), bytes(k), np.asarray(v, dtype=np.float32))
                                for s, e, k, v in zip(
                                    sentences.spans["start"].tolist(),
                                    sentences.spans["end"].tolist(),
                                    sentences.keys.tolist(),
                                    sentences.vectors,
                                    strict=True,
                                )
                            ],
                        )
                conn.execute(
                    f"INSERT INTO {SCHEMA}.lexicon (term, df) SELECT * FROM unnest(%s::text[], %s::int[]) "
                    "ON CONFLICT (term) DO UPDATE SET df = lexicon.df + excluded.df",
                    [list(df), list(df.values())],
                )
                conn.execute(
                    f"UPDATE {SCHEMA}.totals SET passages = passages + %s, length = length + %s",
                    [len(spans), sum(lengths)],
                )

        self._run(write, write=True)

    def _signatures(self) -> dict[str, np.ndarray]:
        def read(conn: psycopg.Connection[Any]) -> dict[str, np.ndarray]:
            found = conn.execute(
                f"SELECT id, signature FROM {SCHEMA}.articles WHERE signature IS NOT NULL"
            ).fetchall()
            return {i: np.frombuffer(bytes(sig), dtype="<u4").astype(np.uint32) for i, sig in found}

        return self._run(read)

    def _set_stories(self, stories: Mapping[str, str]) -> None:
        ids = list(stories)
        values = [stories[i] or i for i in ids]

        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                self._meta(conn)
                conn.execute(
                    f"UPDATE {SCHEMA}.articles a SET story = s.story "
                    "FROM unnest(%s::text[], %s::text[]) AS s(id, story) WHERE a.id = s.id",
                    [ids, values],
                )

        if ids:
            self._run(write, write=True)

    def _remove(self, article_id: str) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                self._meta(conn)
                self._delete(conn, article_id)

        self._run(write, write=True)

    @staticmethod
    def _delete(conn: psycopg.Connection[Any], article_id: str) -> None:
        """Drop an article, its passages and their share of the BM25 statistics (in a transaction)."""
        n, total = conn.execute(
            f"SELECT count(*), coalesce(sum(length), 0) FROM {SCHEMA}.passages WHERE article_id = %s",
            [article_id],
        ).fetchone() or (0, 0)
        if n:
            gone = conn.execute(
                f"""WITH d AS (SELECT po.term, count(*) AS n FROM {SCHEMA}.postings po
                               JOIN {SCHEMA}.passages p ON p.id = po.passage_id
                               WHERE p.article_id = %s GROUP BY po.term)
                    UPDATE {SCHEMA}.lexicon l SET df = l.df - d.n FROM d WHERE l.term = d.term
                    RETURNING l.term, l.df""",
                [article_id],
            ).fetchall()
            unused = [term for term, df in gone if df <= 0]
            if unused:
                conn.execute(f"DELETE FROM {SCHEMA}.lexicon WHERE term = ANY(%s)", [unused])
            conn.execute(
                f"UPDATE {SCHEMA}.totals SET passages = passages - %s, length = length - %s", [n, total]
            )
        conn.execute(f"DELETE FROM {SCHEMA}.articles WHERE id = %s", [article_id])


class PgWriter(StoreWriter):
    """Writes straight to the database, each article in its own transaction."""

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.written = False

    def manifest(self) -> Manifest | None:
        try:
            return self.store.manifest()
        except IndexMissingError:
            return None

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self.store.known_vectors(keys)

    def known_sentence_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self.store.sentence_vectors(keys)

    def signatures(self) -> dict[str, np.ndarray]:
        return self.store._signatures()

    def reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        self.store._reset(model, dim, chunking)
        self.written = True

    def set_chunking(self, chunking: dict[str, int]) -> None:
        self.store._set_chunking(chunking)

    def set_sources(self, sources: Sequence[Mapping[str, str]]) -> None:
        self.store._set_sources(sources)
        self.written = True

    def put_article(
        self,
        article: Article,
        spans: Sequence[tuple[int, int]],
        vectors: np.ndarray,
        sentences: SentenceTable | None = None,
        layout: str = "",
        signature: np.ndarray | None = None,
        story: str = "",
    ) -> None:
        self.store._put(article, spans, vectors, sentences, layout, metadata_hash(article), signature, story)
        self.written = True

    def remove_article(self, article_id: str) -> None:
        self.store._remove(article_id)
        self.written = True

    def set_stories(self, stories: Mapping[str, str]) -> None:
        self.store._set_stories(stories)
        self.written = self.written or bool(stories)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _set_meta(conn: psycopg.Connection[Any], key: str, value: Any) -> None:
    conn.execute(
        f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)],
    )


def _signature_bytes(signature: np.ndarray) -> bytes:
    return np.asarray(signature, dtype="<u4").ravel().tobytes()


def _where(filters: Filters | None) -> tuple[str, dict[str, Any]]:
    """A WHERE clause over ``articles a`` doing what :meth:`Filters.accepts` does."""
    if filters is None or not filters.active:
        return "", {}
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.sources:
        params["sources"] = [s.lower() for s in filters.sources]
        clauses.append(
            "EXISTS (SELECT 1 FROM unnest(%(sources)s::text[]) s WHERE strpos(lower(a.source), s) > 0)"
        )
    if filters.since:
        params["since"] = filters.since
        clauses.append("a.published_to >= %(since)s")
    if filters.until:
        params["until"] = filters.until
        clauses.append("a.published_from <= %(until)s")
    if filters.published_by:
        params["by"] = filters.published_by
        clauses.append("(a.published_from IS NULL OR a.published_from <= %(by)s)")
    return "WHERE " + " AND ".join(clauses), params
