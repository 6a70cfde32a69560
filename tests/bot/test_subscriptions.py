"""Followed topics and the record of sent alerts (retrieval.live.subscriptions), in SQLite and PostgreSQL,
and their schema version."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.errors import IndexMismatchError
from retrieval.live import subscriptions_schema as schema
from retrieval.live.subscriptions import (
    MAX_TOPIC_CHARS,
    FollowError,
    Subscriptions,
    clean_topic,
    open_subscriptions,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def subs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subscriptions]:
    if request.param == "sqlite":
        made = open_subscriptions(tmp_path / "index")
    else:
        made = open_subscriptions(request.getfixturevalue("pg_url"))
    try:
        yield made
    finally:
        made.close()


def test_follow_list_and_unfollow(subs: Subscriptions) -> None:
    a = subs.follow(1, "  Serena   Williams comeback ")
    b = subs.follow(1, "Fed interest rates", daily=True)
    subs.follow(2, "Serena Williams comeback")
    assert a.topic == "Serena Williams comeback" and not a.daily and b.daily
    assert [s.topic for s in subs.following(1)] == ["Serena Williams comeback", "Fed interest rates"]
    with pytest.raises(FollowError, match="already follows"):
        subs.follow(1, "serena williams COMEBACK")
    assert [s.id for s in subs.unfollow(1, b.id)] == [b.id]
    assert subs.unfollow(1, b.id) == []
    assert subs.unfollow(2, a.id) == []  # not that chat's
    assert [s.id for s in subs.following(1)] == [a.id]
    assert len(subs.unfollow(2)) == 1 and subs.following(2) == []


def test_a_cap_per_chat(subs: Subscriptions) -> None:
    for n in range(3):
        subs.follow(5, f"topic number {n}", cap=3)
    with pytest.raises(FollowError, match="follows 3 topics, the most"):
        subs.follow(5, "one more", cap=3)
    subs.follow(6, "one more", cap=3)  # other chats are not affected


def test_topics_are_checked() -> None:
    with pytest.raises(FollowError, match="empty"):
        clean_topic("   ")
    with pytest.raises(FollowError, match=f"at most {MAX_TOPIC_CHARS}"):
        clean_topic("word " * 60)
    with pytest.raises(FollowError, match="no word to look for"):
        clean_topic("the of and ???")
    assert clean_topic("Baku\x07 conference") == "Baku conference"


def test_an_alert_is_claimed_once_and_counted_when_delivered(subs: Subscriptions) -> None:
    sub = subs.follow(1, "Baku conference")
    first = subs.claim(sub, "story-1", "art-1", "<b>x</b>")
    assert first is not None
    assert subs.claim(sub, "story-1", "art-1", "<b>x</b>") is None
    again = Subscriptions(subs._connect, postgres=subs.postgres, location=subs.location)  # another process
    try:
        assert again.claim(sub, "story-1", "art-2", "") is None
    finally:
        again.close()
    assert subs.following(1)[0].alerts == 0
    subs.delivered([first])
    assert subs.following(1)[0].alerts == 1
    assert subs.sent_article(first) == (1, "art-1")


def test_a_digest_is_taken_once_a_day(subs: Subscriptions) -> None:
    sub = subs.follow(3, "Baku conference", daily=True)
    now = subs.follow(3, "Fed interest rates")
    subs.claim(sub, "s1", "a1", "one")
    subs.claim(sub, "s2", "a2", "two")
    subs.claim(now, "s3", "a3", "not a digest item")
    assert subs.digest_chats() == [3]
    items = subs.take_digest(3, "2024-03-01")
    assert [p.block for p in items] == ["one", "two"] and {p.article_id for p in items} == {"a1", "a2"}
    assert subs.take_digest(3, "2024-03-01") == []
    subs.claim(sub, "s4", "a4", "three")
    assert subs.take_digest(3, "2024-03-01") == []  # one digest a day
    assert [p.block for p in subs.take_digest(3, "2024-03-02")] == ["three"]
    assert subs.following(3)[0].alerts == 3


def test_a_paused_chat_is_left_out_until_unpaused(subs: Subscriptions) -> None:
    subs.follow(7, "Baku conference", daily=True)
    subs.follow(8, "Baku conference")
    subs.pause(7)
    assert [s.chat_id for s in subs.active()] == [8]
    assert subs.following(7)[0].paused
    assert subs.unpause(7) is True and subs.unpause(7) is False
    assert {s.chat_id for s in subs.active()} == {7, 8}


def test_subscriptions_survive_reopening(tmp_path: Path) -> None:
    first = open_subscriptions(tmp_path / "index")
    sub = first.follow(1, "Baku conference")
    first.claim(sub, "s", "a", "")
    first.close()
    assert (tmp_path / "index" / "alerts.sqlite").exists()
    second = open_subscriptions(tmp_path / "index")
    assert [s.topic for s in second.following(1)] == ["Baku conference"]
    assert second.claim(sub, "s", "a", "") is None
    second.close()


# --------------------------------------------------------------------------- schema version

#: the tables as newsbot created them before the subscriptions had a schema version
OLD_LAYOUT = """
CREATE TABLE {p}subscriptions (
    id {serial}, chat_id BIGINT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL,
    daily BOOLEAN NOT NULL DEFAULT FALSE, created DOUBLE PRECISION NOT NULL, UNIQUE (chat_id, topic_key)
);
CREATE TABLE {p}sent (
    id {serial}, chat_id BIGINT NOT NULL, topic_key TEXT NOT NULL, story TEXT NOT NULL,
    subscription_id BIGINT NOT NULL, article_id TEXT NOT NULL, kind TEXT NOT NULL,
    block TEXT NOT NULL DEFAULT '', claimed DOUBLE PRECISION NOT NULL, delivered DOUBLE PRECISION,
    UNIQUE (chat_id, topic_key, story)
);
CREATE INDEX {i}sent_pending ON {p}sent (chat_id, kind) WHERE delivered IS NULL;
CREATE INDEX {i}sent_subscription ON {p}sent (subscription_id);
CREATE TABLE {p}chats (chat_id BIGINT PRIMARY KEY, paused DOUBLE PRECISION, last_digest TEXT);
INSERT INTO {p}subscriptions (chat_id, topic, topic_key, daily, created)
    VALUES (4, 'Baku conference', 'baku conference', TRUE, 1700000000);
INSERT INTO {p}sent (chat_id, topic_key, story, subscription_id, article_id, kind, block, claimed, delivered)
    VALUES (4, 'baku conference', 'story-1', 1, 'art-1', 'daily', 'one', 1700000001, 1700000002);
INSERT INTO {p}chats (chat_id, paused, last_digest) VALUES (4, NULL, '2023-11-14');
"""


def old_statements(postgres: bool) -> list[str]:
    p = f"{schema.PG_SCHEMA}." if postgres else ""
    serial = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    ddl = OLD_LAYOUT.format(p=p, i="", serial=serial)
    return [s for s in ddl.split(";") if s.strip()]


def upgraded_in_place(subs: Subscriptions) -> None:
    [kept] = subs.following(4)
    assert (kept.topic, kept.daily, kept.alerts) == ("Baku conference", True, 1)
    assert subs.claim(kept, "story-1", "art-1", "") is None  # the old record still counts
    assert subs.take_digest(4, "2023-11-14") == []
    assert subs.follow(4, "Fed interest rates").id == kept.id + 1

    def version(cur: Any) -> int:
        return schema.version_of(cur, postgres=subs.postgres)

    assert subs._run(version) == schema.SCHEMA_VERSION


def test_an_unversioned_sqlite_file_is_upgraded_in_place(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    old = sqlite3.connect(tmp_path / "index" / "alerts.sqlite")
    for statement in old_statements(postgres=False):
        old.execute(statement)
    old.commit()
    old.close()
    subs = open_subscriptions(tmp_path / "index")
    try:
        upgraded_in_place(subs)
    finally:
        subs.close()
    again = open_subscriptions(tmp_path / "index")  # migrating twice changes nothing
    assert [s.topic for s in again.following(4)] == ["Baku conference", "Fed interest rates"]
    again.close()


@pytest.mark.postgresql
def test_an_unversioned_postgresql_schema_is_upgraded_in_place(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema.PG_SCHEMA}")
        for statement in old_statements(postgres=True):
            conn.execute(statement)
    subs = open_subscriptions(pg_url)
    try:
        upgraded_in_place(subs)
    finally:
        subs.close()


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    open_subscriptions(tmp_path).close()
    newer = sqlite3.connect(tmp_path / "alerts.sqlite")
    newer.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION + 1),))
    newer.commit()
    newer.close()
    with pytest.raises(IndexMismatchError, match=f"schema version {schema.SCHEMA_VERSION + 1}"):
        open_subscriptions(tmp_path)
