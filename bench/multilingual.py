"""Multilingual answer quality on XQuAD: per language and across languages.

    python bench/multilingual.py [--langs en,de,...] [--questions N] [--calibrate]

Each XQuAD paragraph is an article. For every language: an index of its
paragraphs, built once with the English default model (all-MiniLM-L6-v2) and
once with the multilingual option (multilingual-e5-small); then answer recall@k
(the gold answer string occurs in the top-k quotes) for BM25 alone and for the
full pipeline over each model. Cross-lingual: questions in another language
asked of the English paragraphs. Questions a packaged dictionary translates (Chinese:
retrieval.search.translation) are also asked without it. Also the indexing passages/s of
each model.
``--calibrate`` measures the no-answer threshold of the multilingual model:
half the articles are indexed, and questions about the other half must be
declined. Prints one JSON object on stdout and tables on stderr.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import CACHE, EVAL, print_table
from quality import recall_row

from retrieval.answer.quotes import QuoteParams
from retrieval.archive import Archive
from retrieval.embedding import Embedder, load_embedder, resolve_model
from retrieval.ingest.indexer import refresh
from retrieval.search.retriever import Retriever
from retrieval.types import Answer

XQUAD = EVAL / "xquad"
MODELS = {"minilm": "default", "e5": "multilingual"}
CROSS = ("de", "es", "ru", "zh", "hi")


def load_xquad(lang: str) -> tuple[list[dict], list[dict]]:
    """(articles, questions) of one language; article ids line up across languages."""
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for a_no, art in enumerate(data):
        for p_no, para in enumerate(art["paragraphs"]):
            pid = f"{a_no:03d}-{p_no:02d}"
            articles.append({"id": pid, "title": art.get("title", ""), "text": para["context"]})
            for qa in para["qas"]:
                questions.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "answer": qa["answers"][0]["text"],
                        "pid": pid,
                    }
                )
    return articles, questions


def spread(items: list[dict], n: int) -> list[dict]:
    """At most ``n`` of ``items`` taken evenly across the list (all when ``n`` is 0)."""
    if not n or n >= len(items):
        return items
    return items[:: len(items) // n][:n]


def build_index(
    name: str, lang: str, articles: list[dict], embedder: Embedder, part: str = "all"
) -> tuple[Path, dict]:
    folder = CACHE / "xquad" / f"{lang}-{part}"
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "articles.jsonl"
    text = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles)
    if not src.exists() or src.read_text(encoding="utf-8") != text:
        src.write_text(text, encoding="utf-8")
    index_dir = folder / f"index-{name}"
    report = refresh(index_dir, [src], embedder)
    return index_dir, {
        "passages": report.passages,
        "embedded": report.embedded,
        "seconds": report.embed_seconds,
        "sentences": report.sentences_embedded,
        "sentence_seconds": report.sentence_seconds,
    }


def ask_all(archive: Archive, questions: list[dict], mode: str) -> tuple[list[Answer], list[float]]:
    answers, latencies = [], []
    for q in questions:
        t0 = time.perf_counter()
        answers.append(archive.ask(q["question"], k=5, mode=mode))
        latencies.append(time.perf_counter() - t0)
    return answers, latencies


def translated(archive: Archive, question: str) -> bool:
    """Whether a packaged dictionary renders ``question`` into other languages."""
    return bool(archive.retriever.query(question, mode="lexical").renderings)


def evaluate(
    archives: dict[str, Archive], questions: list[dict], label: str, lexical: bool = True
) -> list[dict]:
    golds = [q["answer"] for q in questions]
    rows = []
    if lexical:
        answers, lat = ask_all(archives["minilm"], questions, "lexical")
        rows.append({"set": label} | recall_row("bm25", answers, golds, lat))
    for name, archive in archives.items():
        answers, lat = ask_all(archive, questions, "hybrid")
        rows.append({"set": label} | recall_row(f"newsbot+{name}", answers, golds, lat))
    if questions and any(translated(archive, questions[0]["question"]) for archive in archives.values()):
        # the same without the word-by-word dictionary rendering (retrieval.search.translation)
        for name, archive in archives.items():
            r = archive.retriever
            plain = Archive(Retriever(r.store, r.embedder, r.params, translators=[]), archive.quote_params)
            answers, lat = ask_all(plain, questions, "hybrid")
            rows.append({"set": label} | recall_row(f"newsbot+{name} no dictionary", answers, golds, lat))
    return rows


def calibrate(embedder: Embedder, langs: list[str], limit: int) -> list[dict]:
    """Answered share of questions about indexed articles vs declined share for the others."""
    by_threshold: dict[float, list[tuple[float, float]]] = {}
    for lang in langs:
        articles, questions = load_xquad(lang)
        titles = sorted({a["title"] for a in articles})
        kept = set(titles[::2])
        inside = [a for a in articles if a["title"] in kept]
        index_dir, _ = build_index("e5", lang, inside, embedder, part="half")
        ids = {a["id"] for a in inside}
        present = spread([q for q in questions if q["pid"] in ids], limit)
        absent = spread([q for q in questions if q["pid"] not in ids], limit)
        base = Archive.open(index_dir, embedder)
        for t in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88):
            archive = Archive(base.retriever, QuoteParams(min_dense=t))
            answered = sum(archive.ask(q["question"], k=1).answered for q in present) / len(present)
            declined = sum(not archive.ask(q["question"], k=1).answered for q in absent) / len(absent)
            by_threshold.setdefault(t, []).append((answered, declined))
    return [
        {
            "min_dense": t,
            "answered": round(sum(a for a, _ in v) / len(v), 3),
            "declined": round(sum(d for _, d in v) / len(v), 3),
        }
        for t, v in sorted(by_threshold.items())
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--langs", default="", help="comma-separated (default: every xquad.*.json)")
    ap.add_argument(
        "--questions", type=int, default=0, help="N questions per language, spread evenly (0: all)"
    )
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args()
    if not XQUAD.exists():
        raise SystemExit(f"XQuAD not found at {XQUAD} (set NEWSBOT_EVAL to the eval folder)")
    langs = (
        args.langs.split(",") if args.langs else sorted(p.suffixes[0][1:] for p in XQUAD.glob("xquad.*.json"))
    )
    embedders = {
        name: load_embedder(resolve_model(spec), cache_dir=CACHE / "models") for name, spec in MODELS.items()
    }
    indexes: dict[str, dict[str, Path]] = {}
    speed: dict[str, list[dict]] = {name: [] for name in MODELS}
    rows: list[dict] = []
    questions_of: dict[str, list[dict]] = {}
    for lang in langs:
        articles, questions = load_xquad(lang)
        questions_of[lang] = spread(questions, args.questions)
        indexes[lang] = {}
        for name, embedder in embedders.items():
            indexes[lang][name], built = build_index(name, lang, articles, embedder)
            speed[name].append(built)
    archives = {
        lang: {name: Archive.open(path, embedders[name]) for name, path in by_model.items()}
        for lang, by_model in indexes.items()
    }
    for lang in langs:
        rows.extend(evaluate(archives[lang], questions_of[lang], lang))
    if "en" in archives:
        # XQuAD is parallel: the same question id has its English answer in the English file.
        english = {q["id"]: q["answer"] for q in load_xquad("en")[1]}
        for lang in (lang for lang in CROSS if lang in questions_of):
            asked = [q | {"answer": english[q["id"]]} for q in questions_of[lang]]
            rows.extend(evaluate(archives["en"], asked, f"{lang}->en"))
    throughput = []
    for name, runs in speed.items():
        embedded = sum(r["embedded"] for r in runs)
        seconds = sum(r["seconds"] for r in runs)
        sentence_seconds = sum(r["sentence_seconds"] for r in runs)
        throughput.append(
            {
                "model": embedders[name].name,
                "passages": sum(r["passages"] for r in runs),
                "embedded_now": embedded,
                "passages_per_s": round(embedded / seconds, 1) if seconds else "(cached)",
                # models that index sentences embed each sentence too (retrieval.sentences)
                "sentences_now": sum(r["sentences"] for r in runs),
                "with_sentences_per_s": round(embedded / (seconds + sentence_seconds), 1)
                if seconds
                else "(cached)",
            }
        )
    result: dict[str, object] = {
        "dataset": str(XQUAD),
        "languages": langs,
        "recall": rows,
        "indexing": throughput,
    }
    if args.calibrate:
        result["calibration"] = calibrate(embedders["e5"], langs, args.questions or 300)
    print(json.dumps(result))
    print_table(rows, "answer recall on XQuAD (question language -> paragraph language)")
    print_table(throughput, "indexing throughput (embedding only; cached indexes embed nothing)")
    if args.calibrate:
        print_table(result["calibration"], "multilingual no-answer threshold")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
