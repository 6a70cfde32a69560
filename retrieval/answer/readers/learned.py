"""The learned reader: a MiniLM cross-encoder with a span head, int8 ONNX, trained here
(training/reader.py; its model card beside the model).

One batch per question: the best ``candidates`` sentences by the rules, each with its
article's title, scored together; the logit joins the rules' cues in a small learned
fusion, whose probability orders the quotes and decides "no answer". The span head gives
the short answer. The model loads on the first question; a missing or broken model is
reported once (``on_unavailable``) and the rules read instead.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.answer.candidates import Candidate
from retrieval.answer.readers.base import Reader, Reading, Span
from retrieval.answer.readers.encoding import EncodingParams, PairEncoder, best_span
from retrieval.answer.readers.fusion import Calibration, Fusion, features
from retrieval.errors import ModelError
from retrieval.search.query import Query

#: where the shipped reader lives
SHIPPED = Path(__file__).resolve().parent.parent / "models" / "reader"
#: the languages it was trained on (the rules read every other)
LANGUAGES = frozenset({"en"})
#: spans are read for this many of the best candidates (the first quote's focus is one of them)
SPANS_READ = 3
_EDGES = " \t\n.,;:!?\"'“”‘’()[]"


@dataclass(frozen=True)
class ReaderConfig:
    """``reader.json``: how the model was trained to be used."""

    encoding: EncodingParams
    fusion: Fusion
    calibration: Calibration
    candidates: int
    min_confidence: float
    min_span: float
    sha256: str

    @classmethod
    def read(cls, folder: Path) -> ReaderConfig:
        path = folder / "reader.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                EncodingParams(**data["encoding"]),
                Fusion.from_dict(data["fusion"]),
                Calibration(float(data["calibration"]["slope"]), float(data["calibration"]["intercept"])),
                int(data["candidates"]),
                float(data["min_confidence"]),
                float(data["min_span"]),
                str(data["sha256"]),
            )
        except FileNotFoundError as exc:
            raise ModelError(f"the reader model is missing ({path} not found)") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"the reader model's settings cannot be read ({path}: {exc})") from exc


class LearnedReader(Reader):
    name = "learned"

    def __init__(
        self,
        folder: Path = SHIPPED,
        *,
        threads: int = 2,
        on_unavailable: Callable[[str], None] | None = None,
        candidates: int | None = None,
    ) -> None:
        """``threads``: onnxruntime's; ``candidates``: how many sentences are read per
        question (default: the model's own setting)."""
        self.folder = Path(folder)
        self.threads = threads
        self.on_unavailable = on_unavailable
        self._candidates = candidates
        self._lock = threading.Lock()
        self._loaded: tuple[ReaderConfig, PairEncoder, Any] | None = None
        self.problem: str | None = None  # why it cannot read, once it was found out

    def load(self) -> None:
        """Load the model now (else on the first question); :class:`ModelError` when it cannot."""
        with self._lock:
            if self._loaded is not None:
                return
            config = ReaderConfig.read(self.folder)
            model = self.folder / "model.onnx"
            try:
                data = model.read_bytes()
            except OSError as exc:
                raise ModelError(f"the reader model is missing ({model}: {exc.strerror or exc})") from exc
            if hashlib.sha256(data).hexdigest() != config.sha256:
                raise ModelError(f"the reader model {model} is damaged (its checksum is not reader.json's)")
            try:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
                encoder = PairEncoder(self.folder / "tokenizer.json", config.encoding)
            except Exception as exc:  # onnxruntime and tokenizers raise their own types
                raise ModelError(f"the reader model {model} cannot be loaded ({exc})") from exc
            self.min_confidence = config.min_confidence
            self.min_span = config.min_span
            self._loaded = (config, encoder, session)

    def reads(self, query: Query) -> bool:
        if query.language and query.language not in LANGUAGES:
            return False
        if self._loaded is None and self.problem is None:
            try:
                self.load()
            except ModelError as exc:
                self.problem = str(exc)
                if self.on_unavailable is not None:
                    self.on_unavailable(f"{exc}; answering with the rule-based reader")
        return self._loaded is not None

    def read(self, query: Query, candidates: Sequence[Candidate]) -> Reading:
        if not candidates:
            return Reading(())
        self.load()
        assert self._loaded is not None
        config, encoder, session = self._loaded
        n = self._candidates or config.candidates
        chosen = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)[:n]
        best_rule = max(c.score for c in candidates)
        picked = [candidates[i] for i in chosen]
        batch = encoder.encode(query.text, [(c.hit.article.title, c.text) for c in picked])
        relevance, start, end = session.run(
            None,
            {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "token_type_ids": batch.token_type_ids,
            },
        )
        rows = np.array([[float(r), *features(c, best_rule)] for r, c in zip(relevance, picked, strict=True)])
        fused = config.fusion.score(rows)
        # the unread candidates follow the read ones, in the rules' order
        floor = float(fused.min()) - 1.0
        scores = [floor + 1e-3 * c.score for c in candidates]
        for i, value in zip(chosen, fused.tolist(), strict=True):
            scores[i] = value
        spans: list[Span | None] = [None] * len(candidates)
        for j in np.argsort(-fused)[:SPANS_READ].tolist():
            spans[chosen[j]] = _span(picked[j], start[j], end[j], batch.offsets[j])
        confidence = config.calibration.probability(float(fused.max()))
        return Reading(tuple(scores), confidence, tuple(spans))


def _span(cand: Candidate, start: np.ndarray, end: np.ndarray, offsets: list[tuple[int, int]]) -> Span | None:
    found = best_span(start, end, offsets)
    if found is None:
        return None
    a, b, p = found
    sentence = cand.text
    while a < b and sentence[a] in _EDGES:
        a += 1
    while b > a and sentence[b - 1] in _EDGES:
        b -= 1
    if a >= b:
        return None
    return Span(cand.focus[0] + a, cand.focus[0] + b, p)
