"""Followed topics and the record of alerts sent, in SQLite or PostgreSQL.

Beside an index folder the file is ``INDEX/alerts.sqlite``; with a PostgreSQL archive the
tables live in the schema ``newsbot_alerts`` of the same database. Both are created on
first use and carry their own schema version (:mod:`retrieval.live.subscriptions_schema`), separate
from the archive's; an older one is migrated in place when opened.

Every alert is recorded *before* it is sent, under a unique (chat, topic, story) key: of
several bot processes only the one whose insert succeeds sends it, so an alert goes out
once (a process killed between the insert and the send loses that alert rather than
sending it twice).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.errors import StoreUnavailableError
from retrieval.live.subscriptions_schema import PG_LOCK, PG_SCHEMA, migrate
from retrieval.store.location import Location
from retrieval.text import terms

#: the console's follows, kept beside the bot's: no Telegram chat has this id
CONSOLE_CHAT = 0
MAX_TOPIC_CHARS = 200
DEFAULT_MAX_FOLLOWS = 20
NOW, DAILY = "now", "daily"


class FollowError(ValueError):
    """A topic cannot be followed; the message says why, for the user."""


@dataclass(frozen=True)
class Subscription:
    id: int
    chat_id: int
    topic: str
    daily: bool
    created: float
    #: alerts delivered for it
    alerts: int = 0
    #: the chat blocked the bot: nothing is matched or sent until it writes again
    paused: bool = False


@dataclass(frozen=True)
class Pending:
    """A claimed alert not sent yet (a digest's item)."""

    id: int
    chat_id: int
    subscription_id: int
    topic: str
    article_id: str
    block: str


def clean_topic(text: str) -> str:
    """The topic as kept: whitespace collapsed. Raises :class:`FollowError` when empty,
    longer than :data:`MAX_TOPIC_CHARS` or without a word to search for."""
    topic = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if not topic:
        raise FollowError("empty")
    if len(topic) > MAX_TOPIC_CHARS:
        raise FollowError(f"A topic can be at most {MAX_TOPIC_CHARS} characters (this one has {len(topic)}).")
    if not terms(topic):
        raise FollowError("That topic has no word to look for; name a person, place or event.")
    return topic


def topic_key(topic: str) -> str:
    return " ".join(topic.lower().split())


class Subscriptions:
    """The tables, over one connection guarded by a lock (calls come from worker threads)."""

    def __init__(self, connect: Callable[[], Any], *, postgres: bool, location: str) -> None:
        self._connect = connect
        self.postgres = postgres
        self.location = location
        self._lock = threading.RLock()
        self._conn: Any = None
        self._p = f"{PG_SCHEMA}." if postgres else ""
        with self._lock:
            self._create()

    @classmethod
    def sqlite(cls, path: Path | str) -> Subscriptions:
        """A SQLite file (``":memory:"``: for this process only)."""

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            if str(path) != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            return conn

        return cls(connect, postgres=False, location=str(path))

    @classmethod
    def postgresql(cls, location: Location) -> Subscriptions:
        """The schema :data:`PG_SCHEMA` of the database at ``location``."""
        import psycopg

        url = location.url
        if url is None:
            raise ValueError(f"{location} is not a database")
        return cls(
            lambda: psycopg.connect(url, autocommit=True, connect_timeout=5),
            postgres=True,
            location=location.shown,
        )

    # ------------------------------------------------------------------ plumbing

    def _create(self) -> None:
        """Create the tables or migrate older ones (:mod:`retrieval.live.subscriptions_schema`) in one
        transaction, one process at a time: under an advisory lock in PostgreSQL, SQLite's
        write lock in a file."""
        with self._cursor() as cur:
            if self.postgres:
                cur.execute("SELECT pg_advisory_lock(hashtext(?))", (PG_LOCK,))
            try:
                cur.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
                try:
                    migrate(cur, postgres=self.postgres, location=self.location)
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            finally:
                if self.postgres:
                    cur.execute("SELECT pg_advisory_unlock(hashtext(?))", (PG_LOCK,))

    def _cursor(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return _Cursor(self._conn.cursor(), self.postgres)

    def _run(self, work: Callable[[Any], Any]) -> Any:
        """``work(cursor)`` under the lock; a lost PostgreSQL connection is opened again once,
        then :class:`StoreUnavailableError`."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    with self._cursor() as cur:
                        return work(cur)
                except Exception as exc:
                    if not self._lost(exc):
                        raise
                    self._reset()
                    if attempt:
                        raise StoreUnavailableError(
                            f"cannot reach the PostgreSQL database {self.location}: {exc}"
                        ) from exc
        return None  # pragma: no cover

    def _lost(self, exc: Exception) -> bool:
        if not self.postgres:
            return False
        import psycopg

        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
        finally:
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._reset()

    def _t(self, name: str) -> str:
        return self._p + name

    # ------------------------------------------------------------------ following

    def follow(
        self,
        chat_id: int,
        topic: str,
        *,
        daily: bool = False,
        cap: int = DEFAULT_MAX_FOLLOWS,
        now: float | None = None,
    ) -> Subscription:
        """Follow ``topic`` (cleaned with :func:`clean_topic`) in ``chat_id``; FollowError when the chat
        follows ``cap`` topics already or this one."""
        topic = clean_topic(topic)
        key = topic_key(topic)
        created = time.time() if now is None else now

        def work(cur: _Cursor) -> Subscription:
            cur.execute(
                f"SELECT id FROM {self._t('subscriptions')} WHERE chat_id = ? AND topic_key = ?",
                (chat_id, key),
            )
            row = cur.fetchone()
            if row is not None:
                raise FollowError(f"This chat already follows that topic (#{row[0]}).")
            cur.execute(f"SELECT COUNT(*) FROM {self._t('subscriptions')} WHERE chat_id = ?", (chat_id,))
            if cur.fetchone()[0] >= cap:
                raise FollowError(
                    f"This chat follows {cap} topics, the most it may. /unfollow one first (/following lists them)."
                )
            cur.execute(
                f"INSERT INTO {self._t('subscriptions')} (chat_id, topic, topic_key, daily, created) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (chat_id, topic, key, daily, created),
            )
            made = cur.fetchone()
            if made is None:  # another process followed it just now
                raise FollowError("This chat already follows that topic.")
            cur.execute(
                f"INSERT INTO {self._t('chats')} (chat_id) VALUES (?) ON CONFLICT DO NOTHING", (chat_id,)
            )
            return Subscription(int(made[0]), chat_id, topic, daily, created)

        result: Subscription = self._run(work)
        return result

    def following(self, chat_id: int | None = None) -> list[Subscription]:
        """The chat's subscriptions (None: every chat's), oldest first, with their alert counts."""
        where = "WHERE s.chat_id = ?" if chat_id is not None else ""
        sql = (
            f"SELECT s.id, s.chat_id, s.topic, s.daily, s.created, "
            f"(SELECT COUNT(*) FROM {self._t('sent')} d WHERE d.subscription_id = s.id AND d.delivered IS NOT NULL), "
            f"c.paused IS NOT NULL "
            f"FROM {self._t('subscriptions')} s LEFT JOIN {self._t('chats')} c ON c.chat_id = s.chat_id "
            f"{where} ORDER BY s.id"
        )

        def work(cur: _Cursor) -> list[Subscription]:
            cur.execute(sql, (chat_id,) if chat_id is not None else ())
            return [
                Subscription(int(r[0]), int(r[1]), r[2], bool(r[3]), float(r[4]), int(r[5]), bool(r[6]))
                for r in cur.fetchall()
            ]

        result: list[Subscription] = self._run(work)
        return result

    def active(self, chat_id: int | None = None) -> list[Subscription]:
        """The subscriptions not paused, of one chat (None: of every chat)."""
        return [s for s in self.following(chat_id) if not s.paused]

    def get(self, subscription_id: int) -> Subscription | None:
        return next((s for s in self.following() if s.id == subscription_id), None)

    def unfollow(self, chat_id: int, subscription_id: int | None = None) -> list[Subscription]:
        """Stop one subscription of the chat (None: all of them); returns those stopped."""
        mine = [s for s in self.following(chat_id) if subscription_id is None or s.id == subscription_id]

        def work(cur: _Cursor) -> None:
            for s in mine:
                cur.execute(
                    f"DELETE FROM {self._t('subscriptions')} WHERE id = ? AND chat_id = ?", (s.id, chat_id)
                )

        self._run(work)
        return mine

    # ------------------------------------------------------------------ alerts

    def claim(
        self, sub: Subscription, story: str, article_id: str, block: str, now: float | None = None
    ) -> int | None:
        """Record an alert for ``sub`` about ``story``; its id when this call recorded it,
        None when it was recorded before (by this process or another)."""
        at = time.time() if now is None else now

        def work(cur: _Cursor) -> int | None:
            cur.execute(
                f"INSERT INTO {self._t('sent')} "
                "(chat_id, topic_key, story, subscription_id, article_id, kind, block, claimed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (
                    sub.chat_id,
                    topic_key(sub.topic),
                    story,
                    sub.id,
                    article_id,
                    DAILY if sub.daily else NOW,
                    block,
                    at,
                ),
            )
            row = cur.fetchone()
            return int(row[0]) if row is not None else None

        result: int | None = self._run(work)
        return result

    def delivered(self, sent_ids: Sequence[int], now: float | None = None) -> None:
        at = time.time() if now is None else now

        def work(cur: _Cursor) -> None:
            for i in sent_ids:
                cur.execute(f"UPDATE {self._t('sent')} SET delivered = ? WHERE id = ?", (at, i))

        self._run(work)

    def sent_article(self, sent_id: int) -> tuple[int, str] | None:
        """(chat id, article id) of a recorded alert."""

        def work(cur: _Cursor) -> tuple[int, str] | None:
            cur.execute(f"SELECT chat_id, article_id FROM {self._t('sent')} WHERE id = ?", (sent_id,))
            row = cur.fetchone()
            return (int(row[0]), str(row[1])) if row is not None else None

        result: tuple[int, str] | None = self._run(work)
        return result

    def digest_chats(self) -> list[int]:
        """Chats (not paused) with digest items waiting."""

        def work(cur: _Cursor) -> list[int]:
            cur.execute(
                f"SELECT DISTINCT d.chat_id FROM {self._t('sent')} d LEFT JOIN {self._t('chats')} c "
                "ON c.chat_id = d.chat_id WHERE d.kind = ? AND d.delivered IS NULL AND c.paused IS NULL "
                "ORDER BY d.chat_id",
                (DAILY,),
            )
            return [int(r[0]) for r in cur.fetchall()]

        result: list[int] = self._run(work)
        return result

    def take_digest(self, chat_id: int, day: str, now: float | None = None) -> list[Pending]:
        """The chat's waiting digest items, once per ``day``: the first caller that day (in any
        process) gets them and they count as delivered; later callers get []."""
        at = time.time() if now is None else now

        def work(cur: _Cursor) -> list[Pending]:
            cur.execute(
                f"SELECT COUNT(*) FROM {self._t('sent')} WHERE chat_id = ? AND kind = ? AND delivered IS NULL",
                (chat_id, DAILY),
            )
            if not cur.fetchone()[0]:
                return []
            cur.execute(
                f"INSERT INTO {self._t('chats')} (chat_id) VALUES (?) ON CONFLICT DO NOTHING", (chat_id,)
            )
            cur.execute(
                f"UPDATE {self._t('chats')} SET last_digest = ? WHERE chat_id = ? "
                "AND (last_digest IS NULL OR last_digest <> ?) AND paused IS NULL",
                (day, chat_id, day),
            )
            if cur.rowcount != 1:
                return []
            cur.execute(
                f"UPDATE {self._t('sent')} SET delivered = ? WHERE chat_id = ? AND kind = ? AND delivered IS NULL "
                "RETURNING id, chat_id, subscription_id, topic_key, article_id, block",
                (at, chat_id, DAILY),
            )
            rows = sorted(cur.fetchall())
            return [Pending(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5]) for r in rows]

        result: list[Pending] = self._run(work)
        return result

    # ------------------------------------------------------------------ blocked chats

    def pause(self, chat_id: int, now: float | None = None) -> None:
        at = time.time() if now is None else now

        def work(cur: _Cursor) -> None:
            cur.execute(
                f"INSERT INTO {self._t('chats')} (chat_id) VALUES (?) ON CONFLICT DO NOTHING", (chat_id,)
            )
            cur.execute(
                f"UPDATE {self._t('chats')} SET paused = ? WHERE chat_id = ? AND paused IS NULL",
                (at, chat_id),
            )

        self._run(work)

    def unpause(self, chat_id: int) -> bool:
        """True when the chat was paused."""

        def work(cur: _Cursor) -> bool:
            cur.execute(
                f"UPDATE {self._t('chats')} SET paused = NULL WHERE chat_id = ? AND paused IS NOT NULL",
                (chat_id,),
            )
            return bool(cur.rowcount == 1)

        result: bool = self._run(work)
        return result


class _Cursor:
    """A DB-API cursor taking ``?`` placeholders for both databases."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cur = cursor
        self._postgres = postgres

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cur.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._postgres:
            sql = sql.replace("%", "%%").replace("?", "%s")
        self._cur.execute(sql, tuple(params))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def open_subscriptions(location: Location | Path | str) -> Subscriptions:
    """The subscriptions of an archive: ``INDEX/alerts.sqlite`` beside an index folder, or
    the schema ``newsbot_alerts`` of a ``postgresql://`` database."""
    where = Location.of(location)
    if where.subscriptions_file is None:
        return Subscriptions.postgresql(where)
    where.subscriptions_file.parent.mkdir(parents=True, exist_ok=True)
    return Subscriptions.sqlite(where.subscriptions_file)
