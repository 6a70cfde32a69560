"""The subscriptions' tables, their version, and the numbered migrations that reach it.

The same tables in SQLite (``INDEX/alerts.sqlite``) and in the PostgreSQL schema
``newsbot_alerts`` (beside the archive's own, which has its own version)::

    subscriptions  id, chat, topic (as written and as a key), daily or not, created
    sent           every alert, recorded before it is sent: chat, topic key and story
                   (unique together), subscription, article, kind, digest block, claimed,
                   delivered
    chats          per chat: paused since, the day of its last digest
    meta           key -> value: schema_version

Migration ``n`` brings a database at version ``n - 1`` to ``n``, in one transaction. A
database from before versions (the three tables, no ``meta``) is version 0: migration 1
creates only what it lacks, so its follows and sent alerts are kept.
"""

from __future__ import annotations

from typing import Any, Protocol

from retrieval.errors import IndexMismatchError

PG_SCHEMA = "newsbot_alerts"
#: the key of the PostgreSQL advisory lock held while the schema is created or migrated
PG_LOCK = "newsbot_alerts schema"

# {p}: the table prefix ("newsbot_alerts." in PostgreSQL); {serial}: the id column type.
# Index names take no prefix: PostgreSQL puts an index in its table's schema.
_V1 = """
CREATE TABLE IF NOT EXISTS {p}subscriptions (
    id {serial},
    chat_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    topic_key TEXT NOT NULL,
    daily BOOLEAN NOT NULL DEFAULT FALSE,
    created DOUBLE PRECISION NOT NULL,
    UNIQUE (chat_id, topic_key)
);
CREATE TABLE IF NOT EXISTS {p}sent (
    id {serial},
    chat_id BIGINT NOT NULL,
    topic_key TEXT NOT NULL,
    story TEXT NOT NULL,
    subscription_id BIGINT NOT NULL,
    article_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    block TEXT NOT NULL DEFAULT '',
    claimed DOUBLE PRECISION NOT NULL,
    delivered DOUBLE PRECISION,
    UNIQUE (chat_id, topic_key, story)
);
CREATE INDEX IF NOT EXISTS sent_pending ON {p}sent (chat_id, kind) WHERE delivered IS NULL;
CREATE INDEX IF NOT EXISTS sent_subscription ON {p}sent (subscription_id);
CREATE TABLE IF NOT EXISTS {p}chats (
    chat_id BIGINT PRIMARY KEY,
    paused DOUBLE PRECISION,
    last_digest TEXT
);
"""

#: ``MIGRATIONS[n - 1]`` is migration ``n``; a new one is appended here, never edited in place
MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ()) -> None: ...

    def fetchone(self) -> Any: ...


def statements(ddl: str, *, postgres: bool) -> list[str]:
    """``ddl`` for one database, a statement each."""
    prefix = f"{PG_SCHEMA}." if postgres else ""
    serial = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [s.strip() for s in ddl.format(p=prefix, serial=serial).split(";") if s.strip()]


def version_of(cur: Cursor, *, postgres: bool) -> int:
    """The schema version recorded (0: none, a database from before versions)."""
    prefix = f"{PG_SCHEMA}." if postgres else ""
    cur.execute(f"SELECT value FROM {prefix}meta WHERE key = 'schema_version'")
    row = cur.fetchone()
    return int(row[0]) if row is not None else 0


def migrate(cur: Cursor, *, postgres: bool, location: str) -> int:
    """Create the tables, or bring older ones to :data:`SCHEMA_VERSION` in place; returns
    the version found. Refuses a newer version than this newsbot knows."""
    prefix = f"{PG_SCHEMA}." if postgres else ""
    if postgres:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {prefix}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    found = version_of(cur, postgres=postgres)
    if found > SCHEMA_VERSION:
        raise IndexMismatchError(
            f"the subscriptions in {location} have schema version {found}, this newsbot knows "
            f"versions up to {SCHEMA_VERSION}: run a newer newsbot"
        )
    for number in range(found + 1, SCHEMA_VERSION + 1):
        for statement in statements(MIGRATIONS[number - 1], postgres=postgres):
            cur.execute(statement)
        cur.execute(
            f"INSERT INTO {prefix}meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(number),),
        )
    return found
