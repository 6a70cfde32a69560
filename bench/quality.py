"""Answer quality on the RealTime QA news sets: quotes, hits, articles, short answers, abstention.

    python bench/quality.py [--set dev|2024] [--index DIR] [--rebuild] [--max-words N]
                            [--backend onnx|torch] [--model multilingual|DIR]
                            [--store postgresql://…|auto] [--sweep] [--calibrate] [--dates] [--latency]
                            [--limit N]

Answer recall@k (k = 1, 3, 5): the gold answer string (case-insensitive) occurs in
the top-k quotes (what the user reads), in the top-k hits (the retrieved spans the
quotes come from), or in the top-k hits' articles; ``words@1`` is the first text's mean
length (a longer text holds the answer more often). BM25 alone and dense alone are
measured in the same run, through the whole pipeline and as plain passages (the
store's top-k passages, nothing merged: the baselines the quotes must beat).
Short answers: SQuAD exact match over all questions, the share given one, and the
match among those given. Abstention: the off-period questions (their answer is in
no article) declined, beside the answerable questions still answered, and the
whole curve over the confidence threshold. ``--dates``: everything again with each
question asked as of its own date (nothing published later quoted; its time words and
the recency prior at work), and the gain. ``--latency``: each question timed undated and dated
back to back (what a date costs). Prints one JSON object on stdout and
tables on stderr. The index is built once under the shared cache (INDEX_CACHE).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from datetime import date
from functools import lru_cache
from itertools import product
from pathlib import Path

from common import (
    INDEX_CACHE,
    SETS,
    copy_into,
    database,
    percentile,
    print_table,
    read_jsonl,
    squad_normalize,
)

from retrieval.answer.readers import READERS, Reader, Reading, open_reader
from retrieval.answer.readers.rules import RulesReader
from retrieval.archive import Archive
from retrieval.embedding import Embedder
from retrieval.ingest.chunking import ChunkingParams
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.types import Answer, AsOf

KS = (1, 3, 5)
SYSTEMS = (("lexical", "bm25"), ("dense", "dense"), ("hybrid", "newsbot"))


def recall(texts: list[list[str]], golds: list[str]) -> dict[str, float]:
    """recall@k and MRR of ranked texts per question against gold answer strings."""
    row: dict[str, float] = {}
    found = [
        next((rank for rank, t in enumerate(ranked, 1) if gold.lower() in t.lower()), None)
        for ranked, gold in zip(texts, golds, strict=True)
    ]
    n = max(1, len(golds))
    for k in KS:
        row[f"recall@{k}"] = round(sum(r is not None and r <= k for r in found) / n, 3)
    row["mrr"] = round(sum(1 / r for r in found if r is not None) / n, 3)
    # how much the reader reads: a longer text holds the answer more often
    firsts = [len(ranked[0].split()) for ranked in texts if ranked]
    row["words@1"] = round(sum(firsts) / max(1, len(firsts)), 1)
    return row


def recall_row(
    name: str, answers: list[Answer], golds: list[str], latencies: list[float]
) -> dict[str, float | str]:
    """One system's quote recall, share answered and latency (bench/multilingual.py's rows)."""
    row: dict[str, float | str] = {"system": name}
    row |= {k: v for k, v in recall(quote_texts(answers), golds).items() if k != "words@1"}
    row["answered"] = round(sum(a.answered for a in answers) / max(1, len(answers)), 3)
    row["p50_ms"] = round(percentile(latencies, 50) * 1000, 1)
    row["p95_ms"] = round(percentile(latencies, 95) * 1000, 1)
    return row


def quote_texts(answers: list[Answer]) -> list[list[str]]:
    return [[q.text for q in a.quotes] for a in answers]


def hit_texts(answers: list[Answer]) -> list[list[str]]:
    return [[h.text for h in a.hits] for a in answers]


def article_texts(answers: list[Answer]) -> list[list[str]]:
    return [[h.article.text for h in a.hits] for a in answers]


def day(question: dict) -> date:
    """The day a question was asked (``date``: 2024/01/05 or 2024-01-05)."""
    return date.fromisoformat(str(question["date"]).replace("/", "-")[:10])


def ask_all(
    archive: Archive, questions: list[dict], mode: str, k: int = 5, dated: bool = False
) -> tuple[list[Answer], list[float]]:
    """Every question answered; ``dated``: as of the day it was asked (given explicitly, so
    nothing published later is quoted)."""
    answers, latencies = [], []
    for q in questions:
        t0 = time.perf_counter()
        as_of = AsOf(day(q), given=True) if dated else None
        answers.append(archive.ask(q["question"], k=k, mode=mode, as_of=as_of))
        latencies.append(time.perf_counter() - t0)
    return answers, latencies


def plain_passages(archive: Archive, questions: list[dict], mode: str, k: int = 5) -> list[list[str]]:
    """The store's own top-k passages (dense or BM25), as they are indexed (no dates)."""
    store, out = archive.store, []
    for q in questions:
        query = archive.retriever.query(q["question"], mode=mode)
        if mode == "dense":
            found = store.dense_search(query.vector, k) if query.vector is not None else []
        else:
            found = store.lexical_search(query.terms, k)
        located = store.locate([row for row, _ in found])
        out.append([located[row].article.text[located[row].start : located[row].end] for row, _ in found])
    return out


def short_answer_row(answers: list[Answer], golds: list[str]) -> dict[str, float]:
    given = [(a.short, g) for a, g in zip(answers, golds, strict=True) if a.short is not None]
    exact = sum(squad_normalize(s.text) == squad_normalize(g) for s, g in given)
    n = max(1, len(golds))
    return {
        "em": round(exact / n, 3),
        "given": round(len(given) / n, 3),
        "em_given": round(exact / max(1, len(given)), 3),
        "in_quote1": round(
            sum(
                bool(a.quotes) and g.lower() in a.quotes[0].text.lower()
                for a, g in zip(answers, golds, strict=True)
            )
            / n,
            3,
        ),
    }


def abstention(answerable: list[Answer], offperiod: list[Answer], floor: float) -> dict[str, float]:
    return {
        "offperiod_declined": round(sum(not a.answered for a in offperiod) / max(1, len(offperiod)), 3),
        "answerable_answered": round(sum(a.answered for a in answerable) / max(1, len(answerable)), 3),
        "min_confidence": floor,
    }


def abstention_curve(answerable: list[Answer], offperiod: list[Answer]) -> list[dict[str, float]]:
    """Declined and answered shares for each threshold on ``Answer.confidence``."""
    rows = []
    for step in range(0, 21):
        t = step / 20
        rows.append(
            {
                "threshold": t,
                "offperiod_declined": round(
                    sum(a.confidence < t for a in offperiod) / max(1, len(offperiod)), 3
                ),
                "answerable_answered": round(
                    sum(a.confidence >= t for a in answerable) / max(1, len(answerable)), 3
                ),
            }
        )
    return rows


def build(
    folder: Path, index_dir: Path, chunking: ChunkingParams, backend: str, rebuild: bool, model: str | None
) -> dict:
    report = refresh(
        index_dir,
        [folder / "articles.jsonl"],
        model,
        chunking,
        full=rebuild,
        backend=backend,
        cache_dir=INDEX_CACHE / "models",
    )
    return report.as_dict() | {"added": len(report.added)}


def evaluate(
    archive: Archive, questions: list[dict], offperiod: list[dict] | None = None, dated: bool = False
) -> dict:
    """Every measure of one archive: per system quotes / hits / articles, the passage
    baselines, short answers and abstention; ``dated``: each question as of its day."""
    golds = [q["answer"] for q in questions]
    rows: list[dict] = []
    answers_by: dict[str, list[Answer]] = {}
    tag = " (dates)" if dated else ""
    for mode, name in SYSTEMS:
        answers, lat = ask_all(archive, questions, mode, dated=dated)
        answers_by[name] = answers
        timing = {
            "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p95_ms": round(percentile(lat, 95) * 1000, 1),
        }
        rows.append({"system": f"{name} quotes{tag}"} | recall(quote_texts(answers), golds) | timing)
        rows.append({"system": f"{name} hits{tag}"} | recall(hit_texts(answers), golds))
        rows.append({"system": f"{name} articles{tag}"} | recall(article_texts(answers), golds))
    # the same quotes when the archive never declines (a declined question shows at most
    # two nearest passages, so recall@3/5 above also pays for the abstention)
    always = Archive(
        archive.retriever, replace(archive.quote_params, min_confidence=0.0), NeverDeclining(archive.reader)
    )
    always.sentences = archive.sentences
    answers, _ = ask_all(always, questions, "hybrid", dated=dated)
    rows.append({"system": f"newsbot quotes, never declining{tag}"} | recall(quote_texts(answers), golds))
    never_declining = rows[-1]
    rules_answers: list[Answer] = []
    if archive.reader.name != "rules":  # today's composer, the baseline the reader must beat
        rules = Archive(archive.retriever, archive.quote_params, RulesReader())
        rules.sentences = archive.sentences
        rules_answers, lat = ask_all(rules, questions, "hybrid", dated=dated)
        rows.append(
            {"system": f"rules quotes{tag}"}
            | recall(quote_texts(rules_answers), golds)
            | {"p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1)}
        )
    for mode, name in SYSTEMS[:2]:
        rows.append({"system": f"{name} passages"} | recall(plain_passages(archive, questions, mode), golds))
    newsbot = answers_by["newsbot"]
    result: dict = {"systems": rows, "reader": archive.reader.name, "short": short_answer_row(newsbot, golds)}
    if rules_answers:
        result["short_rules"] = short_answer_row(rules_answers, golds)
    baseline = {
        f"recall@{k}": max(float(r[f"recall@{k}"]) for r in rows if r["system"].endswith("passages"))
        for k in KS
    }
    quotes = next(r for r in rows if r["system"] == f"newsbot quotes{tag}")
    result["beats_passages_never_declining"] = {
        f"recall@{k}": never_declining[f"recall@{k}"] > baseline[f"recall@{k}"] for k in KS
    }
    result["beats_passages"] = {f"recall@{k}": quotes[f"recall@{k}"] > baseline[f"recall@{k}"] for k in KS}
    if offperiod:
        off, _ = ask_all(archive, offperiod, "hybrid", dated=dated)
        floor = (
            archive.reader.min_confidence
            if archive.reader.name != "rules"
            else archive.quote_params.min_confidence
        )
        result["abstention"] = abstention(newsbot, off, floor)
        result["abstention_curve"] = abstention_curve(newsbot, off)
        if rules_answers:
            off_rules, _ = ask_all(rules, offperiod, "hybrid", dated=dated)
            result["abstention_rules"] = abstention(
                rules_answers, off_rules, archive.quote_params.min_confidence
            )
    return result


class NeverDeclining(Reader):
    """A reader's scores with every question answered (its confidence kept for the curve)."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def min_span(self) -> float:  # type: ignore[override]
        return self.inner.min_span

    def reads(self, query):  # type: ignore[no-untyped-def]
        return self.inner.reads(query)

    def read(self, query, candidates) -> Reading:  # type: ignore[no-untyped-def]
        return self.inner.read(query, candidates)


class QueryCache(Embedder):
    """Remembers question vectors so a parameter sweep embeds each question once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.traits = inner, inner.name, inner.dim, inner.traits
        self.embed_query = lru_cache(maxsize=None)(inner.embed_query)  # type: ignore[method-assign]

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed_batch(texts)


def sweep(archive: Archive, questions: list[dict]) -> list[dict]:
    """Quote recall for a coarse grid of fusion weights and candidate depths."""
    golds = [q["answer"] for q in questions]
    cached = QueryCache(archive.embedder)
    rows = []
    base = archive.retriever.params
    for dense_w, rrf_k in product((1.0, 1.5, 2.0, 3.0), (20, 60)):
        fusion = replace(base, dense_weight=dense_w, rrf_k=rrf_k)
        variant = Archive(Retriever(archive.store, cached, fusion), archive.quote_params)
        variant.sentences = archive.sentences
        answers, _ = ask_all(variant, questions, "hybrid")
        rows.append(
            {"dense_w": dense_w, "rrf_k": rrf_k}
            | recall(quote_texts(answers), golds)
            | {f"hits@{k}": recall(hit_texts(answers), golds)[f"recall@{k}"] for k in KS}
        )
    rows.sort(key=lambda r: -(float(r["recall@1"]) + float(r["recall@3"]) + float(r["recall@5"])))
    return rows


def dated_latency(archive: Archive, questions: list[dict], rounds: int = 3) -> dict:
    """What a question's date costs: each question asked undated and dated back to back
    (alternating which goes first), ``rounds`` times; p50/p95 of each and the difference."""
    undated: list[float] = []
    dated: list[float] = []
    for r in range(rounds):
        for n, q in enumerate(questions):
            for with_date in (False, True) if (n + r) % 2 == 0 else (True, False):
                t0 = time.perf_counter()
                as_of = AsOf(day(q), given=True) if with_date else None
                archive.ask(q["question"], k=5, as_of=as_of)
                (dated if with_date else undated).append(time.perf_counter() - t0)
    row = {}
    for name, lat in (("undated", undated), ("dated", dated)):
        row[f"{name}_p50_ms"] = round(percentile(lat, 50) * 1000, 1)
        row[f"{name}_p95_ms"] = round(percentile(lat, 95) * 1000, 1)
    row["p50_difference_ms"] = round(row["dated_p50_ms"] - row["undated_p50_ms"], 1)
    return row


def compare_postgresql(archive: Archive, questions: list[dict], url: str) -> dict:
    """The same passages and vectors in PostgreSQL + pgvector: recall beside FAISS's."""
    from retrieval.store.pg import PgStore

    url, cleanup = database(url)
    store = PgStore(url)
    try:
        seconds = copy_into(archive.store.snapshot, store)  # type: ignore[attr-defined]
        pg = Archive(Retriever(store, archive.embedder, archive.retriever.params))
        pg.ask("warm-up question")
        rows = [dict(row, system=f"pg-{row['system']}") for row in evaluate(pg, questions)["systems"]]
        return {"ef_search": store.ef_search, "load_seconds": round(seconds, 1), "systems": rows}
    finally:
        store.close()
        cleanup()


def _row(measured: dict, system: str) -> dict:
    return next(r for r in measured["systems"] if r["system"] == system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="dev", choices=sorted(SETS), help="which news set (default: dev)")
    ap.add_argument("--index", type=Path, help="index folder (default: one per set under the shared cache)")
    ap.add_argument("--max-words", type=int, default=ChunkingParams().max_words)
    ap.add_argument("--overlap", type=int, default=ChunkingParams().overlap_sentences)
    ap.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    ap.add_argument("--model", help="'multilingual' or a model folder (default: the English default)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (quick checks)")
    ap.add_argument("--sweep", action="store_true", help="also try a grid of fusion weights")
    ap.add_argument("--calibrate", action="store_true", help="also print the whole abstention curve")
    ap.add_argument(
        "--dates", action="store_true", help="also every figure with each question as of its own date"
    )
    ap.add_argument(
        "--latency", action="store_true", help="also time undated and dated questions back to back"
    )
    ap.add_argument(
        "--store", help="also measure PostgreSQL: a postgresql:// URL, or 'auto' for a temporary server"
    )
    ap.add_argument(
        "--reader",
        default="learned",
        choices=READERS,
        help="what scores the sentences (default learned; the rules are measured beside it)",
    )
    args = ap.parse_args()
    folder = SETS[args.set]
    if not (folder / "articles.jsonl").exists():
        raise SystemExit(f"news set not found at {folder} (set NEWSBOT_EVAL to the eval folder)")
    suffix = f"-{Path(args.model).name}" if args.model else ""
    index_dir = args.index or INDEX_CACHE / f"rtqa-{args.set}-{args.max_words}w-{args.overlap}o{suffix}"
    chunking = ChunkingParams(args.max_words, args.overlap)
    built = build(folder, index_dir, chunking, args.backend, args.rebuild, args.model)
    archive = Archive.open(
        index_dir, backend=args.backend, cache_dir=INDEX_CACHE / "models", reader=open_reader(args.reader)
    )
    questions = read_jsonl(folder / "questions.jsonl")
    offperiod = read_jsonl(folder / "offperiod.jsonl")
    if args.limit:
        questions, offperiod = questions[: args.limit], offperiod[: args.limit]
    archive.ask("warm-up question")
    t0 = time.perf_counter()
    measured = evaluate(archive, questions, offperiod)
    result = {
        "dataset": str(folder),
        "set": args.set,
        "questions": len(questions),
        "offperiod_questions": len(offperiod),
        "index": {
            "dir": str(index_dir),
            "passages": built["passages"],
            "max_words": args.max_words,
            "overlap": args.overlap,
        },
        "seconds": round(time.perf_counter() - t0, 1),
    } | measured
    rows = measured["systems"]
    if args.dates:
        dated = evaluate(archive, questions, offperiod, dated=True)
        result["dated"] = dated
        result["dates_gain"] = {
            f"recall@{k}": round(
                float(_row(dated, "newsbot quotes (dates)")[f"recall@{k}"])
                - float(_row(measured, "newsbot quotes")[f"recall@{k}"]),
                3,
            )
            for k in KS
        }
        rows = rows + [r for r in dated["systems"] if not r["system"].endswith("passages")]
    if args.latency:
        result["dated_latency"] = dated_latency(archive, questions)
    if args.store:
        result["postgresql"] = compare_postgresql(archive, questions, args.store)
        rows = rows + result["postgresql"]["systems"]
    if args.sweep:
        result["sweep"] = sweep(archive, questions)
    print(json.dumps(result))
    print_table(
        rows, f"answer recall on {len(questions)} {args.set} questions ({built['passages']} passages)"
    )
    print_table([measured["short"]], f"short answers (SQuAD exact match), {archive.reader.name} reader")
    if "short_rules" in measured:
        print_table([measured["short_rules"]], "short answers, rules reader")
    if "abstention" in measured:
        print_table(
            [measured["abstention"]], f"abstention at the default threshold, {archive.reader.name} reader"
        )
        if "abstention_rules" in measured:
            print_table([measured["abstention_rules"]], "abstention, rules reader")
        if args.calibrate:
            print_table(measured["abstention_curve"], "abstention curve over Answer.confidence")
    if args.dates:
        print_table([result["dated"]["short"]], "short answers with dates")
        if "abstention" in result["dated"]:
            print_table([result["dated"]["abstention"]], "abstention with dates")
        print_table([result["dates_gain"]], "quotes: with dates minus without")
    if args.latency:
        print_table([result["dated_latency"]], "question latency, undated and dated back to back")
    if args.sweep:
        print_table(result["sweep"][:12], "best of the sweep")


if __name__ == "__main__":
    main()
