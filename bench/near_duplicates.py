"""Near-duplicate story groups on an eval set: counts, outlets, speed and memory per threshold.

    PYTHONPATH=. python bench/near_duplicates.py [--set dev|2024] [--thresholds 0.5,0.6,0.7,0.8,0.9]
        [--pairs 30] [--simhash]

For each threshold: groups of more than one article, grouped articles, member pairs
across outlets (URL hosts) and within one, member pairs whose exact shingle Jaccard is
below half the threshold (single-link chains), recall of the exact pairs at or above the
threshold (both in one group), groups with the boilerplate guard off, and the time to
group. Exact Jaccard comes from the shingle sets (an inverted index over shingles held
by at most 30 articles). ``--pairs N`` prints up to N pairs per Jaccard band (title,
host, first 300 characters) on stderr for judging by hand; ``--simhash`` compares 64-bit
simhash fingerprints against the exact pairs. Prints one JSON object on stdout and a
table on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import replace
from itertools import combinations, pairwise
from typing import Any
from urllib.parse import urlparse

import numpy as np
from common import EVAL, peak_rss_mb, print_table

from retrieval.store.near_duplicates import DuplicateParams, StoryGroups, shingle_hashes, signature_of_hashes

SETS = {"dev": "realtimeqa-dev", "2024": "realtimeqa-2024"}
RARE = 30  # shingles held by more articles do not propose exact pairs


def load(name: str) -> list[dict[str, str]]:
    path = EVAL / SETS[name] / "articles.jsonl"
    if not path.exists():
        sys.exit(f"eval set not found at {path} (set NEWSBOT_EVAL to the eval folder)")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def host(url: str) -> str:
    h = urlparse(url).netloc.lower()
    return h[4:] if h.startswith("www.") else h


def exact_pairs(shingles: list[np.ndarray], floor: float = 0.2) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair sharing rare shingles, kept when at least ``floor``."""
    parts = [s for s in shingles if len(s)]
    if not parts:
        return {}
    h = np.concatenate(parts)
    d = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(shingles) if len(s)])
    order = np.argsort(h, kind="stable")
    h, d = h[order], d[order]
    _, start, count = np.unique(h, return_index=True, return_counts=True)
    shared: Counter[tuple[int, int]] = Counter()
    for s, c in zip(start[(count > 1) & (count <= RARE)], count[(count > 1) & (count <= RARE)], strict=True):
        shared.update(combinations(d[s : s + c].tolist(), 2))
    out = {}
    for (a, b), c in shared.items():
        if c < 3:
            continue
        inter = len(np.intersect1d(shingles[a], shingles[b], assume_unique=True))
        j = inter / (len(shingles[a]) + len(shingles[b]) - inter)
        if j >= floor:
            out[(a, b)] = j
    return out


def simhash(shingles: np.ndarray) -> int:
    if not len(shingles):
        return 0
    h = shingles.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    bits = np.unpackbits(h.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    return int(np.packbits(bits.mean(axis=0) > 0.5, bitorder="little").view(np.uint64)[0])


def simhash_rows(
    shingles: list[np.ndarray], exact: dict[tuple[int, int], float], threshold: float
) -> list[dict[str, Any]]:
    fps = np.array([simhash(s) for s in shingles], dtype=np.uint64)
    live = np.array([len(s) > 0 for s in shingles])
    truth = {p for p, j in exact.items() if j >= threshold}
    rows = []
    found: dict[int, set[tuple[int, int]]] = {k: set() for k in (3, 6, 10)}
    idx = np.flatnonzero(live)
    for pos, i in enumerate(idx[:-1]):
        rest = idx[pos + 1 :]
        x = np.bitwise_xor(fps[rest], fps[i])
        dist = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        for k in found:
            found[k].update((int(i), int(j)) for j in rest[dist <= k])
    for k, pairs in found.items():
        hit = len(pairs & truth)
        rows.append(
            {
                "method": f"simhash<= {k} bits",
                "pairs": len(pairs),
                f"of them J>={threshold}": hit,
                "precision": round(hit / len(pairs), 3) if pairs else 0.0,
                "recall": round(hit / len(truth), 3) if truth else 0.0,
            }
        )
    return rows


def group_once(sigs: np.ndarray, ids: list[str], params: DuplicateParams) -> tuple[StoryGroups, float, int]:
    """The groups, seconds to build them, and bytes they hold (a second, traced build)."""
    t0 = time.perf_counter()
    groups = StoryGroups(params)
    groups.add_many(zip(ids, sigs, strict=True))
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    traced = StoryGroups(params)
    traced.add_many(zip(ids, sigs, strict=True))
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return groups, seconds, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=sorted(SETS), default="dev")
    ap.add_argument("--thresholds", default="0.5,0.6,0.7,0.8,0.9")
    ap.add_argument("--pairs", type=int, default=0, help="pairs to print per Jaccard band")
    ap.add_argument("--bands", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.01")
    ap.add_argument("--simhash", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    arts = load(args.set)
    ids = [a["id"] for a in arts]
    hosts = [host(a["url"]) for a in arts]
    base = DuplicateParams()
    t0 = time.perf_counter()
    shingles = [shingle_hashes(a["text"], base) for a in arts]
    t_shingle = time.perf_counter() - t0
    t0 = time.perf_counter()
    sigs = np.stack([signature_of_hashes(s, base) for s in shingles])
    t_sig = time.perf_counter() - t0 + t_shingle
    t0 = time.perf_counter()
    exact = exact_pairs(shingles)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    StoryGroups(base)._index()  # datasketch (and scipy) load here, once, outside the timings below
    t_import = time.perf_counter() - t0
    same_text = Counter(a["text"] for a in arts)
    row_of = {i: k for k, i in enumerate(ids)}

    rows = []
    for th in [float(x) for x in args.thresholds.split(",")]:
        params = replace(base, threshold=th)
        groups, seconds, size = group_once(sigs, ids, params)
        unguarded, _, _ = group_once(sigs, ids, replace(params, template_sharers=10**9))
        found = groups.groups()
        cross = within = chained = identical = 0
        copies_only = sum(len({arts[row_of[m]]["text"] for m in members}) == 1 for members in found.values())
        for members in found.values():
            for a, b in combinations([row_of[m] for m in members], 2):
                if hosts[a] == hosts[b]:
                    within += 1
                else:
                    cross += 1
                if arts[a]["text"] == arts[b]["text"]:
                    identical += 1
                if exact.get((min(a, b), max(a, b)), 0.0) < th / 2:
                    chained += 1
        truth = [p for p, j in exact.items() if j >= th]
        kept = sum(groups.group_of(ids[a]) == groups.group_of(ids[b]) for a, b in truth)
        rows.append(
            {
                "threshold": th,
                "groups": len(found),
                "groups_identical_text": copies_only,
                "grouped": sum(len(m) for m in found.values()),
                "largest": max((len(m) for m in found.values()), default=0),
                "pairs_cross_outlet": cross,
                "pairs_same_outlet": within,
                "pairs_identical_text": identical,
                "pairs_J<t/2": chained,
                "exact_pairs>=t": len(truth),
                "recall": round(kept / len(truth), 3) if truth else 1.0,
                "groups_unguarded": len(unguarded.groups()),
                "group_s": round(seconds, 3),
                "articles_per_s": round(len(arts) / seconds),
                "index_bytes_per_article": round(size / len(arts)),
            }
        )
    print_table(rows, f"near-duplicate groups, {SETS[args.set]} ({len(arts)} articles)")

    bands = [float(x) for x in args.bands.split(",")]
    band_counts = []
    rng = random.Random(args.seed)
    for lo, hi in pairwise(bands):
        inside = sorted(p for p, j in exact.items() if lo <= j < hi)
        band_counts.append({"band": f"{lo:.1f}-{min(hi, 1.0):.1f}", "exact_pairs": len(inside)})
        if args.pairs:
            for a, b in sorted(rng.sample(inside, min(args.pairs, len(inside)))):
                print(f"--- J={exact[(a, b)]:.3f} [{lo:.1f}, {min(hi, 1.0):.1f})", file=sys.stderr)
                for k in (a, b):
                    art = arts[k]
                    print(f"  {art['published']} {hosts[k]} | {art['title']}", file=sys.stderr)
                    print(f"    {art['text'][:300]!r}", file=sys.stderr)
    print_table(band_counts, "exact shingle-Jaccard pairs per band")

    sim_rows = simhash_rows(shingles, exact, base.threshold) if args.simhash else []
    if sim_rows:
        print_table(sim_rows, "simhash against exact Jaccard")

    out = {
        "set": SETS[args.set],
        "articles": len(arts),
        "too_short": int(sum(1 for s in shingles if not len(s))),
        "identical_text_copies": sum(n - 1 for n in same_text.values() if n > 1),
        "signature_s": round(t_sig, 2),
        "signatures_per_s": round(len(arts) / t_sig),
        "signature_bytes": int(sigs[0].nbytes),
        "datasketch_import_s": round(t_import, 2),
        "exact_pairs_s": round(t_exact, 2),
        "thresholds": rows,
        "bands": band_counts,
        "simhash": sim_rows,
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
