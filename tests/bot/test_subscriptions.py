"""Followed topics and the record of sent alerts (bot.subscriptions), in SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.subscriptions import MAX_TOPIC_CHARS, FollowError, Subscriptions, clean_topic, open_subscriptions


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
