"""Speed benchmark: naive vs project embedding, re-index, question latency, start-up, memory.

    PYTHONPATH=. python bench/speed.py            # full run (~15-25 min on 2 cores)
    PYTHONPATH=. python bench/speed.py --quick    # smaller samples (~5 min once indexes exist)

Prints a table (stderr) and one JSON object (stdout). Everything compared is
measured in the same run on the same passages. Indexes of the dev set are kept
in ``--work`` and refreshed incrementally, so only the first run pays for
embedding the whole dev set (with PyTorch fp32 that is the slow part).

Wall-clock figures on a shared machine move with its load: the load average is
recorded, and embedding is also reported in CPU seconds, which do not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from retrieval.archive import Archive  # noqa: E402
from retrieval.embedding import Embedder, resolve_model  # noqa: E402
from retrieval.embedding.onnx import OnnxEmbedder  # noqa: E402
from retrieval.embedding.sbert import SentenceTransformerEmbedder  # noqa: E402
from retrieval.ingest.articles import load_articles  # noqa: E402
from retrieval.ingest.chunking import ChunkingParams, chunk_text  # noqa: E402
from retrieval.ingest.indexer import refresh  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402
from retrieval.store.faiss import FaissStore  # noqa: E402
from retrieval.store.faiss_index import build_faiss, search_index  # noqa: E402
from retrieval.store.lexical import LexicalIndex, _bm25_matrix  # noqa: E402
from retrieval.store.manifest import Manifest  # noqa: E402
from retrieval.store.rows import SPAN_DTYPE  # noqa: E402
from retrieval.store.snapshots import Snapshot, current_version  # noqa: E402
from retrieval.types import Article  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "realtimeqa-dev"
DIM = 384


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


class Clock:
    """Wall and CPU seconds of a block (CPU counts every thread of this process)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


# --------------------------------------------------------------------------- embedding


class NaiveEmbedder:
    """The baseline: sentence-transformers, PyTorch fp32, batches of 32 in input order."""

    def __init__(self, model: SentenceTransformerEmbedder) -> None:
        self.model = model._model  # the loaded SentenceTransformer

    def embed(self, texts: list[str]) -> np.ndarray:
        out = [
            self.model.encode(
                texts[i : i + 32], batch_size=32, convert_to_numpy=True, show_progress_bar=False
            )
            for i in range(0, len(texts), 32)
        ]
        return np.concatenate(out)


def bench_embedding(
    texts: list[str], torch_model: SentenceTransformerEmbedder, onnx_model: OnnxEmbedder, rounds: int
) -> dict[str, object]:
    """Naive and project on the same passages, interleaved in rounds so load spikes hit both."""
    naive = NaiveEmbedder(torch_model)
    runners = {
        "naive_torch_fp32_unsorted": naive.embed,
        "project_onnx_int8_sorted": onnx_model.embed_passages,
    }
    totals = {name: [0.0, 0.0] for name in runners}
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in runners}
    onnx_model.embed_passages(texts[:8])  # warm-up: first-run allocations
    naive.embed(texts[:8])
    chunks = np.array_split(np.arange(len(texts)), rounds)
    for r, chunk in enumerate(chunks):
        part = [texts[i] for i in chunk]
        order = list(runners.items()) if r % 2 == 0 else list(runners.items())[::-1]
        for name, run in order:
            with Clock() as c:
                vecs = run(part)
            totals[name][0] += c.wall
            totals[name][1] += c.cpu
            vectors[name].append(np.asarray(vecs))
        log(
            f"  embedding round {r + 1}/{rounds}: " + ", ".join(f"{n} {t[0]:.1f}s" for n, t in totals.items())
        )
    a = np.concatenate(vectors["naive_torch_fp32_unsorted"])
    b = np.concatenate(vectors["project_onnx_int8_sorted"])
    cosine = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    out: dict[str, object] = {"passages": len(texts), "rounds": rounds}
    for name, (wall, cpu) in totals.items():
        out[name] = {
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "passages_per_second": round(len(texts) / wall, 1),
            "passages_per_cpu_second": round(len(texts) / cpu, 1),
        }
    n, p = totals["naive_torch_fp32_unsorted"], totals["project_onnx_int8_sorted"]
    out["speedup"] = round(n[0] / p[0], 2)
    out["speedup_cpu"] = round(n[1] / p[1], 2)
    out["cosine_project_vs_naive"] = {
        "mean": round(float(cosine.mean()), 4),
        "min": round(float(cosine.min()), 4),
    }
    return out


# --------------------------------------------------------------------------- quality


def answer_recall(archive: Archive, questions: list[dict], k: int = 5) -> float:
    """Share of questions whose gold answer string appears in one of the top-k quotes."""
    found = 0
    for q in questions:
        gold = q["answer"].casefold()
        answer = archive.ask(q["question"], k=k)
        found += any(gold in quote.text.casefold() for quote in answer.quotes[:k])
    return found / len(questions)


def xquad_recall(torch_model: Embedder, onnx_model: Embedder) -> dict[str, object] | None:
    """fp32 vs int8 on the 1,190 English XQuAD questions: 96 dev questions move in steps
    of 0.0104, too coarse to tell a 0.01 difference; these move in steps of 0.0008.
    The int8 index is the one bench/multilingual.py uses for the default model."""
    from multilingual import XQUAD, build_index, load_xquad

    if not (XQUAD / "xquad.en.json").exists():
        return None
    articles, questions = load_xquad("en")
    out: dict[str, object] = {"questions": len(questions)}
    for name, model, index in (("fp32", torch_model, "minilm-fp32"), ("int8", onnx_model, "minilm")):
        index_dir, _ = build_index(index, "en", articles, model)
        archive = Archive.open(index_dir, embedder=model)
        for k in (1, 5):
            out[f"recall{k}_{name}"] = round(answer_recall(archive, questions, k), 4)
    out["difference_at_5"] = round(out["recall5_int8"] - out["recall5_fp32"], 4)  # type: ignore[operator]
    return out


# --------------------------------------------------------------------------- latency


def bench_questions(archive: Archive, questions: list[str], repeat: int) -> dict[str, object]:
    for q in questions[:5]:
        archive.ask(q)  # warm-up
    ask_ms, search_ms, embed_ms = [], [], []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            archive.ask(q, k=5)
            ask_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            archive.retriever.search(archive.retriever.query(q), k=8)
            search_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            archive.embedder.embed_query(q)
            embed_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "questions": len(ask_ms),
        "ask_p50_ms": round(pct(ask_ms, 50), 1),
        "ask_p95_ms": round(pct(ask_ms, 95), 1),
        "retrieval_p50_ms": round(pct(search_ms, 50), 1),
        "retrieval_p95_ms": round(pct(search_ms, 95), 1),
        "query_embedding_p50_ms": round(pct(embed_ms, 50), 1),
    }


class LookupEmbedder(Embedder):
    """Returns prepared vectors for prepared questions (synthetic-index latency runs)."""

    name = "synthetic"
    dim = DIM

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        return np.stack([self.table[t] for t in texts])


def clustered_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors from a two-level gaussian mixture (100 topics, 5,000 sub-topics):
    neighbours are about as close as real passage embeddings (top-1 cosine ~0.6)."""
    topics = rng.standard_normal((100, DIM)).astype(np.float32)
    subs = topics[rng.integers(0, 100, 5000)] + 0.7 * rng.standard_normal((5000, DIM)).astype(np.float32)
    subs /= np.linalg.norm(subs, axis=1, keepdims=True)
    out = np.empty((n, DIM), np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        noise = (0.9 / np.sqrt(DIM)) * rng.standard_normal((hi - lo, DIM)).astype(np.float32)
        x = subs[rng.integers(0, 5000, hi - lo)] + noise  # |noise| ~0.9 against a unit centre
        out[lo:hi] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def synthetic_snapshot(vectors: np.ndarray, index_type: str, rng: np.random.Generator) -> tuple:
    """A Snapshot of ``len(vectors)`` passages: synthetic articles, term ids and vectors."""
    n = len(vectors)
    vocab_size, per_passage, per_article = 50_000, 40, 100
    words = [f"w{i}" for i in range(vocab_size)]
    n_articles = (n + per_article - 1) // per_article
    articles = [
        Article(
            id=f"s{i}", text=" ".join(words[j] for j in rng.integers(0, vocab_size, 120)), source="synthetic"
        )
        for i in range(n_articles)
    ]
    table = np.zeros(n, dtype=SPAN_DTYPE)
    table["article"] = np.arange(n) // per_article
    table["start"] = 0
    table["end"] = 60
    # Zipf-like term ids: a few very common terms, a long tail (like news text minus stopwords).
    ranks = np.minimum(rng.zipf(1.3, n * per_passage) - 1, vocab_size - 1).astype(np.int32)
    offsets = np.arange(0, n * per_passage + 1, per_passage, dtype=np.int64)
    used = np.bincount(ranks, minlength=vocab_size) > 0
    remap = (np.cumsum(used) - 1).astype(np.int32)
    vocab = {words[t]: int(remap[t]) for t in np.flatnonzero(used)}
    data, indices, indptr = _bm25_matrix(remap[ranks], offsets, len(vocab))
    lexical = LexicalIndex(vocab, data, indices, indptr, n)
    with Clock() as build:
        index, kind = build_faiss(vectors, index_type)
    manifest = Manifest(model="synthetic", dim=DIM, chunking={}, passages=n, index_type=kind)
    snapshot = Snapshot(Path("/nonexistent"), manifest, articles, table, np.zeros(n, "S16"), index, lexical)
    snapshot._exact = vectors  # what vectors.npy holds on disk (exact re-scoring)
    return snapshot, build.wall, words


def bench_scale(n: int, n_queries: int, flat_sizes: list[int], seed: int = 0) -> dict[str, object]:
    """Latency and recall@10 of the size-chosen index at ``n`` synthetic passages."""
    import faiss

    rng = np.random.default_rng(seed)
    with Clock() as gen:
        data = clustered_vectors(n + n_queries, rng)
    vectors, queries = data[:n], data[n:]
    log(f"  {n:,} synthetic vectors in {gen.wall:.0f}s; exact neighbours ...")
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    _, truth = exact.search(queries, 10)
    snapshot, build_seconds, words = synthetic_snapshot(vectors, "auto", rng)
    log(f"  built {snapshot.manifest.index_type} over {n:,} in {build_seconds:.0f}s")
    recall, dense_ms = [], []
    for q, want in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        got = search_index(snapshot.faiss_index, snapshot.manifest.index_type, snapshot.vectors, q, 10)
        dense_ms.append((time.perf_counter() - t0) * 1000)
        recall.append(len({r for r, _ in got} & set(want.tolist())) / 10)
    # The whole retrieval (query embedding excepted): dense + BM25 over n passages + fusion.
    texts = [" ".join(words[int(j)] for j in rng.integers(100, 5000, 6)) for _ in range(n_queries)]
    retriever = Retriever(
        FaissStore(snapshot.folder, snapshot), LookupEmbedder(dict(zip(texts, queries, strict=True)))
    )
    search_ms = []
    for t in texts:
        t0 = time.perf_counter()
        retriever.search(retriever.query(t), k=8)
        search_ms.append((time.perf_counter() - t0) * 1000)
    out: dict[str, object] = {
        "passages": n,
        "index_type": snapshot.manifest.index_type,
        "build_seconds": round(build_seconds, 1),
        "index_bytes_per_passage": _index_bytes(snapshot.faiss_index) / n,
        "recall_at_10_vs_exact": round(float(np.mean(recall)), 4),
        "dense_p50_ms": round(pct(dense_ms, 50), 2),
        "dense_p95_ms": round(pct(dense_ms, 95), 2),
        "retrieval_p50_ms": round(pct(search_ms, 50), 1),
        "retrieval_p95_ms": round(pct(search_ms, 95), 1),
    }
    if snapshot.manifest.index_type == "ivf-sq8":
        out["ivf"] = {"lists": snapshot.faiss_index.nlist, "probes": snapshot.faiss_index.nprobe}  # type: ignore[attr-defined]
    # Exact (flat) search at a few sizes: where it stops being fast enough sets ANN_THRESHOLD.
    flat = {}
    faiss.omp_set_num_threads(1)
    for size in flat_sizes:
        sub = faiss.IndexFlatIP(DIM)
        sub.add(vectors[:size])
        times = []
        for q in queries[: min(n_queries, 60)]:
            t0 = time.perf_counter()
            sub.search(q.reshape(1, -1), 60)
            times.append((time.perf_counter() - t0) * 1000)
        flat[str(size)] = round(pct(times, 50), 2)
    out["flat_exact_p50_ms_by_size"] = flat
    return out


def _index_bytes(index: object) -> int:
    import faiss

    return int(faiss.serialize_index(index).nbytes)


# --------------------------------------------------------------------------- processes


def run_child(args: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> dict:
    """Run a child process: wall time and output (CPU time and peak RSS: see PROBE)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        cwd=ROOT,
    )
    out, err = proc.communicate(stdin)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err[-2000:]}")
    return {"wall": wall, "stdout": out, "stderr": err}


PROBE = """
import resource, sys, time
t0 = time.perf_counter()
sys.argv = ["newsbot"] + sys.argv[1:]
from bot.cli import main
try:
    main(standalone_mode=False)
finally:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    # VmHWM, not ru_maxrss: after fork+exec Linux reports the parent's peak in ru_maxrss.
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()
    print(
        "PROBE", int(status[0]) * 1024, ru.ru_utime + ru.ru_stime, "torch" in sys.modules,
        "sentence_transformers" in sys.modules, file=sys.stderr,
    )
"""


def probe(line: str) -> dict[str, object]:
    _, rss, cpu, torch, st = line.split()
    return {
        "peak_rss_bytes": int(rss),
        "cpu_seconds": float(cpu),
        "torch": torch == "True",
        "st": st == "True",
    }


def bench_startup(index_dir: Path, question: str, env: dict[str, str], runs: int) -> dict[str, object]:
    walls, cpus, info = [], [], {}
    for _ in range(runs):
        res = run_child(
            [sys.executable, "-c", PROBE, "ask", question, "--index", str(index_dir), "--json"], env=env
        )
        json.loads(res["stdout"].splitlines()[0])  # a real answer came back
        info = probe(next(ln for ln in res["stderr"].splitlines() if ln.startswith("PROBE")))
        walls.append(res["wall"])
        cpus.append(info["cpu_seconds"])
    return {
        "runs": runs,
        "wall_seconds_median": round(statistics.median(walls), 2),
        "wall_seconds_min": round(min(walls), 2),
        "cpu_seconds_median": round(statistics.median(cpus), 2),
        "imports_torch": info["torch"] or info["st"],
    }


def bench_serving_memory(index_dir: Path, questions: list[str], env: dict[str, str]) -> dict[str, object]:
    """Peak RSS of `newsbot ask` answering every dev question from one process."""
    res = run_child(
        [sys.executable, "-c", PROBE, "ask", "--index", str(index_dir), "--json"],
        stdin="\n".join(questions) + "\n",
        env=env,
    )
    info = probe(next(ln for ln in res["stderr"].splitlines() if ln.startswith("PROBE")))
    return {
        "questions": len(res["stdout"].splitlines()),
        "peak_rss_mb": round(int(info["peak_rss_bytes"]) / 2**20, 1),
    }


def disk_usage(index_dir: Path, passages: int) -> dict[str, object]:
    folder = current_version(index_dir)
    files = {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    total = sum(files.values())
    vectors = files.get("vectors.faiss", 0)
    return {
        "total_bytes": total,
        "bytes_per_passage": round(total / passages, 1),
        "vector_bytes_per_passage": round(vectors / passages, 1),
        "articles_text_bytes_per_passage": round(files.get("articles.jsonl", 0) / passages, 1),
        "bm25_bytes_per_passage": round(
            sum(v for k, v in files.items() if k.startswith("bm25")) / passages, 1
        ),
    }


# --------------------------------------------------------------------------- re-index


def bench_reindex(
    source_index: Path, articles: list[Article], embedder: OnnxEmbedder, work: Path, runs: int
) -> dict[str, object]:
    """Change one article / add one article in a copy of the dev index; time refresh."""
    tmp = Path(tempfile.mkdtemp(prefix="reindex-", dir=work))
    try:
        shutil.copytree(source_index, tmp / "index", symlinks=True)
        src = tmp / "articles.jsonl"

        def write(arts: list[Article]) -> None:
            with open(src, "w", encoding="utf-8") as fh:
                for a in arts:
                    fh.write(json.dumps(a.metadata() | {"text": a.text}, ensure_ascii=False) + "\n")

        current = list(articles)
        write(current)
        first = refresh(tmp / "index", [src], embedder)  # align ids/paths with this copy
        log(f"  aligned copy: {first.embedded} embedded, {first.seconds:.1f}s")
        changed, added = [], []
        rng = random.Random(1)
        for run in range(runs):
            i = rng.randrange(len(current))
            extra = f"\n\nUpdate {run}: officials confirmed the details on {time.strftime('%A')} evening."
            current[i] = replace(current[i], text=current[i].text + extra, content_hash="")
            write(current)
            with Clock() as c:
                report = refresh(tmp / "index", [src], embedder)
            changed.append((report.seconds, report.embedded, report.embed_seconds, c.cpu))
            donor = current[rng.randrange(len(current))]
            new = replace(
                donor, id=f"new-{run}", text=f"Breaking {run}. " + donor.text[:1500], content_hash=""
            )
            current.append(new)
            write(current)
            with Clock() as c:
                report = refresh(tmp / "index", [src], embedder)
            added.append((report.seconds, report.embedded, report.embed_seconds, c.cpu))
        # End to end as a user runs it: a new process, model load included.
        current[0] = replace(current[0], text=current[0].text + "\n\nA final note.", content_hash="")
        write(current)
        env = os.environ | {"PYTHONPATH": str(ROOT), "NEWSBOT_CACHE": str(embedder.model_file.parent)}
        res = run_child(
            [
                sys.executable,
                "-m",
                "bot",
                "index",
                "--articles",
                str(src),
                "--index",
                str(tmp / "index"),
                "--json",
            ],
            env=env,
        )
        cli = json.loads(res["stdout"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def summary(rows: list[tuple[float, int, float, float]]) -> dict[str, object]:
        return {
            "seconds_median": round(statistics.median(r[0] for r in rows), 2),
            "cpu_seconds_median": round(statistics.median(r[3] for r in rows), 2),
            "seconds_max": round(max(r[0] for r in rows), 2),
            "embedded_passages_median": statistics.median(r[1] for r in rows),
            "embed_seconds_median": round(statistics.median(r[2] for r in rows), 2),
        }

    return {
        "articles": len(articles),
        "change_one_article": summary(changed),
        "add_one_article": summary(added),
        "cli_process_seconds": round(res["wall"], 2),
        "cli_refresh_seconds": cli["seconds"],
        "cli_embedded": cli["embedded"],
    }


# --------------------------------------------------------------------------- main


def table(result: dict) -> str:
    e, r, q, s = result["embedding"], result["reindex"], result["questions_dev"], result["startup"]
    big = result["scale"]
    one, add = r["change_one_article"], r["add_one_article"]
    rows = [
        ("embedding sample", f"{e['passages']} dev passages ({e['rounds']} interleaved rounds)"),
        ("naive passages/s", _pps(e["naive_torch_fp32_unsorted"])),
        ("project passages/s", _pps(e["project_onnx_int8_sorted"])),
        ("speed-up (wall / CPU)", f"{e['speedup']}x / {e['speedup_cpu']}x"),
        ("cosine project vs naive", f"mean {e['cosine_project_vs_naive']['mean']}"),
    ]
    if "quality" in result:
        qq = result["quality"]
        rows.append(
            (
                "answer recall@5",
                f"fp32 {qq['recall5_fp32']:.3f}  int8 {qq['recall5_int8']:.3f}  "
                f"(int8 queries, fp32 index {qq['recall5_int8_queries_fp32_index']:.3f}; "
                f"{qq['questions']} questions)",
            )
        )
    if "quality_xquad_en" in result:
        x = result["quality_xquad_en"]
        rows.append(
            (
                "answer recall@1 / @5, XQuAD en",
                f"fp32 {x['recall1_fp32']:.3f} / {x['recall5_fp32']:.3f}  "
                f"int8 {x['recall1_int8']:.3f} / {x['recall5_int8']:.3f}  ({x['questions']:,} questions)",
            )
        )
    rows += [
        (
            "re-index: change 1 article",
            f"{one['seconds_median']} s median, {one['cpu_seconds_median']} CPU-s "
            f"(max {one['seconds_max']} s; {one['embedded_passages_median']} passages embedded)",
        ),
        (
            "re-index: add 1 article",
            f"{add['seconds_median']} s median, {add['cpu_seconds_median']} CPU-s",
        ),
        ("re-index: CLI process", f"{r['cli_process_seconds']} s (refresh {r['cli_refresh_seconds']} s)"),
        (
            f"ask, dev set ({result['dev_index']['passages']:,} passages)",
            f"p50 {q['ask_p50_ms']} ms  p95 {q['ask_p95_ms']} ms (retrieval p50 {q['retrieval_p50_ms']} ms)",
        ),
        (
            f"retrieval, {big['passages']:,} synthetic ({big['index_type']})",
            f"p50 {big['retrieval_p50_ms']} ms  p95 {big['retrieval_p95_ms']} ms  "
            f"dense p50 {big['dense_p50_ms']} ms  recall@10 {big['recall_at_10_vs_exact']}",
        ),
        (
            "exact flat p50 by size",
            ", ".join(f"{int(k):,}: {v} ms" for k, v in big["flat_exact_p50_ms_by_size"].items()),
        ),
        (
            "start-up to first answer",
            f"{s['wall_seconds_median']} s wall median ({s['cpu_seconds_median']} s CPU); "
            f"torch imported: {s['imports_torch']}",
        ),
        ("peak RSS serving dev index", f"{result['memory']['peak_rss_mb']} MB"),
        (
            "disk per passage",
            f"{result['disk']['bytes_per_passage']} B "
            f"(vectors {result['disk']['vector_bytes_per_passage']} B)",
        ),
        ("load average start / end", f"{result['load_average']['start']} / {result['load_average']['end']}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _pps(d: dict) -> str:
    return f"{d['passages_per_second']} /s wall, {d['passages_per_cpu_second']} /s per CPU-second"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller samples and a 200k synthetic index")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsbot-speed")
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--sample", type=int, help="passages for the naive-vs-project timing")
    ap.add_argument("--scale", type=int, help="synthetic passages for the large-index latency")
    ap.add_argument("--no-quality", action="store_true", help="skip the fp32 index and recall comparison")
    args = ap.parse_args()
    if not (args.dev / "articles.jsonl").exists():
        sys.exit(f"dev set not found in {args.dev}")
    sample = args.sample or (240 if args.quick else 1000)
    scale = args.scale or (200_000 if args.quick else 1_000_000)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "onnx-cache"
    load_start = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, object] = {"cpus": os.cpu_count(), "quick": args.quick}

    spec = resolve_model(None)
    log("loading models ...")
    onnx_model = OnnxEmbedder(spec.path, name=spec.name, cache_dir=cache)
    torch_model = SentenceTransformerEmbedder(spec.path, name=spec.name)

    loaded = load_articles([args.dev / "articles.jsonl"])
    articles = loaded.articles
    passages = [p.text for a in articles for p in chunk_text(a.id, a.text, ChunkingParams())]
    texts = random.Random(0).sample(passages, min(sample, len(passages)))
    log(f"embedding {len(texts)} of {len(passages):,} dev passages, naive vs project ...")
    result["embedding"] = bench_embedding(texts, torch_model, onnx_model, rounds=4 if args.quick else 6)

    log("dev index (int8) ...")
    int8_dir = work / "dev-int8"
    report = refresh(int8_dir, [args.dev / "articles.jsonl"], onnx_model)
    result["dev_index"] = {
        "articles": report.articles,
        "passages": report.passages,
        "built_now": report.wrote,
        **({"build_passages_per_second": round(report.passages_per_second, 1)} if report.embedded else {}),
    }
    questions = [json.loads(line) for line in (args.dev / "questions.jsonl").read_text().splitlines() if line]
    int8 = Archive.open(int8_dir, embedder=onnx_model)
    if not args.no_quality:
        log("dev index (fp32; slow the first time) ...")
        fp32_dir = work / "dev-fp32"
        rep32 = refresh(fp32_dir, [args.dev / "articles.jsonl"], torch_model)
        fp32 = Archive.open(fp32_dir, embedder=torch_model)
        mixed = Archive.open(fp32_dir, embedder=onnx_model)
        r32, r8, rmix = (answer_recall(a, questions) for a in (fp32, int8, mixed))
        result["quality"] = {
            "questions": len(questions),
            "recall5_fp32": round(r32, 4),
            "recall5_int8": round(r8, 4),
            "recall5_int8_queries_fp32_index": round(rmix, 4),
            "difference": round(r8 - r32, 4),
            **(
                {"fp32_build_passages_per_second": round(rep32.passages_per_second, 1)}
                if rep32.embedded
                else {}
            ),
        }
        del fp32, mixed
        log("XQuAD English (fp32 and int8 indexes) ...")
        xquad = xquad_recall(torch_model, onnx_model)
        if xquad is not None:
            result["quality_xquad_en"] = xquad

    log("question latency on the dev index ...")
    result["questions_dev"] = bench_questions(
        int8, [q["question"] for q in questions], 1 if args.quick else 3
    )

    log("re-index ...")
    result["reindex"] = bench_reindex(int8_dir, articles, onnx_model, work, runs=2 if args.quick else 4)

    env = os.environ | {"PYTHONPATH": str(ROOT), "NEWSBOT_CACHE": str(cache)}
    log("start-up and memory ...")
    result["startup"] = bench_startup(int8_dir, questions[0]["question"], env, runs=3 if args.quick else 5)
    result["memory"] = bench_serving_memory(int8_dir, [q["question"] for q in questions], env)
    result["disk"] = disk_usage(int8_dir, report.passages)
    del int8, torch_model

    log(f"{scale:,} synthetic passages ...")
    sizes = [s for s in (25_000, 50_000, 100_000, 200_000, 1_000_000) if s <= scale]
    result["scale"] = bench_scale(scale, 100 if args.quick else 200, sizes)
    result["load_average"] = {"start": load_start, "end": [round(x, 2) for x in os.getloadavg()]}
    print(table(result), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
