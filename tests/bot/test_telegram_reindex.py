"""/reindex: admins only; the new index is swapped in while the bot keeps running."""

from __future__ import annotations

from pathlib import Path

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from tests.bot.conftest import build_index, running_bot
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.tg_html import visible_text
from tests.conftest import write

ADMIN, USER = 501, 502
QUESTION = "When is the Velmora orchard festival with the giant pumpkins?"


async def test_reindex_swaps_in_the_new_index(fake_tg: FakeTelegram, tmp_path: Path) -> None:
    articles, index = build_index(tmp_path, extra={})
    archive = Archive.open(index, HashingEmbedder(256))
    async with running_bot(fake_tg, archive, admin_ids=frozenset({ADMIN}), sources=(articles,)) as app:
        await fake_tg.send_text(QUESTION, chat_id=USER)
        (before,) = await fake_tg.wait_sent(USER)
        assert "Velmora Herald" not in visible_text(before.params["text"])

        await fake_tg.send_text("/reindex", chat_id=USER)
        refused = (await fake_tg.wait_sent(USER, 2))[1]
        assert "Only the bot's admins" in visible_text(refused.params["text"])

        write(
            articles / "velmora.md",
            "---\ntitle: Orchard festival\nsource: Velmora Herald\npublished: 2023-09-30\n---\n"
            "The Velmora orchard festival with the giant pumpkins opens on 14 October.\n",
        )
        await fake_tg.send_text("/reindex", chat_id=ADMIN)
        (status,) = await fake_tg.wait_sent(ADMIN)
        assert "Reindexing in the background" in visible_text(status.params["text"])
        (edit,) = await fake_tg.wait_for(lambda: fake_tg.called("editMessageText", ADMIN), timeout=30)
        assert edit.params["message_id"] == status.result["message_id"]
        done = visible_text(edit.params["text"])
        assert done.startswith("Index refreshed") and "1 added" in done
        assert app.bot_data.archive is not archive  # swapped, not mutated
        assert archive.stats().articles + 1 == app.bot_data.archive.stats().articles

        await fake_tg.send_text(QUESTION, chat_id=USER)
        after = (await fake_tg.wait_sent(USER, 3))[2]
        text = visible_text(after.params["text"])
        assert "Velmora Herald" in text and "14 October" in text


async def test_reindex_failure_keeps_the_old_index(fake_tg: FakeTelegram, tmp_path: Path) -> None:
    _, index = build_index(tmp_path, extra={})
    archive = Archive.open(index, HashingEmbedder(256))
    gone = tmp_path / "gone"
    async with running_bot(fake_tg, archive, admin_ids=frozenset({ADMIN}), sources=(gone,)) as app:
        await fake_tg.send_text("/reindex", chat_id=ADMIN)
        (edit,) = await fake_tg.wait_for(lambda: fake_tg.called("editMessageText", ADMIN), timeout=30)
        assert "Reindexing failed" in visible_text(edit.params["text"])
        assert "not found" in visible_text(edit.params["text"])
        assert app.bot_data.archive is archive
        await fake_tg.send_text("Where was the conference on Afghanistan held?", chat_id=ADMIN)
        answer = (await fake_tg.wait_sent(ADMIN, 2))[1]
        assert "RASC News Agency" in visible_text(answer.params["text"])


async def test_the_bot_answers_about_an_article_that_arrived_by_feed_while_it_ran(
    fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    from tests.feed_server import Entry, FeedServer

    articles, index = build_index(tmp_path, extra={})
    archive = Archive.open(index, HashingEmbedder(256))
    with FeedServer() as server:
        feed = server.add_feed("/news.xml", title="Velmora Herald")
        listing = write(tmp_path / "feeds.txt", server.url("/news.xml") + "\n")
        settings = {"sources": (articles,), "feeds": listing, "feeds_dir": tmp_path / "state", "every": 0.3}
        async with running_bot(fake_tg, archive, admin_ids=frozenset({ADMIN}), **settings) as app:
            await fake_tg.wait_for(lambda: app.bot_data.last_round is not None, timeout=30)
            body = "".join(
                f"<p>The Velmora orchard festival with the giant pumpkins opens on 14 October, part {i}.</p>"
                for i in range(6)
            )
            feed.add(Entry("v1", "Orchard festival", server.url("/v1"), content=body))
            await fake_tg.wait_for(lambda: app.bot_data.archive.stats().articles > 1, timeout=30)
            await fake_tg.send_text(QUESTION, chat_id=USER)
            (answer,) = await fake_tg.wait_sent(USER)
            text = visible_text(answer.params["text"])
            assert "Velmora Herald" in text and "14 October" in text
            await fake_tg.send_text("/stats", chat_id=USER)
            stats = visible_text((await fake_tg.wait_sent(USER, 2))[1].params["text"])
            assert "Last refresh:" in stats and "feeds: " in stats
