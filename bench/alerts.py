"""Topic alerts: precision / recall of the match threshold on the dev sets, and matching speed.

    PYTHONPATH=. python bench/alerts.py [--set 2024|dev|both] [--index-2024 DIR] [--index-dev DIR]
                                        [--sweep] [--topics 1000] [--new 100]

Topics come from the quiz questions: the question without its wh-words, stopwords and
quiz phrasing, its six rarest words in their order ("keywords"), or its three rarest
("short"). For each topic every article of the set is treated as newly arrived. An
article is *about* the topic when it holds the question's gold answer or is among the ten
articles newsbot's retrieval ranks first for the question, and was published in the two
weeks before the question (or the day after); the same articles published outside that
window (older coverage of the story) count neither way; every other article is *not
about* it. As in live use, only the articles published from 30 days before the question
to 7 days after count as arriving while the topic is followed (``whole_set_at_default``:
every article of the set, from 2014 on, treated as new). Precision = alerts on articles
about the topic / alerts on about + not-about; recall = articles about it that alerted. The labels are a proxy: an article of
another week about the same ongoing story counts as not about it, so precision is a
lower bound (bench/alerts.py --sample prints alerts to judge by eye).
Speed: one refresh of ``--new`` articles matched against ``--topics`` topics with
:class:`retrieval.live.alerts.TopicMatcher`, cold (topic vectors embedded) and warm.

JSON on stdout, tables on stderr. Indexes: the real model's (all-MiniLM-L6-v2, 120-word
passages); built under bench/results/ when not given.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CACHE, EVAL, percentile, print_table
from retrieval.archive import Archive
from retrieval.live.alerts import AlertParams, TopicMatcher, article_passages, scores, topic_queries
from retrieval.text import STOPWORDS, terms

SETS = {"dev": "realtimeqa-dev", "2024": "realtimeqa-2024"}
WINDOW_DAYS = 14  # a question's "weeks": the fortnight before it (and the day after)
RETRIEVED = 10  # articles retrieved for a question that count as about it
#: the articles that "arrive" while a topic is followed: published from 30 days before its
#: question to 7 days after (older articles of the set would never arrive as new)
ARRIVALS = (30, 7)
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
THRESHOLDS = tuple(round(0.30 + 0.02 * i, 2) for i in range(31))
QUIZ_WORDS = {
    "which",
    "what",
    "who",
    "whom",
    "whose",
    "where",
    "when",
    "why",
    "how",
    "week",
    "recently",
    "latest",
    "according",
    "following",
    "name",
    "named",
    "announced",
    "reportedly",
    "new",
    "first",
    "year",
    "many",
    "much",
    "country",
    "company",
    "state",
    "city",
    "person",
}
_WORD = re.compile(r"[\w'’.-]+")


def keyword_topic(question: str, idf: dict[str, float], n: int = 6) -> str:
    """The question's ``n`` rarest content words, in their order."""
    words = [w.strip(".'’-") for w in _WORD.findall(question)]
    words = [w for w in words if w and w.lower() not in STOPWORDS and w.lower() not in QUIZ_WORDS]
    ranked = sorted(
        range(len(words)), key=lambda i: -max((idf.get(t, 0.0) for t in terms(words[i])), default=0.0)
    )
    keep = sorted(ranked[:n])
    return " ".join(words[i] for i in keep)


def load(folder: Path) -> tuple[list[dict], list[dict]]:
    def read(name: str) -> list[dict]:
        with open(folder / name, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    return read("articles.jsonl"), read("questions.jsonl")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.replace("/", "-")[:10])
    except ValueError:
        return None


def labels(articles: list[dict], questions: list[dict], retrieved: list[set[str]]) -> np.ndarray:
    """(articles, questions): 1 about (holds the gold answer or is among the articles newsbot
    retrieves for the question, and is of its weeks), 0 not about, -1 ignored (the same but
    published outside those weeks: older or later coverage of the story)."""
    out = np.zeros((len(articles), len(questions)), dtype=np.int8)
    lowered = [a["text"].lower() for a in articles]
    days = [_day(a.get("published") or "") for a in articles]
    for j, q in enumerate(questions):
        gold = q["answer"].lower()
        asked = _day(q["date"])
        pattern = re.compile(r"(?<!\w)" + re.escape(gold) + r"(?!\w)")
        for i, text in enumerate(lowered):
            if articles[i]["id"] in retrieved[j] or (gold in text and pattern.search(text)):
                d = days[i]
                recent = (
                    asked is not None
                    and d is not None
                    and asked - timedelta(days=WINDOW_DAYS) <= d <= asked + timedelta(days=1)
                )
                out[i, j] = 1 if recent else -1
    return out


def retrieved_for(archive: Archive, questions: list[dict], k: int = RETRIEVED) -> list[set[str]]:
    """The ``k`` articles newsbot's retrieval ranks first for each question."""
    found = []
    for q in questions:
        hits = archive.retriever.search(archive.retriever.query(q["question"]), k=4 * k)
        found.append(set(list(dict.fromkeys(h.article.id for h in hits))[:k]))
    return found


def open_index(name: str, given: Path | None) -> Archive:
    from retrieval.ingest.indexer import refresh

    index = given or CACHE / f"alerts-{name}"
    if given is None:
        refresh(index, [EVAL / SETS[name] / "articles.jsonl"], None, cache_dir=CACHE / "models")
    return Archive.open(index, cache_dir=CACHE / "models")


def best_scores(
    archive: Archive, article_ids: list[str], topics: list[str], chunk: int = 250
) -> tuple[dict[float, np.ndarray], list[str]]:
    """Per dense weight, the best passage's fused score of every (article, topic); and the
    article ids in row order (articles the index lacks are left out)."""
    queries = topic_queries(archive, topics)
    best: dict = {w: [] for w in WEIGHTS}
    order: list[str] = []
    for lo in range(0, len(article_ids), chunk):
        passages = article_passages(archive, article_ids[lo : lo + chunk])
        dense, coverage = scores(queries, passages)
        for w in WEIGHTS:
            fused = w * dense + (1 - w) * coverage
            rows = np.full((len(passages.articles), len(topics)), -1.0, dtype=np.float32)
            np.maximum.at(rows, passages.owner, fused)
            best[w].append(rows)
        for name, values in (("dense", dense), ("coverage", coverage)):
            rows = np.full((len(passages.articles), len(topics)), -1.0, dtype=np.float32)
            np.maximum.at(rows, passages.owner, values)
            best.setdefault(name, []).append(rows)
        order.extend(a.id for a in passages.articles)
    return {w: np.concatenate(v) for w, v in best.items()}, order


def precision_recall(best: np.ndarray, truth: np.ndarray, threshold: float) -> dict:
    alert = best >= threshold
    about, not_about = truth == 1, truth == 0
    tp = int((alert & about).sum())
    fp = int((alert & not_about).sum())
    alerts = tp + fp
    return {
        "threshold": threshold,
        "alerts": alerts,
        "ignored_alerts": int((alert & (truth == -1)).sum()),
        "precision": round(tp / alerts, 3) if alerts else 1.0,
        "recall": round(tp / int(about.sum()), 3) if about.any() else 0.0,
    }


def evaluate(name: str, archive: Archive, sweep: bool, dump: Path | None = None, sample: int = 0) -> dict:
    articles, questions = load(EVAL / SETS[name])
    idf = archive.store.idfs(sorted({t for q in questions for t in terms(q["question"])}))
    styles = {
        "keywords": [keyword_topic(q["question"], idf) for q in questions],
        "short": [keyword_topic(q["question"], idf, 3) for q in questions],
    }
    truth_all = labels(articles, questions, retrieved_for(archive, questions))
    by_id = {a["id"]: i for i, a in enumerate(articles)}
    result: dict = {"set": name, "articles": len(articles), "questions": len(questions), "styles": {}}
    params = AlertParams()
    # one pass over the articles for every style's topics (columns split afterwards)
    columns: list[tuple[str, int]] = [
        (style, j) for style, topics in styles.items() for j, t in enumerate(topics) if t.strip()
    ]
    started = time.perf_counter()
    best_all, order = best_scores(archive, [a["id"] for a in articles], [styles[s][j] for s, j in columns])
    seconds = time.perf_counter() - started
    rows = [by_id[i] for i in order]
    result["score_seconds"] = round(seconds, 1)
    if dump is not None:
        np.savez_compressed(
            dump,
            truth=truth_all[rows],
            styles=np.array([s for s, _ in columns]),
            questions=np.array([j for _, j in columns]),
            **{str(k): v for k, v in best_all.items()},
        )
    for style, topics in styles.items():
        cols = [c for c, (s, _) in enumerate(columns) if s == style]
        kept = [columns[c][1] for c in cols]
        best = {w: b[:, cols] for w, b in best_all.items()}
        whole = truth_all[np.ix_(rows, kept)]
        asked = np.array([(_day(questions[j]["date"]) or date.min).toordinal() for j in kept])
        published = np.array(
            [(_day(articles[r].get("published") or "") or date.min).toordinal() for r in rows]
        )
        lo, hi = ARRIVALS
        arriving = (published[:, None] >= asked[None, :] - lo) & (published[:, None] <= asked[None, :] + hi)
        truth = np.where(arriving, whole, -2)  # -2: never arrives while the topic is followed
        chosen = precision_recall(best[params.dense_weight], truth, params.threshold)
        entry = {
            "topics": len(kept),
            "arrivals_per_topic": round(float(arriving.sum(axis=0).mean()), 1),
            "about_pairs": int((truth == 1).sum()),
            "at_default": chosen,
            "alerts_per_topic": round(chosen["alerts"] / max(1, len(kept)), 2),
            "whole_set_at_default": precision_recall(best[params.dense_weight], whole, params.threshold),
            "examples": [topics[j] for j in kept[:5]],
        }
        if sample:
            rng = random.Random(11)
            alerted = (best[params.dense_weight] >= params.threshold) & arriving
            pairs = [tuple(p) for p in np.argwhere(alerted)]
            entry["sample"] = [
                {
                    "label": int(truth[i, c]),
                    "topic": topics[kept[c]],
                    "title": articles[rows[i]]["title"],
                    "published": articles[rows[i]].get("published") or "",
                    "asked": questions[kept[c]]["date"],
                }
                for i, c in rng.sample(pairs, min(sample, len(pairs)))
            ]
        if sweep:
            entry["sweep"] = {
                str(w): [precision_recall(best[w], truth, t) for t in THRESHOLDS] for w in WEIGHTS
            }
        result["styles"][style] = entry
    return result


def speed(archive: Archive, n_topics: int, n_new: int, seed: int = 7) -> dict:
    """One refresh of ``n_new`` articles matched against ``n_topics`` topics."""
    articles, questions = load(EVAL / SETS["2024"])
    _, dev_questions = load(EVAL / SETS["dev"])
    idf = archive.store.idfs(sorted({t for q in questions for t in terms(q["question"])}))
    pool = [keyword_topic(q["question"], idf) for q in questions + dev_questions]
    pool += [keyword_topic(q["question"], idf, 3) for q in questions + dev_questions]
    pool = [t for t in dict.fromkeys(pool) if t]
    topics = pool[:n_topics]
    rng = random.Random(seed)
    ids = [a["id"] for a in rng.sample(articles, n_new)]
    matcher = TopicMatcher()
    runs = []
    for _ in range(4):
        started = time.perf_counter()
        found = matcher.match(archive, topics, ids)
        runs.append(time.perf_counter() - started)
    warm = runs[1:]
    return {
        "topics": len(topics),
        "new_articles": n_new,
        "cold_seconds": round(runs[0], 3),
        "warm_seconds_median": round(sorted(warm)[len(warm) // 2], 3),
        "warm_seconds_max": round(max(warm), 3),
        "alerts": len(found),
        "p50_s": round(percentile(warm, 50), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=["dev", "2024", "both"], default="both")
    ap.add_argument("--index-dev", type=Path)
    ap.add_argument("--index-2024", type=Path)
    ap.add_argument("--sweep", action="store_true", help="precision/recall over weights and thresholds")
    ap.add_argument("--topics", type=int, default=1000)
    ap.add_argument("--new", type=int, default=100)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--sample", type=int, default=0, help="list N random alerts per topic style (to judge)")
    ap.add_argument("--dump", type=Path, help="save the best scores and labels (numpy .npz) here")
    args = ap.parse_args()
    names = ["2024", "dev"] if args.set == "both" else [args.set]
    out: dict = {"params": AlertParams().__dict__, "quality": [], "speed": None}
    archives: dict[str, Archive] = {}
    for name in names:
        archives[name] = open_index(name, getattr(args, f"index_{name}"))
        dump = args.dump.with_suffix(f".{name}.npz") if args.dump else None
        if not args.speed_only:
            out["quality"].append(evaluate(name, archives[name], args.sweep, dump, args.sample))
            out["quality"][-1]["index"] = archives[name].location
    if not args.no_speed and "2024" in archives:
        out["speed"] = speed(archives["2024"], args.topics, args.new)
    rows = []
    for q in out["quality"]:
        for style, e in q["styles"].items():
            rows.append(
                {"set": q["set"], "topics": style, "n": e["topics"], "about": e["about_pairs"]}
                | {k: v for k, v in e["at_default"].items()}
                | {
                    "alerts/topic": e["alerts_per_topic"],
                    "whole-set P": e["whole_set_at_default"]["precision"],
                }
            )
    print_table(
        rows,
        f"alert precision at dense_weight {AlertParams().dense_weight}, threshold {AlertParams().threshold}",
    )
    if args.sweep:
        for q in out["quality"]:
            for style, e in q["styles"].items():
                table = []
                for w, points in e["sweep"].items():
                    for p in points[::2]:
                        table.append({"w": w} | p)
                print_table(table, f"sweep: {q['set']} / {style}")
    for q in out["quality"]:
        for style, e in q["styles"].items():
            if e.get("sample"):
                print_table(
                    e["sample"], f"random alerts: {q['set']} / {style} (label 1 about, 0 not, -1 ignored)"
                )
    if out["speed"]:
        print_table([out["speed"]], "matching one refresh")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
