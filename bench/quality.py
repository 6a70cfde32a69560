"""Answer quality on the RealTime QA dev set: BM25 alone, dense alone, full pipeline.

    python bench/quality.py [--index DIR] [--rebuild] [--max-words N] [--backend onnx|torch]
                            [--model multilingual|DIR] [--store postgresql://…|auto]

Answer recall@k: the gold answer string (case-insensitive) occurs in the top-k
quotes. Prints one JSON object on stdout and a table on stderr. With ``--store``
the same passages and vectors are also copied into PostgreSQL + pgvector (``auto``:
a throw-away server) and the pipeline is measured there too, beside FAISS.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import lru_cache
from itertools import product
from pathlib import Path

from common import CACHE, DEV, copy_into, database, dev_questions, percentile, print_table, require_dev_set

from retrieval.archive import Archive
from retrieval.chunking import ChunkingParams
from retrieval.embedding import Embedder
from retrieval.indexer import refresh
from retrieval.quotes import QuoteParams
from retrieval.retriever import FusionParams, Retriever
from retrieval.types import Answer

KS = (1, 3, 5)


def recall_row(
    name: str, answers: list[Answer], golds: list[str], latencies: list[float]
) -> dict[str, float | str]:
    row: dict[str, float | str] = {"system": name}
    rr = 0.0
    for k in KS:
        hits = sum(
            any(gold.lower() in q.text.lower() for q in ans.quotes[:k])
            for ans, gold in zip(answers, golds, strict=True)
        )
        row[f"recall@{k}"] = round(hits / len(golds), 3)
    for ans, gold in zip(answers, golds, strict=True):
        for rank, q in enumerate(ans.quotes, 1):
            if gold.lower() in q.text.lower():
                rr += 1 / rank
                break
    row["mrr"] = round(rr / len(golds), 3)
    row["answered"] = round(sum(a.answered for a in answers) / len(answers), 3)
    row["p50_ms"] = round(percentile(latencies, 50) * 1000, 1)
    row["p95_ms"] = round(percentile(latencies, 95) * 1000, 1)
    return row


def build(
    index_dir: Path, max_words: int, overlap: int, backend: str, rebuild: bool, model: str | None = None
) -> dict:
    report = refresh(
        index_dir,
        [DEV / "articles.jsonl"],
        model,
        ChunkingParams(max_words, overlap),
        full=rebuild,
        backend=backend,
        cache_dir=CACHE / "models",
    )
    return report.as_dict() | {"added": len(report.added)}


def evaluate(archive: Archive, questions: list[dict], k: int = 5) -> list[dict]:
    golds = [q["answer"] for q in questions]
    rows = []
    for mode, name in (("lexical", "bm25"), ("dense", "dense"), ("hybrid", "newsbot")):
        answers, lat = [], []
        for q in questions:
            t0 = time.perf_counter()
            answers.append(archive.ask(q["question"], k=k, mode=mode))
            lat.append(time.perf_counter() - t0)
        rows.append(recall_row(name, answers, golds, lat))
    return rows


class QueryCache(Embedder):
    """Remembers question vectors so a parameter sweep embeds each question once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embed_query = lru_cache(maxsize=None)(inner.embed_query)  # type: ignore[method-assign]

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed_batch(texts)


def sweep(archive: Archive, questions: list[dict]) -> list[dict]:
    """Recall for a coarse grid of fusion and quote weights (how the defaults were chosen)."""
    golds = [q["answer"] for q in questions]
    cached = QueryCache(archive.embedder)
    rows = []
    fusions = [FusionParams(dense_weight=d, rrf_k=r) for d, r in product((0.7, 1.0, 1.5), (20, 60))]
    quotes = [
        QuoteParams(hit_weight=h, overlap_weight=o, type_weight=t, context_words=c)
        for (h, o, t), c in product(((0.45, 0.40, 0.15), (0.6, 0.3, 0.1), (0.3, 0.5, 0.2)), (30, 45))
    ]
    for fusion, qp in product(fusions, quotes):
        variant = Archive(Retriever(archive.store, cached, fusion), qp)
        answers = [variant.ask(q["question"], k=5) for q in questions]
        row = recall_row("sweep", answers, golds, [0.0])
        rows.append(
            {
                "dense_w": fusion.dense_weight,
                "rrf_k": fusion.rrf_k,
                "hit_w": qp.hit_weight,
                "overlap_w": qp.overlap_weight,
                "type_w": qp.type_weight,
                "context": qp.context_words,
            }
            | {k: row[k] for k in ("recall@1", "recall@3", "recall@5", "mrr")}
        )
    rows.sort(key=lambda r: -(float(r["recall@1"]) + float(r["recall@3"]) + float(r["recall@5"])))
    return rows


def absent_questions(limit: int = 200) -> list[str]:
    """XQuAD's English questions (Wikipedia topics): stand-ins for things a news archive lacks."""
    path = DEV.parent / "xquad" / "xquad.en.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = [qa["question"] for art in data for para in art["paragraphs"] for qa in para["qas"]]
    return out[:: max(1, len(out) // limit)][:limit]


def calibrate(archive: Archive, questions: list[dict]) -> list[dict]:
    """Share of dev questions answered vs absent-topic questions declined, per threshold."""
    absent = absent_questions()
    rows = []
    for min_dense in (0.25, 0.30, 0.35, 0.40, 0.45, 0.50):
        variant = Archive(archive.retriever, QuoteParams(min_dense=min_dense))
        present_ok = sum(variant.ask(q["question"], k=1).answered for q in questions) / len(questions)
        absent_ok = sum(not variant.ask(q, k=1).answered for q in absent) / max(1, len(absent))
        rows.append(
            {
                "min_dense": min_dense,
                "dev_answered": round(present_ok, 3),
                "absent_declined": round(absent_ok, 3),
                "absent_questions": len(absent),
            }
        )
    return rows


def compare_postgresql(archive: Archive, questions: list[dict], url: str) -> dict:
    """The same passages and vectors in PostgreSQL + pgvector: recall beside FAISS's."""
    from retrieval.store.pg import PgStore

    url, cleanup = database(url)
    store = PgStore(url)
    try:
        seconds = copy_into(archive.store.snapshot, store)  # type: ignore[attr-defined]
        pg = Archive(Retriever(store, archive.embedder, archive.retriever.params))
        pg.ask("warm-up question")
        rows = [dict(row, system=f"pg-{row['system']}") for row in evaluate(pg, questions)]
        return {"ef_search": store.ef_search, "load_seconds": round(seconds, 1), "systems": rows}
    finally:
        store.close()
        cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path)
    ap.add_argument("--max-words", type=int, default=ChunkingParams().max_words)
    ap.add_argument("--overlap", type=int, default=ChunkingParams().overlap_sentences)
    ap.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    ap.add_argument("--model", help="'multilingual' or a model folder (default: the English default)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--sweep", action="store_true", help="also try a grid of fusion/quote weights")
    ap.add_argument("--calibrate", action="store_true", help="also measure the no-answer threshold")
    ap.add_argument(
        "--store", help="also measure PostgreSQL: a postgresql:// URL, or 'auto' for a temporary server"
    )
    args = ap.parse_args()
    require_dev_set()
    suffix = f"-{Path(args.model).name}" if args.model else ""
    index_dir = args.index or CACHE / f"dev-index-{args.max_words}w-{args.overlap}o{suffix}"
    built = build(index_dir, args.max_words, args.overlap, args.backend, args.rebuild, args.model)
    archive = Archive.open(index_dir, backend=args.backend, cache_dir=CACHE / "models")
    questions = dev_questions()
    archive.ask("warm-up question")
    rows = evaluate(archive, questions)
    result = {
        "dataset": str(DEV),
        "questions": len(questions),
        "index": {
            "dir": str(index_dir),
            "passages": built["passages"],
            "max_words": args.max_words,
            "overlap": args.overlap,
        },
        "systems": rows,
    }
    if args.store:
        result["postgresql"] = compare_postgresql(archive, questions, args.store)
        rows = rows + result["postgresql"]["systems"]
    if args.sweep:
        result["sweep"] = sweep(archive, questions)
    if args.calibrate:
        result["calibration"] = calibrate(archive, questions)
    print(json.dumps(result))
    print_table(rows, f"answer recall on {len(questions)} dev questions ({built['passages']} passages)")
    if args.sweep:
        print_table(result["sweep"][:12], "best of the sweep")
    if args.calibrate:
        print_table(
            result["calibration"], "no-answer threshold: dev questions answered vs absent topics declined"
        )


if __name__ == "__main__":
    main()
