"""The PostgreSQL schema of an archive: its tables, its version, and the upgrade from older ones.

Everything lives in the schema ``newsbot``::

    meta       key → jsonb: schema_version, model, dim, chunking, tokenizer, created
    articles   id, content hash, metadata (note too), text, passage count, layout, metadata hash,
               published_from / published_to (the days its date covers), story (the id
               of its near-duplicate group) and MinHash signature (uint32 little-endian)
    passages   id, article, start, end, text hash, length in terms, embedding vector(dim)
               (HNSW index, cosine)
    sentences  article, start, end, text hash, embedding vector(dim)  -- models that
               index sentences (retrieval.store.sentences)
    postings   term, passage, term frequency   -- BM25 computed in SQL
    lexicon    term, document frequency
    totals     passages and their total length (BM25's average passage length)

Version 2 added the sentences table, the articles' layout, metadata hash, story and
signature, and the date span; :func:`upgrade` brings a version-1 schema there in place.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from retrieval.errors import IndexMismatchError

SCHEMA = "newsbot"
SCHEMA_VERSION = 2
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
#: pg_advisory_lock keys: one held by the one indexer for its whole run, one by each
#: write transaction (any 64-bit numbers: "newsbot" in ASCII, and one more)
WRITER_LOCK = 0x6E657773626F74
WRITE_LOCK = WRITER_LOCK + 1
DATA_TABLES = ("totals", "lexicon", "postings", "sentences", "passages", "articles")

TABLES = """
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
    note text NOT NULL DEFAULT '',
    published_from date,
    published_to date,
    passages integer NOT NULL,
    layout text NOT NULL DEFAULT '',
    meta text NOT NULL DEFAULT '',
    story text NOT NULL DEFAULT '',
    signature bytea
);
CREATE INDEX ON {s}.articles (published_from);
CREATE INDEX articles_story ON {s}.articles (story);
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
SENTENCES = """
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
#: version 1 -> 2, in one transaction
UPGRADE_1 = """
ALTER TABLE {s}.articles ADD COLUMN IF NOT EXISTS layout text NOT NULL DEFAULT '';
ALTER TABLE {s}.articles ADD COLUMN IF NOT EXISTS meta text NOT NULL DEFAULT '';
ALTER TABLE {s}.articles RENAME COLUMN published_date TO published_from;
ALTER TABLE {s}.articles ADD COLUMN published_to date;
UPDATE {s}.articles SET published_to = published_from;
ALTER TABLE {s}.articles ADD COLUMN IF NOT EXISTS story text NOT NULL DEFAULT '';
ALTER TABLE {s}.articles ADD COLUMN IF NOT EXISTS signature bytea;
ALTER TABLE {s}.articles ADD COLUMN IF NOT EXISTS note text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS articles_story ON {s}.articles (story);
"""


def create_tables(conn: psycopg.Connection[Any], dim: int) -> None:
    """Drop the archive's tables and create them empty (in the caller's transaction)."""
    for table in DATA_TABLES:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA, table)))
    sentences = SENTENCES.format(s=SCHEMA, dim=int(dim))
    ddl = TABLES.format(s=SCHEMA, dim=int(dim), m=HNSW_M, efc=HNSW_EF_CONSTRUCTION, sentences=sentences)
    conn.execute(ddl)


def ensure_schema(conn: psycopg.Connection[Any], location: str) -> int:
    """Create the schema when missing (under a lock: processes may start together) and
    return its version; refuse one this newsbot cannot read or upgrade."""
    if conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.meta"]).fetchone() == (None,):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
                try:
                    with conn.transaction():
                        conn.execute("CREATE EXTENSION vector")
                except psycopg.errors.InsufficientPrivilege as exc:
                    raise IndexMismatchError(
                        f"pgvector is not enabled in {location}: "
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
    version = schema_version(conn)
    if version not in (1, SCHEMA_VERSION):
        raise IndexMismatchError(
            f"the database {location} holds newsbot schema version {version}, "
            f"this newsbot uses version {SCHEMA_VERSION}: drop it (`DROP SCHEMA {SCHEMA} CASCADE`) "
            "and index again with `newsbot index --store URL`"
        )
    return int(version)


def schema_version(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
    return row[0] if row else None


def upgrade(conn: psycopg.Connection[Any]) -> None:
    """Bring a version-1 schema to version 2 in place (one transaction; the next refresh
    then rewrites every article's passages, reusing their vectors)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        if schema_version(conn) != 1:
            return  # another process upgraded it meanwhile
        if conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.articles"]).fetchone() != (None,):
            conn.execute(UPGRADE_1.format(s=SCHEMA))
            row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'dim'").fetchone()
            if row is not None:
                conn.execute(SENTENCES.format(s=SCHEMA, dim=int(row[0])))
        conn.execute(
            f"UPDATE {SCHEMA}.meta SET value = %s WHERE key = 'schema_version'", [json.dumps(SCHEMA_VERSION)]
        )


def upgrade_hint(location: str) -> str:
    return (
        f"the database {location} holds newsbot schema version 1: run `newsbot index --store URL` "
        "once to upgrade it in place (its vectors are kept)"
    )
