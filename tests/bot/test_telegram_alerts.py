"""Topic alerts end to end: the real PTB Application against the fake Bot API, articles
arriving by feed or in the article folder, matched after each refresh round."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.telegram import alerts as telegram_alerts
from bot.telegram.refresh import run_round
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.search.retriever import Retriever
from tests.bot.conftest import build_index, running_bot
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.tg_html import utf16_len, visible_text
from tests.conftest import SEEDS, write

A, B, C = 701, 702, 703
GROUP, MEMBER, ADMIN = -100777, 711, 712


#: words that make each festival article its own story (not a near-duplicate of the others)
HAMLETS = "Ashby Brill Corrow Dunmere Elsk Farrow Gorse Hallam Ivel Jessop Kelby Lorn".split()


def own_story(n: int, template: str) -> str:
    """Five sentences of ``template`` (with {i}, {n} and {hamlet}) that differ per article."""
    hamlet = HAMLETS[n % len(HAMLETS)]
    return " ".join(
        template.format(i=i, n=n, hamlet=f"{hamlet}{i}").rstrip(".")
        + f", while the {hamlet} road number {n * 5 + i} stayed closed for the carts and the tractors."
        for i in range(5)
    )


def festival(n: int = 0, extra: str = "") -> str:
    return (
        f"---\ntitle: Orchard festival {n}\nsource: Velmora Herald\npublished: 2023-09-30\n"
        f"url: https://example.org/velmora/{n}\n---\n"
        f"The Velmora orchard festival with the giant pumpkins opens on {14 + n} October. {extra}\n"
        "Growers from the valley bring their harvest to the market square.\n"
    )


HARBOUR = (
    "---\ntitle: Harbour works\nsource: Coastal Gazette\npublished: 2023-10-01\n---\n"
    "The harbour in Port Marlow will be dredged next spring, the port authority said.\n"
)


async def say(
    fake: FakeTelegram, text: str, chat: int, user: int | None = None, chat_type: str = "private"
) -> str:
    """Send a message; the bot's reply as users see it."""
    before = len(fake.sent(chat))
    await fake.send_text(text, chat_id=chat, user_id=user, chat_type=chat_type)
    sent = await fake.wait_sent(chat, before + 1)
    return visible_text(sent[-1].params["text"])


def buttons(call: Any) -> list[tuple[str, str]]:
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


@pytest.fixture
def folder_archive(tmp_path: Path) -> tuple[Path, Path, Archive]:
    articles, index = build_index(tmp_path, extra={})
    return articles, index, Archive.open(index, HashingEmbedder(256))


async def test_an_article_arriving_by_feed_alerts_the_chat_that_follows_it(
    fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    from tests.feed_server import Entry, FeedServer

    articles, index = build_index(tmp_path, extra={})
    archive = Archive.open(index, HashingEmbedder(256))
    with FeedServer() as server:
        feed = server.add_feed("/news.xml", title="Velmora Herald")
        listing = write(tmp_path / "feeds.txt", server.url("/news.xml") + "\n")
        settings = {"sources": (articles,), "feeds": listing, "feeds_dir": tmp_path / "state", "every": 0.3}
        async with running_bot(fake_tg, archive, **settings) as app:
            assert "Following Velmora orchard festival" in await say(
                fake_tg, "/follow Velmora orchard festival", A
            )
            assert "Following" in await say(fake_tg, "/follow Baku climate summit", B)
            await fake_tg.wait_for(lambda: app.bot_data.last_round is not None, timeout=30)
            rounds = app.bot_data.last_round
            body = "<p>The Velmora orchard festival with the giant pumpkins opens on 14 October &amp; runs a week.</p>"
            feed.add(Entry("v1", "Orchard festival", server.url("/v1"), content=body))
            (alert,) = (await fake_tg.wait_sent(A, 2, timeout=30))[1:]
            text = visible_text(alert.params["text"])
            assert text.startswith("🔔 Velmora orchard festival")
            assert "opens on 14 October & runs a week" in text and "Velmora Herald" in text
            assert "<b>Velmora orchard festival</b>" in alert.params["text"]  # the matching words bold
            labels = [label for label, _ in buttons(alert)]
            assert labels[0].startswith("📄 Full article [1]") and labels[-1].startswith("🔕 Unfollow")
            assert len(fake_tg.sent(B)) == 1 and fake_tg.sent(C) == []  # only the follower hears of it
            assert app.bot_data.last_round is not rounds

            # a press on "Full article" sends the article
            data = dict((label[:15], d) for label, d in buttons(alert))["📄 Full article "]
            await fake_tg.press(alert.result, data, A)
            (full,) = (await fake_tg.wait_sent(A, 3))[2:]
            assert "giant pumpkins" in visible_text(full.params["text"])

            # an article about something else sends nothing
            before = app.bot_data.archive.stats().articles
            feed.add(
                Entry(
                    "h1",
                    "Harbour",
                    server.url("/h1"),
                    content="<p>The harbour in Port Marlow will be dredged.</p>",
                )
            )
            await fake_tg.wait_for(lambda: app.bot_data.archive.stats().articles > before, timeout=30)
            added = app.bot_data.last_round
            # the next round ends after the hooks of the one that added the article (rounds never overlap)
            for _ in range(600):
                if app.bot_data.last_round is not added:
                    break
                await asyncio.sleep(0.05)
            assert len(fake_tg.sent(A)) == 3 and len(fake_tg.sent(B)) == 1


async def test_a_restart_keeps_subscriptions_and_sends_nothing_twice(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, index, archive = folder_archive
    async with running_bot(fake_tg, archive, sources=(articles,)) as app:
        await say(fake_tg, "/follow Velmora orchard festival", A)
        write(articles / "velmora.md", festival())
        await run_round(app)
        assert len(fake_tg.sent(A)) == 2
    # a new Application over the same index folder (and so the same alerts.sqlite)
    assert (index / "alerts.sqlite").exists()
    async with running_bot(fake_tg, Archive.open(index, HashingEmbedder(256)), sources=(articles,)) as app:
        listing = await say(fake_tg, "/following", A)
        assert "Velmora orchard festival — 1 alert" in listing
        write(articles / "velmora.md", festival(extra="Tickets are free."))  # the same article, updated
        report = await run_round(app)
        assert report is not None and report.index.updated
        assert len(fake_tg.sent(A)) == 3  # no second alert
        write(articles / "velmora2.md", festival(2))
        await run_round(app)
        sent = fake_tg.sent(A)
        assert len(sent) == 4 and "16 October" in visible_text(sent[-1].params["text"])


async def test_several_matches_are_one_message_split_under_4096_and_valid_html(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    async with running_bot(fake_tg, archive, sources=(articles,), max_alerts_per_round=10) as app:
        confirm = await say(fake_tg, "/follow Velmora <orchard> festival & pumpkins", A)
        assert "Velmora <orchard> festival & pumpkins" in confirm
        await say(fake_tg, "/follow Velmora orchard festival", B)
        for n in range(12):
            long = own_story(
                n, "At the Velmora orchard festival grower {i} from {hamlet} brought <fruit> & cider."
            )
            write(articles / f"velmora{n}.md", festival(n, extra=long))
        await run_round(app)
        sent = fake_tg.sent(B)[1:]
        assert len(sent) >= 2  # one batch, split
        for call in sent:
            text = visible_text(call.params["text"])  # raises on bad HTML
            assert utf16_len(call.params["text"]) <= 4096
            assert "<fruit> & cider" in text or "Velmora" in text
        assert [bool(buttons(c)) for c in sent] == [False] * (len(sent) - 1) + [True]
        joined = "\n".join(visible_text(c.params["text"]) for c in sent)
        assert joined.count("🔔 Velmora orchard festival") == 10  # the round's cap
        assert all(f"[{n}]" in joined for n in range(1, 11)) and "… and 2 more new articles" in joined
        assert len(buttons(sent[-1])) == telegram_alerts.MAX_BUTTONS + 1  # articles, then unfollow
        to_a = fake_tg.sent(A)[1:]
        assert to_a and all(utf16_len(c.params["text"]) <= 4096 for c in to_a)
        first = to_a[0].params["text"]
        assert visible_text(first).startswith("🔔 Velmora <orchard> festival & pumpkins")
        assert first.startswith("🔔 <b>Velmora &lt;orchard&gt; festival &amp; pumpkins</b>")


async def test_a_chat_that_blocked_the_bot_is_paused_until_it_writes_again(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    async with running_bot(fake_tg, archive, sources=(articles,)) as app:
        await say(fake_tg, "/follow Velmora orchard festival", A)
        fake_tg.fail_next("sendMessage", code=403)
        write(articles / "v1.md", festival(1))
        await run_round(app)
        blocked = [c for c in fake_tg.calls if c.method == "sendMessage" and c.status == 403]
        assert len(blocked) == 1
        subs = telegram_alerts.service_of(app).subscriptions
        assert subs.following(A)[0].paused
        write(articles / "v2.md", festival(2))
        await run_round(app)
        attempts = [c for c in fake_tg.calls if c.method == "sendMessage" and c.params["chat_id"] == A]
        assert len(attempts) == 2  # the /follow reply and the blocked alert: no retry, nothing new
        listing = await say(fake_tg, "/following", A)  # the chat writes again
        assert "paused" not in listing and not subs.following(A)[0].paused
        write(articles / "v3.md", festival(3))
        await run_round(app)
        assert "17 October" in visible_text(fake_tg.sent(A)[-1].params["text"])


async def test_in_groups_only_admins_change_what_is_followed(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    fake_tg.members[(GROUP, ADMIN)] = "administrator"
    async with running_bot(fake_tg, archive, sources=(articles,)) as app:
        refused = await say(fake_tg, "/follow Velmora orchard festival", GROUP, MEMBER, "supergroup")
        assert "Only this group's admins" in refused
        assert "Following" in await say(
            fake_tg, "/follow Velmora orchard festival", GROUP, ADMIN, "supergroup"
        )
        assert "#1" in await say(fake_tg, "/following", GROUP, MEMBER, "supergroup")  # anyone may look
        assert "Only this group's admins" in await say(fake_tg, "/unfollow all", GROUP, MEMBER, "supergroup")
        write(articles / "v1.md", festival(1))
        await run_round(app)
        alert = fake_tg.sent(GROUP)[-1]
        unfollow = next(d for label, d in buttons(alert) if label.startswith("🔕"))
        await fake_tg.press(alert.result, unfollow, MEMBER)
        (answer,) = await fake_tg.wait_called("answerCallbackQuery")
        assert "Only this group's admins" in answer.params["text"]
        assert telegram_alerts.service_of(app).subscriptions.following(GROUP)
        await fake_tg.press(alert.result, unfollow, ADMIN)
        answers = await fake_tg.wait_called("answerCallbackQuery", 2)
        assert "No longer following" in answers[-1].params["text"]
        assert telegram_alerts.service_of(app).subscriptions.following(GROUP) == []
        member_checks = fake_tg.called("getChatMember")
        assert {(c.params["chat_id"], c.params["user_id"]) for c in member_checks} == {
            (GROUP, MEMBER),
            (GROUP, ADMIN),
        }


async def test_caps_and_usage_messages(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    _, _, archive = folder_archive
    async with running_bot(fake_tg, archive, max_follows=2) as app:
        assert "Usage: /follow TOPIC" in await say(fake_tg, "/follow", A)
        assert "at most 200 characters" in await say(fake_tg, "/follow " + "long " * 50, A)
        assert "follows no topic" in await say(fake_tg, "/following", A)
        assert "#1" in await say(fake_tg, "/follow Velmora orchard festival", A)
        assert "already follows" in await say(fake_tg, "/follow velmora  ORCHARD festival", A)
        assert "Following" in await say(fake_tg, "/follow Baku conference --daily", A)
        assert "follows 2 topics, the most" in await say(fake_tg, "/follow Port Marlow harbour", A)
        listing = await say(fake_tg, "/following", A)
        assert (
            "#1 Velmora orchard festival — 0 alerts" in listing
            and "#2 Baku conference — 0 alerts · daily digest" in listing
        )
        assert "Usage: /unfollow ID" in await say(fake_tg, "/unfollow", A)
        assert "no such topic" in await say(fake_tg, "/unfollow 99", A)
        assert "No longer following Baku conference" in await say(fake_tg, "/unfollow 2", A)
        assert "No longer following Velmora" in await say(fake_tg, "/unfollow all", A)
        help_text = await say(fake_tg, "/help", A)
        assert "/follow" in help_text and "/unfollow" in help_text
        menu = fake_tg.called("setMyCommands")[0].params["commands"]
        assert {"follow", "following", "unfollow"} <= {c["command"] for c in menu}
        assert app is not None


async def test_a_daily_digest_collects_matches_and_goes_out_once_a_day(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    clock = [datetime(2023, 10, 2, 6, 0, tzinfo=UTC).timestamp()]
    async with running_bot(fake_tg, archive, sources=(articles,), digest_hour=8) as app:
        app.bot_data.clock = lambda: clock[0]
        await say(fake_tg, "/follow Velmora orchard festival --daily", A)
        for n in (1, 2):
            write(articles / f"v{n}.md", festival(n))
            await run_round(app)
        assert len(fake_tg.sent(A)) == 1  # collected, not sent
        assert await telegram_alerts.send_digests(app) == 0  # 06:00: not yet
        clock[0] += 3 * 3600
        assert await telegram_alerts.send_digests(app) == 1
        (digest,) = fake_tg.sent(A)[1:]
        text = visible_text(digest.params["text"])
        assert text.startswith("📰 Daily digest — 2 new articles")
        assert "15 October" in text and "16 October" in text and "[1]" in text and "[2]" in text
        assert len([b for b in buttons(digest) if b[0].startswith("📄")]) == 2
        write(articles / "v3.md", festival(3))
        await run_round(app)
        clock[0] += 3600
        assert await telegram_alerts.send_digests(app) == 0  # one a day
        clock[0] += 24 * 3600
        assert await telegram_alerts.send_digests(app) == 1
        assert "17 October" in visible_text(fake_tg.sent(A)[-1].params["text"])
        assert "3 alerts" in await say(fake_tg, "/following", A)


async def test_a_digest_is_one_message_even_when_long(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    async with running_bot(fake_tg, archive, sources=(articles,), digest_hour=0) as app:
        await say(fake_tg, "/follow Velmora orchard festival --daily", A)
        for n in range(12):
            long = own_story(n, "To the Velmora orchard festival grower {i} of {hamlet} came with squash.")
            write(articles / f"v{n}.md", festival(n, extra=long))
        await run_round(app)
        assert await telegram_alerts.send_digests(app) == 1
        (digest,) = fake_tg.sent(A)[1:]
        assert utf16_len(digest.params["text"]) <= 4096
        assert "more matches" in visible_text(digest.params["text"])


async def test_with_an_allow_list_only_allowed_chats_follow(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    articles, _, archive = folder_archive
    allowed = {"allowed_ids": frozenset({A, GROUP}), "sources": (articles,)}
    async with running_bot(fake_tg, archive, **allowed) as app:
        assert "answers only the people its owner has allowed" in await say(
            fake_tg, "/follow Velmora orchard festival", B
        )
        assert "Following" in await say(fake_tg, "/follow Velmora orchard festival", A)
        # the allowed user in a group that is not allowed: the guard lets A in, following is refused
        other_group = -100999
        assert "Only chats the bot's owner has allowed" in await say(
            fake_tg, "/follow Velmora orchard festival", other_group, A, "supergroup"
        )
        write(articles / "v1.md", festival(1))
        await run_round(app)
        alert = fake_tg.sent(A)[-1]
        unfollow = next(d for label, d in buttons(alert) if label.startswith("🔕"))
        await fake_tg.press(
            {**alert.result, "chat": fake_tg.chat(B)}, unfollow, B
        )  # a stranger's button press
        (answer,) = await fake_tg.wait_called("answerCallbackQuery")
        assert "this bot is private" in answer.params["text"]
        assert telegram_alerts.service_of(app).subscriptions.following(A)


@pytest.mark.postgresql
async def test_two_bot_processes_on_one_database_send_each_alert_once(
    fake_tg: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    import shutil

    from retrieval.ingest.indexer import refresh
    from retrieval.store.pg import PgStore

    src = tmp_path / "articles"
    shutil.copytree(SEEDS, src)
    embedder = HashingEmbedder(256)
    stores = [PgStore(pg_url), PgStore(pg_url)]
    refresh(stores[0], [src], embedder)
    archives = [Archive(Retriever(s, embedder)) for s in stores]
    other = await FakeTelegram().start()
    try:
        async with running_bot(fake_tg, archives[0]) as one, running_bot(other, archives[1]) as two:
            await say(fake_tg, "/follow Velmora orchard festival", A)
            await say(other, "/follow Velmora orchard festival", B)
            assert "already follows" in await say(other, "/follow Velmora orchard festival", A)
            write(src / "v1.md", festival(1))
            write(src / "v2.md", festival(2))
            report = await asyncio.to_thread(refresh, stores[0], [src], embedder)
            assert len(report.added) == 2
            from retrieval.live.updates import UpdateReport

            now = datetime.now(UTC)
            round_ = UpdateReport(None, report, now, now)
            await asyncio.gather(
                telegram_alerts.after_round(one, round_, archives[0]),
                telegram_alerts.after_round(two, round_, archives[1]),
            )
            alerts = [c for f in (fake_tg, other) for c in f.sent() if "🔔" in c.params["text"]]
            per_chat = {
                chat: sum(
                    visible_text(c.params["text"]).count("🔔") for c in alerts if c.params["chat_id"] == chat
                )
                for chat in (A, B)
            }
            assert per_chat == {A: 2, B: 2}  # each alert once, from one process or the other
            assert "2 alerts" in await say(other, "/following", A)
    finally:
        await other.close()
        for s in stores:
            s.close()


def test_the_console_follows_and_prints_alerts_between_prompts(
    folder_archive: tuple[Path, Path, Archive],
) -> None:
    import io

    from rich.console import Console

    from bot.console import Repl
    from retrieval.ingest.indexer import refresh
    from retrieval.live.updates import UpdateReport

    articles, index, archive = folder_archive
    rounds: list[tuple[UpdateReport, Archive]] = []

    class Refresher:
        def take(self) -> tuple[list[UpdateReport], Archive | None, list[str]]:
            ready = list(rounds)
            rounds.clear()
            return [r for r, _ in ready], (ready[-1][1] if ready else None), []

    out = io.StringIO()
    repl = Repl(archive, stdin=io.StringIO(), out=Console(file=out, width=200), refresher=Refresher())  # type: ignore[arg-type]
    repl.handle("/follow Velmora orchard festival")
    repl.handle("/follow Velmora orchard festival --daily")
    repl.handle("/follow")
    assert "Following Velmora orchard festival (#1)" in out.getvalue()
    assert (
        "Daily digests are for the Telegram bot" in out.getvalue()
        and "Usage: /follow TOPIC" in out.getvalue()
    )
    write(articles / "v1.md", festival(1))
    write(articles / "harbour.md", HARBOUR)
    report = refresh(index, [articles], HashingEmbedder(256))
    now = datetime.now(UTC)
    rounds.append((UpdateReport(None, report, now, now), Archive.open(index, HashingEmbedder(256))))
    repl.handle("")
    shown = out.getvalue()
    assert shown.count("🔔 Velmora orchard festival") == 1 and "opens on 15 October" in shown
    assert "Velmora Herald" in shown and "dredged" not in shown
    repl.handle("/following")
    assert "#1 Velmora orchard festival — 1 alert\n" in out.getvalue()
    repl.handle("/unfollow all")
    assert "No longer following Velmora orchard festival" in out.getvalue()
    repl.handle("/help")
    assert "/follow TOPIC" in out.getvalue()


async def test_alerts_are_off_when_their_tables_cannot_be_opened_and_the_bot_still_answers(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, archive = folder_archive

    def read_only(location: object) -> None:
        raise PermissionError(f"read-only: {location}")

    monkeypatch.setattr(telegram_alerts, "open_subscriptions", read_only)
    async with running_bot(fake_tg, archive):
        assert "Topic alerts are turned off" in await say(fake_tg, "/follow Velmora orchard festival", A)
        assert "Topic alerts are turned off" in await say(fake_tg, "/following", A)
        assert "Baku" in await say(fake_tg, "Where was the Afghanistan conference held?", A)
    async with running_bot(fake_tg, archive, max_follows=0):
        assert "Topic alerts are turned off" in await say(fake_tg, "/follow Velmora orchard festival", B)


def test_console_follows_are_kept_with_the_archive(folder_archive: tuple[Path, Path, Archive]) -> None:
    """A topic followed in one console session is still followed in the next."""
    import io

    from rich.console import Console

    from bot.console import Repl

    _, index, archive = folder_archive
    first = io.StringIO()
    Repl(archive, stdin=io.StringIO(), out=Console(file=first, width=200)).handle(
        "/follow Velmora orchard festival"
    )
    assert "Following Velmora orchard festival (#1)" in first.getvalue()
    assert (index / "alerts.sqlite").exists()
    later = io.StringIO()
    again = Repl(
        Archive.open(index, HashingEmbedder(256)), stdin=io.StringIO(), out=Console(file=later, width=200)
    )
    again.handle("/following")
    assert "#1 Velmora orchard festival" in later.getvalue()


def test_console_follows_last_the_session_when_they_cannot_be_kept(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from bot.console_alerts import ConsoleAlerts

    not_a_folder = write(tmp_path / "index", "a file where the index folder should be")
    out = io.StringIO()
    alerts = ConsoleAlerts(Console(file=out, width=200), refreshing=False, location=not_a_folder)
    alerts.follow("Velmora orchard festival")
    shown = " ".join(out.getvalue().split())
    assert (
        "Follows last for this session only" in shown and "Following Velmora orchard festival (#1)" in shown
    )


def test_the_console_alerts_only_its_own_follows_of_a_shared_archive(
    folder_archive: tuple[Path, Path, Archive],
) -> None:
    """A Telegram chat's follow in the same subscriptions is the bot's to alert: the console
    neither prints it nor claims its alert."""
    import io

    from rich.console import Console

    from bot.console_alerts import ConsoleAlerts
    from retrieval.ingest.indexer import refresh
    from retrieval.live.subscriptions import open_subscriptions
    from retrieval.live.updates import UpdateReport

    articles, index, _ = folder_archive
    shared = open_subscriptions(index)
    bot_sub = shared.follow(555, "Velmora orchard festival")
    out = io.StringIO()
    console = ConsoleAlerts(Console(file=out, width=200), refreshing=True, location=index)
    console.follow("Port Marlow harbour storm")
    write(articles / "v1.md", festival(1))
    report = refresh(index, [articles], HashingEmbedder(256))
    now = datetime.now(UTC)
    console.after_round(UpdateReport(None, report, now, now), Archive.open(index, HashingEmbedder(256)))
    assert "Following Port Marlow harbour storm" in out.getvalue() and "🔔" not in out.getvalue()
    # the bot's chat can still be alerted for the same article
    fresh = open_subscriptions(index)
    theirs = fresh.get(bot_sub.id)
    assert theirs is not None and theirs.chat_id == 555 and theirs.alerts == 0
    assert fresh.claim(theirs, "story", report.added[0], "") is not None


async def test_the_bot_leaves_the_consoles_follows_to_the_console(
    fake_tg: FakeTelegram, folder_archive: tuple[Path, Path, Archive]
) -> None:
    from retrieval.live.subscriptions import CONSOLE_CHAT, open_subscriptions

    articles, index, archive = folder_archive
    console_sub = open_subscriptions(index).follow(CONSOLE_CHAT, "Velmora orchard festival")
    async with running_bot(fake_tg, archive, sources=(articles,)) as app:
        await say(fake_tg, "/follow Velmora orchard festival", A)
        write(articles / "velmora.md", festival())
        await run_round(app)
        assert len(fake_tg.sent(A)) == 2
    assert fake_tg.sent(CONSOLE_CHAT) == []
    kept = open_subscriptions(index).get(console_sub.id)
    assert kept is not None and kept.alerts == 0  # still the console's to print
