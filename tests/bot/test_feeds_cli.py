"""Feeds through the command line: `index --feeds` (one round), `watch`, and what they report."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import write
from tests.feed_server import Entry, FeedServer

MODEL = "hashing-256"


pytestmark = pytest.mark.usefixtures("connections")


def story(topic: str) -> str:
    return "".join(f"<p>Sentence {i} about the {topic}: the council voted on Tuesday.</p>" for i in range(8))


def feeds_file(tmp_path: Path, *urls: str) -> Path:
    return write(tmp_path / "feeds.txt", "# test feeds\n" + "\n".join(urls) + "\nnot-a-url\n")


def invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])  # stderr may carry log lines


def test_index_feeds_indexes_new_entries_reports_bad_feeds_and_asks_conditionally(
    server: FeedServer, tmp_path: Path
) -> None:
    feed = server.add_feed("/news.xml", title="Harbour Gazette")
    feed.add(Entry("g1", "Bridge vote", server.url("/a1"), content=story("bridge over the harbour")))
    server.add_raw("/broken.xml", b"oops", "text/html", status=500)
    listing = feeds_file(tmp_path, server.url("/news.xml"), server.url("/broken.xml"))
    index = tmp_path / "index"
    first = invoke("index", "--feeds", str(listing), "--index", str(index), "--model", MODEL)
    assert first["index"]["added"] and first["feeds"]["totals"]["fetched"] == 1
    by_url = {f["url"]: f for f in first["feeds"]["feeds"]}
    assert by_url[server.url("/broken.xml")]["status"] == "failed"
    assert "500" in by_url[server.url("/broken.xml")]["reason"]
    assert first["feeds"]["bad_lines"][0]["where"].endswith(":4")
    assert (index / "feeds" / "articles").is_dir()  # kept beside the index: re-indexing needs no network

    answer = invoke("ask", "bridge over the harbour", "--index", str(index))
    assert answer["quotes"] and answer["quotes"][0]["source"] == "Harbour Gazette"

    again = invoke("index", "--feeds", str(listing), "--index", str(index), "--model", MODEL)
    assert again["feeds"]["totals"]["not_modified"] == 1 and not again["index"]["added"]
    assert server.not_modified["/news.xml"] == 1


def test_the_index_summary_names_each_bad_feed(server: FeedServer, tmp_path: Path) -> None:
    feed = server.add_feed("/news.xml")
    feed.add(Entry("g1", "Dam opens", server.url("/a1"), content=story("new dam")))
    listing = feeds_file(tmp_path, server.url("/news.xml"), server.url("/missing.xml"))
    result = CliRunner().invoke(
        main, ["index", "--feeds", str(listing), "--index", str(tmp_path / "i"), "--model", MODEL]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"feed {server.url('/missing.xml')}: failed" in out
    assert "feeds.txt:4: " in out  # the bad line, by number
    assert "feeds: 1 fetched, 0 not modified, 1 failed, 0 paused" in out


def test_watch_picks_up_entries_that_arrive_between_rounds(server: FeedServer, tmp_path: Path) -> None:
    feed = server.add_feed("/news.xml")
    feed.add(Entry("g1", "Dam opens", server.url("/a1"), content=story("new dam")))
    listing = feeds_file(tmp_path, server.url("/news.xml"))

    def publish_later() -> None:  # a second entry once the first round has asked
        while server.requests["/news.xml"] < 1:
            time.sleep(0.05)
        time.sleep(0.5)
        feed.add(
            Entry(
                "g2",
                "Tunnel opens",
                server.url("/a2"),
                content=story("tunnel under the river"),
                published=datetime(2024, 6, 2, tzinfo=UTC),
            )
        )

    threading.Thread(target=publish_later, daemon=True).start()
    index = tmp_path / "index"
    result = CliRunner().invoke(
        main,
        [
            "watch",
            "--feeds",
            str(listing),
            "--index",
            str(index),
            "--model",
            MODEL,
            "--every",
            "2s",
            "--rounds",
            "2",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rounds = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rounds) == 2
    assert len(rounds[0]["index"]["added"]) == 1 and len(rounds[1]["index"]["added"]) == 1, rounds
    answer = invoke("ask", "tunnel under the river", "--index", str(index))
    assert "tunnel" in answer["quotes"][0]["text"]


def test_watch_needs_something_to_watch_and_a_unit_for_every(tmp_path: Path) -> None:
    nothing = CliRunner().invoke(main, ["watch", "--index", str(tmp_path / "i")])
    assert nothing.exit_code == 2 and "nothing to watch" in nothing.output
    listing = write(tmp_path / "feeds.txt", "http://127.0.0.1:9/feed.xml\n")
    bad = CliRunner().invoke(main, ["watch", "--feeds", str(listing), "--every", "15"])
    assert bad.exit_code == 2 and "with a unit" in bad.output


def test_an_entry_whose_page_cannot_be_had_is_indexed_as_its_summary_and_marked(
    server: FeedServer, tmp_path: Path
) -> None:
    feed = server.add_feed("/news.xml", title="Harbour Gazette")
    feed.add(Entry("g1", "Dam opens", server.url("/gone"), summary="The new dam opened on Monday."))
    listing = feeds_file(tmp_path, server.url("/news.xml"))
    index = tmp_path / "index"
    invoke("index", "--feeds", str(listing), "--index", str(index), "--model", MODEL)
    answer = invoke("ask", "When did the new dam open?", "--index", str(index))
    first = answer["quotes"][0]
    assert first["text"] == "The new dam opened on Monday." and first["note"].startswith("summary only (")
    shown = CliRunner().invoke(main, ["ask", "When did the new dam open?", "--index", str(index)]).output
    assert "(summary only (" in " ".join(shown.split())


@pytest.mark.parametrize("kind", ["folder", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_an_archive_fed_by_a_folder_and_a_feeds_file_in_turns_keeps_both(
    kind: str, server: FeedServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    feed = server.add_feed("/news.xml", title="Harbour Gazette")
    for n in range(2):
        feed.add(Entry(f"f{n}", f"Feed story {n}", server.url(f"/f{n}"), content=story(f"ferry {n}")))
    listing = feeds_file(tmp_path, server.url("/news.xml"))
    folder = tmp_path / "art"
    for n in range(3):
        write(
            folder / f"a{n}.json", json.dumps({"id": f"a{n}", "title": f"A{n}", "text": story(f"tram {n}")})
        )
    store = (
        ["--store", request.getfixturevalue("pg_url")]
        if kind == "postgresql"
        else ["--index", str(tmp_path / "i")]
    )
    common = [*store, "--model", MODEL, "--feeds-dir", str(tmp_path / "feeds")]

    assert invoke("index", "--articles", str(folder), *common)["articles"] == 3
    fed = invoke("index", "--feeds", str(listing), *common)["index"]
    assert (fed["articles"], len(fed["added"]), fed["removed"], fed["other_sources_articles"]) == (
        5,
        2,
        [],
        3,
    )
    again = invoke("index", "--articles", str(folder), *common)
    assert (again["articles"], again["removed"], again["other_sources_articles"]) == (5, [], 2)

    listed = invoke("sources", *store)
    entries = str((tmp_path / "feeds" / "articles").resolve())
    assert [(s["path"], s.get("feeds"), s["articles"]) for s in listed["sources"]] == [
        (str(folder.resolve()), None, 3),
        (entries, str(listing.resolve()), 2),
    ]
    # removing a source is explicit, and said
    result = CliRunner().invoke(main, ["index", "--forget-source", entries, *common])
    assert result.exit_code == 0, result.output
    assert f"forgot source {entries}: 2 articles removed" in " ".join(result.output.split())
    assert [s["path"] for s in invoke("sources", *store)["sources"]] == [str(folder.resolve())]
    unknown = CliRunner().invoke(main, ["index", "--forget-source", str(tmp_path / "nope"), *common])
    assert unknown.exit_code == 1 and "is not a source of" in unknown.output


def test_refused_entry_links_are_one_line_per_problem_with_the_feed_the_entry_and_the_link(
    tmp_path: Path,
) -> None:
    import socket

    import httpx

    from bot.summaries import feed_problems
    from retrieval.ingest.feeds import poll_feeds
    from retrieval.ingest.indexer import IndexReport
    from retrieval.live.updates import UpdateReport

    links = [f"http://gone.example/{n}" for n in range(3)] + ["javascript:alert(1)"] * 2
    links += ["http://0.0.0.0/admin"]
    items = "".join(
        f"<item><guid>g{n}</guid><title>Story {n}</title><link>{link}</link><description>Short.</description></item>"
        for n, link in enumerate(links)
    )
    body = f"<rss version='2.0'><channel><title>Tips</title>{items}</channel></rss>".encode()

    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        if host == "gone.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    poll = poll_feeds(
        ["https://tips.example/feed"],
        tmp_path,
        client_factory=lambda: httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
        ),
        resolve=resolve,
        now=datetime(2024, 6, 1, tzinfo=UTC),
    )
    now = datetime.now(UTC)
    lines = [
        f"feed {where}: {reason}"
        for where, reason in feed_problems(UpdateReport(poll, IndexReport("i", "m"), now, now))
    ]
    assert lines == [
        "feed https://tips.example/feed: entry 'Story 0' links to http://gone.example/0: "
        "cannot resolve gone.example: Name or service not known (and 2 more entries)",
        "feed https://tips.example/feed: entry 'Story 3' links to javascript:alert(1): "
        "refused: only http and https URLs are fetched, not 'javascript' (and 1 more entry)",
        "feed https://tips.example/feed: entry 'Story 5' links to http://0.0.0.0/admin: "
        "refused: 0.0.0.0 is an unspecified address; only public hosts are fetched from a feed's links",
    ]


def test_watch_tries_a_failed_round_again_sooner_backing_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    import bot.cli

    def down(*args: object, **kwargs: object) -> None:
        raise click.ClickException("cannot reach a writable (primary) PostgreSQL database")

    monkeypatch.setattr(bot.cli, "run_update", down)
    monkeypatch.setattr(bot.cli, "RETRY_FIRST", 0.05)
    folder = tmp_path / "art"
    folder.mkdir()
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["watch", "-a", str(folder), "--index", str(tmp_path / "i"), "--every", "1h", "--rounds", "3"]
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 10  # not an hour
    out = " ".join(result.output.split())
    for wait in ("0.05", "0.1", "0.2"):
        assert (
            f"round failed: cannot reach a writable (primary) PostgreSQL database (next try in {wait} s)"
            in out
        )
