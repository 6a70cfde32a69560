"""PostgreSQL specifics against a real server: schema versions, live updates, kills, restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.errors import IndexMismatchError, StoreUnavailableError
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.store.location import redact
from retrieval.store.pg import PgStore
from retrieval.store.pg_schema import SCHEMA, SCHEMA_VERSION
from tests.conftest import ROOT, SEEDS, write
from tests.pg_server import PgServer

MODEL = HashingEmbedder(64)

pytestmark = pytest.mark.postgresql


def harbour(n: int) -> str:
    return (
        f"The harbour of town number {n} reopened on Friday after the storm damaged {n} piers. "
        f"Fishermen of town {n} said the repairs took three weeks and cost a great deal."
    )


def consistency(url: str) -> dict[str, int]:
    """Every article whole, and the BM25 statistics matching the passages stored."""
    with psycopg.connect(url) as conn:
        broken = conn.execute(
            f"""SELECT a.id FROM {SCHEMA}.articles a LEFT JOIN {SCHEMA}.passages p ON p.article_id = a.id
                GROUP BY a.id, a.passages HAVING count(p.id) <> a.passages"""
        ).fetchall()
        assert broken == []
        passages, length = conn.execute(
            f"SELECT count(*), coalesce(sum(length), 0) FROM {SCHEMA}.passages"
        ).fetchone()  # type: ignore[misc]
        assert conn.execute(f"SELECT passages, length FROM {SCHEMA}.totals").fetchone() == (passages, length)
        wrong_df = conn.execute(
            f"""SELECT coalesce(l.term, c.term) FROM {SCHEMA}.lexicon l
                FULL JOIN (SELECT term, count(*) AS df FROM {SCHEMA}.postings GROUP BY term) c ON c.term = l.term
                WHERE l.df IS DISTINCT FROM c.df"""
        ).fetchall()
        assert wrong_df == []
        wrong_tf = conn.execute(
            f"""SELECT p.id FROM {SCHEMA}.passages p LEFT JOIN {SCHEMA}.postings po ON po.passage_id = p.id
                GROUP BY p.id, p.length HAVING coalesce(sum(po.tf), 0) <> p.length"""
        ).fetchall()
        assert wrong_tf == []
        (articles,) = conn.execute(f"SELECT count(*) FROM {SCHEMA}.articles").fetchone()  # type: ignore[misc]
    return {"articles": articles, "passages": passages}


def test_schema_is_created_on_first_use_and_versioned(pg_url: str) -> None:
    PgStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone() == (
            SCHEMA_VERSION,
        )
        conn.execute(f"UPDATE {SCHEMA}.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(IndexMismatchError, match=r"schema version 99.*DROP SCHEMA newsbot CASCADE"):
        PgStore(pg_url)


def test_a_version_1_schema_is_upgraded_in_place_by_the_indexer(pg_url: str) -> None:
    """An archive written by a newsbot of schema version 1: readers are told the command,
    the next `newsbot index` upgrades it in place and keeps every vector."""
    refresh(PgStore(pg_url), [SEEDS], MODEL)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # back to what version 1 wrote
        conn.execute(f"DROP TABLE {SCHEMA}.sentences")
        conn.execute(
            f"ALTER TABLE {SCHEMA}.articles DROP COLUMN layout, DROP COLUMN meta, DROP COLUMN published_to"
        )
        conn.execute(f"ALTER TABLE {SCHEMA}.articles RENAME COLUMN published_from TO published_date")
        conn.execute(f"UPDATE {SCHEMA}.meta SET value = '1' WHERE key = 'schema_version'")
    old = PgStore(pg_url)
    with pytest.raises(IndexMismatchError, match=r"schema version 1: run `newsbot index --store URL` once"):
        old.manifest()
    counting = CountingEmbedder(64)
    report = refresh(old, [SEEDS], counting)
    assert report.wrote and report.embedded == 0 and counting.seen == []  # vectors kept
    store = PgStore(pg_url)
    assert store.manifest().articles and all(e.layout for e in store.manifest().articles.values())
    assert Archive(Retriever(store, MODEL)).ask("Where was the Afghanistan conference held?").quotes
    assert not refresh(store, [SEEDS], MODEL).wrote  # nothing left to do
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone() == (
            2,
        )


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.seen: list[str] = []

    def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return super().embed_passages(texts, progress)


def test_a_read_only_role_can_answer(pg_url: str) -> None:
    store = PgStore(pg_url)
    refresh(store, [SEEDS], MODEL)
    store.close()
    reader = "r_" + pg_url.split("/")[-1].split("?")[0]  # roles are per server: one per database
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {reader} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {reader}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {reader}")
    reader_url = pg_url.replace("postgres@", f"{reader}@")
    archive = Archive.open(reader_url, MODEL)
    assert archive.ask("Where was the Afghanistan conference held?").quotes
    archive.close()


def test_the_password_never_shows() -> None:
    assert (
        redact("postgresql://bot:s3cret@db.example.org:5432/news")
        == "postgresql://bot:***@db.example.org:5432/news"
    )
    assert "s3cret" not in redact("postgresql:///news?host=/run&password=s3cret")


def test_another_process_sees_updates_without_a_restart(pg_url: str, tmp_path: Path) -> None:
    src = tmp_path / "articles"
    write(src / "one.txt", harbour(1))
    store = PgStore(pg_url)
    refresh(store, [src], MODEL)
    archive = Archive(Retriever(store, MODEL))
    assert archive.ask("Which museum opened?").quotes[0].article.id == "one"
    write(src / "museum.txt", "The new maritime museum opened its doors in Port Marlow on Sunday morning.")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bot", "index", "--store", pg_url, "-a", str(src), "--model", MODEL.name],
        check=True,
        env=env,
        capture_output=True,
    )
    answer = archive.ask("Which museum opened?")  # the same archive object, never reopened
    assert answer.quotes[0].article.id == "museum"
    assert archive.stats().articles == 2
    store.close()


KILLED_INDEXER = """
import sys, time
from pathlib import Path
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from retrieval.store.pg import PgStore

class Slow(HashingEmbedder):
    def embed_passages(self, texts, progress=None):
        time.sleep(0.05)
        return super().embed_passages(texts, progress)

refresh(PgStore(sys.argv[1]), [Path(sys.argv[2])], Slow(64), batch=1)
"""


def test_a_killed_indexer_leaves_only_whole_articles(pg_url: str, tmp_path: Path) -> None:
    src = tmp_path / "articles"
    for n in range(60):
        write(src / f"{n:03}.txt", harbour(n))
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_INDEXER, pg_url, str(src)], env=env)
    try:
        deadline = time.monotonic() + 60
        seen = 0
        while time.monotonic() < deadline and seen < 5:
            time.sleep(0.05)
            try:
                with psycopg.connect(pg_url) as conn:
                    seen = conn.execute(f"SELECT count(*) FROM {SCHEMA}.articles").fetchone()[0]  # type: ignore[index]
            except psycopg.errors.UndefinedTable:
                continue
        assert proc.poll() is None, "the indexer finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    partial = consistency(pg_url)
    assert 5 <= partial["articles"] < 60
    store = PgStore(pg_url)
    report = refresh(store, [src], MODEL)
    assert len(report.added) == 60 - partial["articles"] and report.unchanged == partial["articles"]
    assert consistency(pg_url)["articles"] == 60
    store.close()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> PgServer:
    """A server of its own, for tests that stop it (others share the session's)."""
    server = PgServer().start()
    yield server  # type: ignore[misc]
    server.remove()


def test_the_archive_survives_a_server_restart_and_an_outage(own_server: PgServer) -> None:
    url = own_server.create_database()
    store = PgStore(url, retries=2, retry_wait=0.2)
    refresh(store, [SEEDS], MODEL)
    archive = Archive(Retriever(store, MODEL))
    question = "Where was the Afghanistan conference held?"
    first = archive.ask(question)
    assert first.quotes
    own_server.restart()  # every open connection is cut
    assert archive.ask(question).quotes == first.quotes
    own_server.stop()
    started = time.monotonic()
    with pytest.raises(
        StoreUnavailableError, match=r"cannot reach the PostgreSQL database.*is the server running"
    ):
        archive.ask(question)
    assert time.monotonic() - started < 10
    own_server.start()
    assert archive.ask(question).quotes == first.quotes  # the same object, answering again
    store.close()


def test_without_a_server_tests_skip_locally_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import start_or_skip
    from tests.pg_server import ServerUnavailable

    def broken() -> PgServer:
        raise ServerUnavailable("initdb failed")

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="cannot start here: initdb failed"):
        start_or_skip(broken)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must start in CI: initdb failed"):
        start_or_skip(broken)


def test_an_indexer_run_leaves_fresh_planner_statistics(pg_url: str) -> None:
    store = PgStore(pg_url)
    refresh(store, [SEEDS], MODEL)
    store.close()
    with psycopg.connect(pg_url) as conn:
        analyzed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s AND last_analyze IS NOT NULL",
            [SCHEMA],
        ).fetchall()
    assert {"passages", "postings", "lexicon"} <= {name for (name,) in analyzed}


def test_an_indexer_rides_out_a_server_restart(own_server: PgServer, tmp_path: Path) -> None:
    import threading

    src = tmp_path / "articles"
    for n in range(40):
        write(src / f"{n:03}.txt", harbour(n))
    url = own_server.create_database()

    class Slow(HashingEmbedder):
        def embed_passages(self, texts, progress=None):  # type: ignore[no-untyped-def]
            time.sleep(0.05)
            return super().embed_passages(texts, progress)

    store = PgStore(url, retries=6, retry_wait=0.2)
    reports = []
    worker = threading.Thread(target=lambda: reports.append(refresh(store, [src], Slow(64), batch=1)))
    worker.start()
    time.sleep(0.8)  # some articles in
    assert worker.is_alive()
    own_server.restart()
    worker.join(60)
    assert reports and len(reports[0].added) == 40
    assert consistency(url) == {"articles": 40, "passages": reports[0].passages}
    store.close()


_READER = """
import json, logging, os, sys, time
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.search.retriever import Retriever
from retrieval.store.pg import PgStore
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
store = PgStore(sys.argv[1], retries=8, retry_wait=0.1)
archive = Archive(Retriever(store, HashingEmbedder(64)))
while not os.path.exists(sys.argv[2]):
    try:
        answer = archive.ask("When did the harbour of town 3 reopen?")
        assert answer.quotes, "no quote"
        print(json.dumps({"ok": True, "passages": store.count()}), flush=True)
    except Exception as exc:
        print(json.dumps({"ok": False, "error": str(exc)}), flush=True)
    time.sleep(0.05)
"""


def test_failover_drill_readers_keep_answering_and_the_indexer_waits_for_the_promoted_replica(
    pg_server: PgServer, tmp_path: Path
) -> None:
    import json
    import threading

    primary = PgServer().start()
    replica = indexer = None
    readers: list[subprocess.Popen[str]] = []
    try:
        name = primary.create_database().split("@/", 1)[1].split("?")[0]
        replica = primary.start_replica()
        hosts = f"host={primary.socket_dir},{replica.socket_dir}"
        # one URL, two hosts: libpq tries them in turn at every new connection
        readers_url = f"postgresql://postgres@/{name}?{hosts}&target_session_attrs=any"
        writer_url = f"postgresql://postgres@/{name}?{hosts}&target_session_attrs=read-write"
        src = tmp_path / "articles"
        for n in range(6):
            write(src / f"{n:03}.txt", harbour(n))
        indexer = PgStore(writer_url, retry_wait=0.2)
        first = refresh(indexer, [src], HashingEmbedder(64))
        standby_url = f"postgresql://postgres@/{name}?host={replica.socket_dir}"
        _wait_for(lambda: consistency(standby_url)["articles"] == 6)  # replayed on the standby

        stop = tmp_path / "stop"
        for _ in range(2):
            readers.append(
                subprocess.Popen(
                    [sys.executable, "-c", _READER, readers_url, str(stop)],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for reader in readers:
            assert reader.stdout is not None and json.loads(reader.stdout.readline())["ok"]

        primary.kill()
        for n in range(6, 10):
            write(src / f"{n:03}.txt", harbour(n))
        reports = []
        started = time.monotonic()
        store = indexer
        worker = threading.Thread(target=lambda: reports.append(refresh(store, [src], HashingEmbedder(64))))
        worker.start()
        time.sleep(4.0)  # longer than a read waits (retries=4, retry_wait=0.2: 3 s)
        assert worker.is_alive() and not reports  # waiting for a primary, not dead
        replica.promote()
        worker.join(60)
        waited = time.monotonic() - started
        assert reports, "the indexer gave up"
        assert (len(reports[0].added), reports[0].removed, waited > 4.0) == (4, [], True)
        # nothing lost, nothing twice: every article whole, the totals right
        assert consistency(standby_url) == {"articles": 10, "passages": first.passages + 4}
        time.sleep(0.3)
    finally:
        (tmp_path / "stop").touch()
        outputs = [reader.communicate(timeout=20) for reader in readers]
        if indexer is not None:
            indexer.close()
        if replica is not None:
            replica.remove()
        primary.remove()
    for out, err in outputs:
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines and all(line["ok"] for line in lines), [line for line in lines if not line["ok"]][:3]
        assert lines[-1]["passages"] == first.passages + 4  # the new articles, read from the promoted replica
        assert err.count("connected to a read-only standby") == 1, err


def _wait_for(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
