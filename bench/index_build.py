"""Index build on the dev set: throughput, memory, size, and an incremental re-run.

    python bench/index_build.py [--backend onnx|torch] [--limit N] [--max-words N]

Builds a fresh index of ../shared/eval/realtimeqa-dev/articles.jsonl in a
temporary folder, then changes one article and re-runs. Prints one JSON object
on stdout and a table on stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from common import CACHE, DEV, peak_rss_mb, print_table, require_dev_set

from retrieval.embedding import LazyEmbedder, resolve_model
from retrieval.ingest.chunking import ChunkingParams
from retrieval.ingest.indexer import refresh
from retrieval.store.snapshots import current_version


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    ap.add_argument("--max-words", type=int, default=ChunkingParams().max_words)
    args = ap.parse_args()
    require_dev_set()
    work = Path(tempfile.mkdtemp(prefix="newsbot-bench-"))
    try:
        src = work / "articles"
        src.mkdir()
        lines = (DEV / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if args.limit:
            lines = lines[: args.limit]
        (src / "dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        embedder = LazyEmbedder(resolve_model(None), backend=args.backend, cache_dir=CACHE / "models")
        t0 = time.perf_counter()
        embedder.embed_query("load the model before timing")
        load_s = time.perf_counter() - t0
        params = ChunkingParams(max_words=args.max_words)
        build = refresh(work / "index", [src], embedder, params)
        size = folder_bytes(current_version(work / "index"))

        # Change one article: append a sentence to the first line's text.
        first = json.loads(lines[0])
        first["text"] += "\n\nThis sentence was added to measure an incremental re-index."
        lines[0] = json.dumps(first)
        (src / "dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        again = refresh(work / "index", [src], embedder, params)
        incremental_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "backend": args.backend,
        "articles": build.articles,
        "duplicates_skipped": len(build.duplicates),
        "passages": build.passages,
        "max_words": args.max_words,
        "model_load_seconds": round(load_s, 2),
        "build_seconds": round(build.seconds, 2),
        "embed_seconds": round(build.embed_seconds, 2),
        "passages_per_second": round(build.passages_per_second, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "index_bytes": size,
        "bytes_per_passage": round(size / max(1, build.passages)),
        "incremental_seconds": round(incremental_s, 2),
        "incremental_embedded": again.embedded,
        "incremental_updated": again.updated,
    }
    print(json.dumps(result))
    print_table([{k: v for k, v in result.items() if k != "incremental_updated"}], "index build (dev set)")


if __name__ == "__main__":
    main()
