"""Vector stores side by side: FAISS flat, FAISS HNSW and pgvector HNSW on the same passages.

    PYTHONPATH=. python bench/stores.py [--n 100000] [--queries 200] [--store postgresql://…|auto]

First the dev set's passages (real model vectors, from bench/quality.py's cached
index: built once if missing), then ``--n`` synthetic 384-dim unit vectors (the
clustered mixture of bench/speed.py) for scale. For each: build/load seconds,
p50/p95 latency of one query (top 10), recall@10 against exact search, and bytes
per passage (FAISS: the index file; PostgreSQL: the table and its indexes).
Prints one JSON object on stdout and a table on stderr.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from common import CACHE, DEV, copy_into, database, percentile, print_table, require_dev_set

from retrieval.store.faiss_index import HNSW_EF_SEARCH, build_faiss
from retrieval.store.pg import HNSW_EF_SEARCH as PG_EF_SEARCH
from retrieval.store.pg import PgStore
from retrieval.store.pg_schema import HNSW_EF_CONSTRUCTION, HNSW_M, SCHEMA
from retrieval.store.snapshots import load_snapshot

K = 10


def faiss_row(name: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, kind: str) -> dict:
    import faiss

    faiss.omp_set_num_threads(1)
    t0 = time.perf_counter()
    index, _ = build_faiss(vectors, kind)
    build = time.perf_counter() - t0
    lat, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), K)  # type: ignore[attr-defined]
        lat.append(time.perf_counter() - t0)
        found.append(ids[0])
    return row(
        name, f"faiss-{kind}", len(vectors), build, lat, found, truth, len(faiss.serialize_index(index))
    )


def row(
    data: str, store: str, n: int, build: float, lat: list[float], found: list, truth: np.ndarray, size: int
) -> dict[str, Any]:
    recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)])
    return {
        "data": data,
        "store": store,
        "passages": n,
        "build_s": round(build, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 2),
        "p95_ms": round(percentile(lat, 95) * 1000, 2),
        "recall@10": round(float(recall), 3),
        "bytes_per_passage": round(size / n),
    }


def pg_search(conn: Any, table: str, queries: np.ndarray, ef: int) -> tuple[list[float], list]:
    lat, found = [], []
    conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(ef)])
    for q in queries:
        t0 = time.perf_counter()
        ids = conn.execute(f"SELECT id FROM {table} ORDER BY embedding <=> %s LIMIT {K}", [q]).fetchall()
        lat.append(time.perf_counter() - t0)
        found.append([i for (i,) in ids])
    return lat, found


def dev_rows(url: str, queries_n: int, rng: np.random.Generator) -> list[dict]:
    """The dev set: the FAISS index bench/quality.py caches, then the same passages in PostgreSQL."""
    from quality import build

    from retrieval.ingest.chunking import ChunkingParams

    params = ChunkingParams()
    folder = CACHE / f"dev-index-{params.max_words}w-{params.overlap_sentences}o"
    build(folder, params.max_words, params.overlap_sentences, "onnx", rebuild=False)
    snap = load_snapshot(folder, mmap=False)
    vectors = np.ascontiguousarray(snap.vectors(), dtype=np.float32)
    # Queries: passages nudged off themselves (questions land near, not on, their passage).
    queries = near(vectors, queries_n, rng)
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]
    rows = [faiss_row("dev", vectors, queries, truth, kind) for kind in ("flat", "hnsw")]
    store = PgStore(url)
    try:
        load = copy_into(snap, store)
        import psycopg
        from pgvector.psycopg import register_vector

        with psycopg.connect(url, autocommit=True) as conn:
            register_vector(conn)
            lat, ids = pg_search(conn, f"{SCHEMA}.passages", queries, store.ef_search)
            # Row ids in PostgreSQL follow the articles' order: map them back by text offsets.
            where = {
                (a, s): i
                for i, (a, s) in enumerate(
                    zip(snap.passages["article"].tolist(), snap.passages["start"].tolist(), strict=True)
                )
            }
            article_pos = {a.id: n for n, a in enumerate(snap.articles)}
            back = {
                pid: where[(article_pos[aid], start)]
                for pid, aid, start in conn.execute(f"SELECT id, article_id, start FROM {SCHEMA}.passages")
            }
            found = [[back[i] for i in f] for f in ids]
            (vector_bytes,) = conn.execute(f"SELECT pg_total_relation_size('{SCHEMA}.passages')").fetchone()  # type: ignore[misc]
            (all_bytes,) = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                [SCHEMA],
            ).fetchone()  # type: ignore[misc]
        pg = row("dev", "pgvector-hnsw", len(vectors), load, lat, found, truth, int(vector_bytes))
        pg["all_tables_bytes_per_passage"] = round(int(all_bytes) / len(vectors))
        rows.append(pg)
    finally:
        store.close()
    return rows


def near(vectors: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    picks = vectors[rng.integers(0, len(vectors), n)]
    q = picks + (0.6 / np.sqrt(vectors.shape[1])) * rng.standard_normal(picks.shape).astype(np.float32)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def synthetic_rows(
    url: str, n: int, queries_n: int, rng: np.random.Generator, ef_search: list[int]
) -> list[dict]:
    import psycopg
    from pgvector.psycopg import register_vector
    from speed import clustered_vectors

    vectors = clustered_vectors(n, rng)
    queries = near(vectors, queries_n, rng)
    truth = np.stack([np.argsort(-(vectors @ q), kind="stable")[:K] for q in queries])
    rows = [faiss_row("synthetic", vectors, queries, truth, kind) for kind in ("flat", "hnsw")]
    dim = vectors.shape[1]
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS bench_vectors")
        conn.execute(f"CREATE TABLE bench_vectors (id integer PRIMARY KEY, embedding vector({dim}) NOT NULL)")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")  # two cores, shared
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_vectors (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp,
        ):
            cp.set_types(["int4", "vector"])
            for i, v in enumerate(vectors):
                cp.write_row((i, v))
        loaded = time.perf_counter() - t0
        conn.execute(
            "CREATE INDEX ON bench_vectors USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )
        built = time.perf_counter() - t0
        conn.execute("VACUUM ANALYZE bench_vectors")
        (size,) = conn.execute("SELECT pg_total_relation_size('bench_vectors')").fetchone()  # type: ignore[misc]
        for ef in ef_search:
            lat, found = pg_search(conn, "bench_vectors", queries, ef)
            name = "pgvector-hnsw" if ef == PG_EF_SEARCH else f"pgvector-hnsw-ef{ef}"
            pg = row("synthetic", name, n, built, lat, found, truth, int(size))
            pg["copy_s"], pg["ef_search"] = round(loaded, 1), ef
            rows.append(pg)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--n", type=int, default=100_000, help="synthetic passages (1M asks for ~1h of pgvector build)"
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--store", default="auto", help="a postgresql:// URL, or 'auto' for a temporary server")
    ap.add_argument("--skip-dev", action="store_true", help="only the synthetic vectors")
    ap.add_argument(
        "--ef-search",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[PG_EF_SEARCH],
        help=f"pgvector hnsw.ef_search values to try on the synthetic vectors (default {PG_EF_SEARCH})",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    url, cleanup = database(args.store)
    try:
        rows: list[dict] = []
        if not args.skip_dev:
            require_dev_set()
            rows += dev_rows(url, args.queries, rng)
        rows += synthetic_rows(url, args.n, args.queries, rng, args.ef_search)
    finally:
        cleanup()
    result = {
        "dev_set": str(DEV),
        "k": K,
        "faiss_hnsw_ef_search": HNSW_EF_SEARCH,
        "pgvector": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION},
        "rows": rows,
    }
    print(json.dumps(result))
    columns = ["data", "store", "passages", "build_s", "p50_ms", "p95_ms", "recall@10", "bytes_per_passage"]
    print_table([{c: r[c] for c in columns} for r in rows], "vector stores: one query, top 10")


if __name__ == "__main__":
    main()
