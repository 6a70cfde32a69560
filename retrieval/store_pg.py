"""PostgreSQL + pgvector as a :class:`VectorStore`: one live archive shared by many processes.

Everything lives in the schema ``newsbot`` of the database the URL names::

    meta       key → jsonb: schema_version, model, dim, chunking, created
    articles   id, content hash, metadata, text, passage count, published date
    passages   id, article, start, end, text hash, length in terms, embedding vector(dim)
               (HNSW index, cosine)
    sentences  article, start, end, text hash, embedding vector(dim)  -- models that
               index sentences (retrieval.sentences)
    postings   term, passage, term frequency   -- BM25 computed in SQL
    lexicon    term, document frequency
    totals     passages and their total length (BM25's average passage length)

Every write is one transaction, so readers (in any process) see an article all old or
all new, and each query sees the latest committed state: no restart after an update.
BM25 is Lucene's (k1=1.5, b=0.75) over the same terms as the FAISS store's
``lexical.py``, so both stores rank alike. Lost connections (a server restart, a
network cut) are retried with back-off; when the database stays unreachable a
:class:`StoreUnavailableError` says so, and the next call tries again.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from retrieval.articles import Article
from retrieval.language import detect
from retrieval.lexical import K1, TOKENIZER, B
from retrieval.manifest import ArticleEntry, IndexMismatchError, IndexMissingError, Manifest
from retrieval.sentences import SentenceTable
from retrieval.store import Located, Ranked, StoreStats, StoreUnavailableError, VectorStore, passage_key
from retrieval.text import terms
from retrieval.types import Filters

SCHEMA = "newsbot"
SCHEMA_VERSION = 1
#: candidates the HNSW graph search keeps (pgvector's default is 40); recall on the dev set: bench/stores.py
HNSW_EF_SEARCH = 200
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
#: pg_advisory_lock keys: one held by the one indexer for its whole run, one by each
#: write transaction (any 64-bit numbers: "newsbot" in ASCII, and one more)
WRITER_LOCK = 0x6E657773626F74
WRITE_LOCK = WRITER_LOCK + 1
T = TypeVar("T")

_ARTICLE_COLUMNS = ("id", "text", "title", "source", "published", "url", "path", "author", "language")

_TABLES = """
CREATE TABLE {s}.articles (
    id text PRIMARY KEY,
    hash text NOT NULL,
    text text NOT NULL,
    title text NOT NULL DEFAULT '',
    source text NOT NULL DEFAULT '',
    published text NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    path text NOT NULL DEFAULT '',
    author text NOT NULL DEFAULT '',
    language text NOT NULL DEFAULT '',
    published_date date,
    passages integer NOT NULL
);
CREATE INDEX ON {s}.articles (published_date);
CREATE TABLE {s}.passages (
    id bigserial PRIMARY KEY,
    article_id text NOT NULL REFERENCES {s}.articles (id) ON DELETE CASCADE,
    start integer NOT NULL,
    "end" integer NOT NULL,
    key bytea NOT NULL,
    length integer NOT NULL,
    embedding vector({dim}) NOT NULL
);
CREATE INDEX ON {s}.passages (article_id);
CREATE INDEX ON {s}.passages (key);
CREATE INDEX passages_embedding ON {s}.passages
    USING hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = {efc});
{sentences}
CREATE TABLE {s}.postings (
    term text NOT NULL,
    passage_id bigint NOT NULL REFERENCES {s}.passages (id) ON DELETE CASCADE,
    tf integer NOT NULL,
    PRIMARY KEY (term, passage_id)
);
CREATE INDEX ON {s}.postings (passage_id);
CREATE TABLE {s}.lexicon (term text PRIMARY KEY, df integer NOT NULL);
CREATE TABLE {s}.totals (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    passages bigint NOT NULL,
    length bigint NOT NULL
);
INSERT INTO {s}.totals VALUES (true, 0, 0);
"""
_SENTENCES = """
CREATE TABLE IF NOT EXISTS {s}.sentences (
    article_id text NOT NULL REFERENCES {s}.articles (id) ON DELETE CASCADE,
    start integer NOT NULL,
    "end" integer NOT NULL,
    key bytea NOT NULL,
    embedding vector({dim}) NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_article ON {s}.sentences (article_id, start);
CREATE INDEX IF NOT EXISTS sentences_key ON {s}.sentences (key);
"""
_DATA_TABLES = ("totals", "lexicon", "postings", "sentences", "passages", "articles")


def redact(url: str) -> str:
    """The URL without its password (safe for messages and logs)."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


class PgStore(VectorStore):
    """An archive in PostgreSQL with pgvector; safe to share between threads and processes.

    ``retries`` times a lost connection is re-opened (waiting ``retry_wait`` seconds,
    doubling) before :class:`StoreUnavailableError` is raised. The schema is created
    on first use.
    """

    def __init__(
        self,
        url: str,
        *,
        retries: int = 4,
        retry_wait: float = 0.5,
        connect_timeout: int = 5,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        self.url = url
        self.location = redact(url)
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"invalid database URL {self.location}: {exc}") from None
        self.retries = retries
        self.retry_wait = retry_wait
        self.connect_timeout = connect_timeout
        self.ef_search = ef_search
        self._local = threading.local()
        self._open: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._schema_checked = False
        self._tables: set[str] = set()  # tables seen in the schema (see _has_table)
        self._written = False
        self._run(lambda conn: None)  # connect now: a wrong URL fails at open, not at the first question

    # ------------------------------------------------------------------ connections

    def _connection(self) -> psycopg.Connection[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        conn = self._connect()
        try:
            if not self._schema_checked:
                self._ensure_schema(conn)
                self._schema_checked = True
            from pgvector.psycopg import register_vector

            register_vector(conn)
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        with self._lock:
            self._open.append(conn)
        return conn

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

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work(connection)``, again on a fresh connection when the connection is lost.

        Safe because every call is a read or one whole transaction.
        """
        error: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.retry_wait * 2 ** (attempt - 1))
            try:
                return work(self._connection())
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if isinstance(exc, psycopg.errors.QueryCanceled):
                    raise
                error = exc
                self._discard()
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreUnavailableError(
            f"cannot reach the PostgreSQL database {self.location}: {reason} "
            f"(tried {self.retries + 1} times); is the server running?"
        ) from error

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ schema

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        """Create the schema when missing (under a lock: processes may start together);
        refuse one of another version. A read-only role can use an existing schema."""
        if conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.meta"]).fetchone() == (None,):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
                    try:
                        with conn.transaction():
                            conn.execute("CREATE EXTENSION vector")
                    except psycopg.errors.InsufficientPrivilege as exc:
                        raise IndexMismatchError(
                            f"pgvector is not enabled in {self.location}: "
                            "a superuser must run `CREATE EXTENSION vector` in that database once"
                        ) from exc
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key text PRIMARY KEY, value jsonb NOT NULL)"
                )
                conn.execute(
                    f"INSERT INTO {SCHEMA}.meta VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
                    [json.dumps(SCHEMA_VERSION)],
                )
        row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the database {self.location} holds newsbot schema version {row[0] if row else None}, "
                f"this newsbot uses version {SCHEMA_VERSION}: drop it (`DROP SCHEMA {SCHEMA} CASCADE`) "
                "and index again with `newsbot index --store URL`"
            )

    def _meta(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
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
                rows = conn.execute(f"SELECT id, hash, passages, path FROM {SCHEMA}.articles").fetchall()
                (passages,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone() or (0,)
            return Manifest(
                model=meta["model"],
                dim=int(meta["dim"]),
                chunking=meta["chunking"],
                articles={r[0]: ArticleEntry(hash=r[1], passages=r[2], path=r[3]) for r in rows},
                passages=int(passages),
                index_type="pgvector-hnsw",
                created=meta.get("created", ""),
                extra={"tokenizer": meta.get("tokenizer", 1)},
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

    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> Ranked:
        words = terms(query, language=detect(query))
        if not words or k <= 0:
            return []
        where, params = _where(filters)
        join = f"JOIN {SCHEMA}.articles a ON a.id = p.article_id" if where else ""
        # A repeated query term counts again, as in bm25s (and lexical.py).
        statement = f"""
            WITH q AS (SELECT t AS term, count(*) AS n FROM unnest(%(terms)s::text[]) t GROUP BY t),
            tot AS (SELECT passages::float8 AS n, greatest(length, 1)::float8 / greatest(passages, 1) AS avg
                    FROM {SCHEMA}.totals),
            w AS (SELECT q.term, q.n * ln(1 + (tot.n - l.df + 0.5) / (l.df + 0.5)) AS idf
                  FROM q JOIN {SCHEMA}.lexicon l ON l.term = q.term CROSS JOIN tot)
            SELECT p.id, sum(w.idf * po.tf / (po.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / tot.avg))) AS score
            FROM w JOIN {SCHEMA}.postings po ON po.term = w.term
                   JOIN {SCHEMA}.passages p ON p.id = po.passage_id {join}
                   CROSS JOIN tot
            {where}
            GROUP BY p.id ORDER BY score DESC, p.id LIMIT %(k)s
        """
        args = {"terms": words, "k": k, "k1": K1, "b": B, **params}

        def read(conn: psycopg.Connection[Any]) -> Ranked:
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
                (n,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone() or (0,)
                df = dict(
                    conn.execute(
                        f"SELECT term, df FROM {SCHEMA}.lexicon WHERE term = ANY(%s)", [wanted]
                    ).fetchall()
                )
            return {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in wanted}

        return self._run(read)

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

    def stats(self) -> StoreStats:
        def read(conn: psycopg.Connection[Any]) -> StoreStats:
            with conn.transaction():
                meta = self._meta(conn)
                n, first, last = conn.execute(
                    f"SELECT count(*), min(NULLIF(published, '')), max(NULLIF(published, '')) "
                    f"FROM {SCHEMA}.articles"
                ).fetchone()  # type: ignore[misc]
                (passages,) = conn.execute(f"SELECT passages FROM {SCHEMA}.totals").fetchone()  # type: ignore[misc]
                sentences = 0
                if self._has_table(conn, "sentences"):
                    (sentences,) = conn.execute(f"SELECT count(*) FROM {SCHEMA}.sentences").fetchone()  # type: ignore[misc]
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

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[None]:
        """The indexer's lock; on leaving, the planner's statistics are refreshed when
        anything was written (after a bulk load, stale ones make BM25 queries 30x slower)."""
        conn = self._run(lambda _: self._connect())  # a session of its own: the lock lives as long
        self._written = False
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
            yield
            if self._written:
                self.analyze()
        finally:
            conn.close()  # releases the lock

    def analyze(self) -> None:
        """Refresh the planner's statistics of every table (quick: it samples)."""

        def write(conn: psycopg.Connection[Any]) -> None:
            present = [t for t in _DATA_TABLES if self._has_table(conn, t)]  # sentences: since 2026-12
            conn.execute(f"ANALYZE {', '.join(f'{SCHEMA}.{t}' for t in present)}")

        self._run(write)

    def _has_table(self, conn: psycopg.Connection[Any], table: str) -> bool:
        """Whether the schema has ``table`` (``sentences`` is missing from older ones). A table
        once seen is remembered: only ``reset`` drops tables, and it creates them all again,
        so questions do not pay a catalog look-up each."""
        if table in self._tables:
            return True
        found = conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.{table}"]).fetchone() != (None,)
        if found:
            self._tables.add(table)
        return found

    def reset(self, model: str, dim: int, chunking: dict[str, int]) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                for table in _DATA_TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table} CASCADE")
                sentences = _SENTENCES.format(s=SCHEMA, dim=int(dim))
                tables = _TABLES.format(
                    s=SCHEMA, dim=int(dim), m=HNSW_M, efc=HNSW_EF_CONSTRUCTION, sentences=sentences
                )
                conn.execute(tables)  # type: ignore[arg-type]
                meta = {
                    "model": model,
                    "dim": int(dim),
                    "chunking": dict(chunking),
                    "tokenizer": TOKENIZER,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                for key, value in meta.items():
                    conn.execute(
                        f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [key, json.dumps(value)],
                    )

        self._run(write)
        self._written = True

    def put_article(
        self,
        article: Article,
        spans: Sequence[tuple[int, int]],
        vectors: np.ndarray,
        sentences: SentenceTable | None = None,
    ) -> None:
        if len(spans) != len(vectors):
            raise ValueError(f"{len(spans)} passages but {len(vectors)} vectors")
        texts = [article.text[s:e] for s, e in spans]
        counts = [Counter(terms(t, language=article.language)) for t in texts]
        lengths = [sum(c.values()) for c in counts]
        df = Counter(t for c in counts for t in c)
        vectors = np.asarray(vectors, dtype=np.float32)

        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                self._meta(conn)
                self._delete(conn, article.id)
                values = [getattr(article, c) for c in _ARTICLE_COLUMNS]
                conn.execute(
                    f"INSERT INTO {SCHEMA}.articles ({', '.join(_ARTICLE_COLUMNS)}, hash, published_date, passages) "
                    f"VALUES ({', '.join(['%s'] * (len(_ARTICLE_COLUMNS) + 3))})",
                    [*values, article.content_hash, _day(article.published), len(spans)],
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
                conn.execute(
                    f"INSERT INTO {SCHEMA}.lexicon (term, df) SELECT * FROM unnest(%s::text[], %s::int[]) "
                    "ON CONFLICT (term) DO UPDATE SET df = lexicon.df + excluded.df",
                    [list(df), list(df.values())],
                )
                conn.execute(
                    f"UPDATE {SCHEMA}.totals SET passages = passages + %s, length = length + %s",
                    [len(spans), sum(lengths)],
                )
                if sentences is not None and len(sentences):
                    self._put_sentences(conn, article.id, sentences, vectors.shape[1])

        self._run(write)
        self._written = True

    def _put_sentences(
        self, conn: psycopg.Connection[Any], article_id: str, table: SentenceTable, dim: int
    ) -> None:
        """Store an article's sentence vectors (its old ones went with its row)."""
        if not self._has_table(conn, "sentences"):  # a schema from before sentence vectors
            conn.execute(_SENTENCES.format(s=SCHEMA, dim=int(dim)))  # type: ignore[arg-type]
        with conn.cursor() as cur:
            cur.executemany(
                f'INSERT INTO {SCHEMA}.sentences (article_id, start, "end", key, embedding) '
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    (article_id, int(s), int(e), bytes(k), np.asarray(v, dtype=np.float32))
                    for s, e, k, v in zip(
                        table.spans["start"].tolist(),
                        table.spans["end"].tolist(),
                        table.keys.tolist(),
                        table.vectors,
                        strict=True,
                    )
                ],
            )

    def sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, float]:
        if not rows:
            return {}
        vec = np.asarray(vector, dtype=np.float32).ravel()

        def read(conn: psycopg.Connection[Any]) -> dict[int, float]:
            if not self._has_table(conn, "sentences"):
                return {}
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

    def remove_article(self, article_id: str) -> None:
        def write(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                self._meta(conn)
                self._delete(conn, article_id)

        self._run(write)
        self._written = True

    @staticmethod
    def _delete(conn: psycopg.Connection[Any], article_id: str) -> None:
        """Drop an article, its passages and their share of the BM25 statistics (in a transaction)."""
        n, total = conn.execute(
            f"SELECT count(*), coalesce(sum(length), 0) FROM {SCHEMA}.passages WHERE article_id = %s",
            [article_id],
        ).fetchone()  # type: ignore[misc]
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

    def known_vectors(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        return self._vectors_by_key("passages", keys)

    def _vectors_by_key(self, table: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors of ``table`` (passages or sentences) whose text hashes to ``keys``."""
        if not keys:
            return {}

        def read(conn: psycopg.Connection[Any]) -> dict[bytes, np.ndarray]:
            if not self._has_table(conn, table):  # sentences: absent from older schemas
                return {}
            found = conn.execute(
                f"SELECT DISTINCT ON (key) key, embedding FROM {SCHEMA}.{table} WHERE key = ANY(%s)",
                [list(keys)],
            ).fetchall()
            return {bytes(k): np.asarray(v.to_numpy(), dtype=np.float32) for k, v in found}

        return self._run(read)


def _day(published: str) -> date | None:
    try:
        return date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None


def _where(filters: Filters | None) -> tuple[str, dict[str, Any]]:
    """A WHERE clause over ``articles a`` doing what :meth:`Filters.accepts` does."""
    if filters is None or not filters.active:
        return "", {}
    clauses, params = [], {}
    if filters.sources:
        params["sources"] = [s.lower() for s in filters.sources]
        clauses.append(
            "EXISTS (SELECT 1 FROM unnest(%(sources)s::text[]) s WHERE strpos(lower(a.source), s) > 0)"
        )
    if filters.since:
        params["since"] = filters.since
        clauses.append("a.published_date >= %(since)s")
    if filters.until:
        params["until"] = filters.until
        clauses.append("a.published_date <= %(until)s")
    return "WHERE " + " AND ".join(clauses), params
