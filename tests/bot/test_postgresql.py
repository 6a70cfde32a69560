"""The interfaces over PostgreSQL (a real server): CLI with --store / NEWSBOT_DATABASE_URL, the bot."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import main
from bot.telegram.app import ARCHIVE_DOWN
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.store.pg import PgStore
from tests.bot.conftest import running_bot
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.test_telegram_cli import _newsbot
from tests.bot.tg_html import visible_text
from tests.conftest import SEEDS, write
from tests.pg_server import PgServer

MODEL = "hashing-64"
QUESTION = "Where was the Afghanistan security conference held?"

pytestmark = pytest.mark.postgresql


def test_index_and_ask_with_store_flag_and_environment(pg_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["index", "-a", str(SEEDS), "--store", pg_url, "--model", MODEL, "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["wrote"] and report["passages"] == report["embedded"] > 0
    assert report["index"].startswith("postgresql://")
    again = runner.invoke(main, ["index", "-a", str(SEEDS)], env={"NEWSBOT_DATABASE_URL": pg_url})
    assert again.exit_code == 0 and "index already up to date" in again.output
    asked = runner.invoke(main, ["ask", QUESTION, "--json"], env={"NEWSBOT_DATABASE_URL": pg_url})
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.output)
    assert answer["quotes"] and "Baku" in " ".join(q["text"] for q in answer["quotes"])
    stats = runner.invoke(main, ["console", "--store", pg_url], input="/stats\n")
    assert stats.exit_code == 0 and "pgvector-hnsw" in stats.output


def test_store_must_be_a_database_url(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ask", "hello", "--store", str(tmp_path)])
    assert result.exit_code == 2 and "postgresql:// URL" in result.output


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://newsbot:s3cret@/news?host={tmp_path}"  # no server listens there
    result = CliRunner().invoke(main, ["ask", "hello", "--store", url])
    assert result.exit_code == 1
    assert (
        "cannot reach the PostgreSQL database" in result.output and "is the server running" in result.output
    )
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_an_empty_database_says_how_to_index(pg_url: str) -> None:
    result = CliRunner().invoke(main, ["ask", "hello", "--store", pg_url])
    assert result.exit_code == 1 and "newsbot index --store" in result.output


@pytest.fixture
def own_archive(pg_server: PgServer) -> Iterator[tuple[PgServer, Archive]]:
    """The seeds on a server of their own (to be stopped and started), quick to give up."""
    server = PgServer().start()
    try:
        url = server.create_database()
        embedder = HashingEmbedder(256)
        store = PgStore(url, retries=1, retry_wait=0.1)
        refresh(store, [SEEDS], embedder)
        yield server, Archive(Retriever(store, embedder))
        store.close()
    finally:
        server.remove()


async def test_the_bot_stays_up_while_the_database_is_away(
    fake_tg: FakeTelegram, own_archive: tuple[PgServer, Archive]
) -> None:
    server, archive = own_archive
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text(QUESTION, chat_id=21)
        sent = await fake_tg.wait_sent(21)
        assert "Baku" in sent[-1].params["text"]
        server.stop()
        await fake_tg.send_text(QUESTION, chat_id=21)
        sent = await fake_tg.wait_sent(21, len(sent) + 1)
        assert sent[-1].params["text"] == ARCHIVE_DOWN
        server.start()
        await fake_tg.send_text(QUESTION, chat_id=21)
        sent = await fake_tg.wait_sent(21, len(sent) + 1)
        assert "Baku" in sent[-1].params["text"]


def test_a_malformed_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["ask", "hello", "--store", "postgresql://x?nonsense_option=1"])
    assert result.exit_code == 1 and "invalid database URL" in result.output
    assert "Traceback" not in result.output


def test_telegram_without_an_index_in_the_database_fails_before_any_network(pg_url: str) -> None:
    result = CliRunner().invoke(
        main, ["telegram", "--store", pg_url], env={config.ENV_TELEGRAM_TOKEN: "123456789:" + "A" * 35}
    )
    assert result.exit_code == 1 and "no index in postgresql://" in result.output


async def test_a_running_bot_process_answers_from_updates_made_elsewhere(
    fake_tg: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    src = tmp_path / "articles"
    shutil.copytree(SEEDS, src)
    runner = CliRunner()
    assert runner.invoke(main, ["index", "-a", str(src), "--store", pg_url, "--model", MODEL]).exit_code == 0
    proc = await _newsbot("--store", pg_url, token=fake_tg.token, api_url=fake_tg.base_url, cwd=tmp_path)
    try:
        await fake_tg.wait_for(lambda: fake_tg.called("setMyCommands"), timeout=60)
        question = "When did the maritime museum in Port Marlow open?"
        await fake_tg.send_text(question, chat_id=31)
        sent = await fake_tg.wait_sent(31, timeout=30)
        assert "Port Marlow" not in visible_text(sent[-1].params["text"])
        write(src / "museum.md", "---\nsource: Coastal Gazette\n---\n" + MUSEUM)
        assert runner.invoke(main, ["index", "-a", str(src), "--store", pg_url]).exit_code == 0
        await fake_tg.send_text(question, chat_id=31)
        sent = await fake_tg.wait_sent(31, len(sent) + 1, timeout=30)
        assert "maritime museum in Port Marlow opened on Sunday" in visible_text(sent[-1].params["text"])
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)


MUSEUM = "The new maritime museum in Port Marlow opened on Sunday, the mayor said.\n"


async def test_reindex_updates_the_database_in_place(
    fake_tg: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    src = tmp_path / "articles"
    shutil.copytree(SEEDS, src)
    embedder = HashingEmbedder(256)
    store = PgStore(pg_url)
    refresh(store, [src], embedder)
    archive = Archive(Retriever(store, embedder))
    admin = 601
    async with running_bot(fake_tg, archive, admin_ids=frozenset({admin}), sources=(src,)) as app:
        write(src / "museum.md", "---\nsource: Coastal Gazette\n---\n" + MUSEUM)
        await fake_tg.send_text("/reindex", chat_id=admin)
        (edit,) = await fake_tg.wait_for(lambda: fake_tg.called("editMessageText", admin), timeout=30)
        assert "1 added" in visible_text(edit.params["text"])
        assert app.bot_data.archive is archive  # the same live archive, now holding the article
        assert archive.stats().articles == 2
    store.close()


def test_the_console_reports_an_outage_and_answers_again(own_archive: tuple[PgServer, Archive]) -> None:
    import io

    from rich.console import Console

    from bot.console import Repl

    server, archive = own_archive
    out = io.StringIO()
    repl = Repl(archive, stdin=io.StringIO(), out=Console(file=out, width=200))
    server.stop()
    assert repl.handle(QUESTION) is True  # the console goes on
    assert "cannot reach the PostgreSQL database" in out.getvalue()
    server.start()
    repl.handle(QUESTION)
    assert "Baku" in out.getvalue()
