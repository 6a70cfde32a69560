"""How the learned reader sees a (question, sentence) pair: one BERT input per pair.

``[CLS] question [SEP] title | sentence [SEP]``: the question keeps its last tokens (a
news-quiz question puts its context first and the question last), the title as much as
fits beside the sentence. The same code encodes pairs for training and for answers, so the
model never sees anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

TITLE_SEPARATOR = " | "


@dataclass(frozen=True)
class EncodingParams:
    max_length: int = 96  # tokens in all
    question_tokens: int = 40  # the question's last this many tokens
    title_tokens: int = 12


@dataclass(frozen=True)
class Batch:
    """Padded model inputs; ``offsets[i][j]``: token j's characters in pair i's sentence
    ((-1, -1) outside the sentence)."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    offsets: list[list[tuple[int, int]]]


class PairEncoder:
    """Encodes (question, title, sentence) pairs with the model's own fast tokenizer."""

    def __init__(self, tokenizer: Path | Tokenizer, params: EncodingParams = EncodingParams()) -> None:
        tok = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.from_file(str(tokenizer))
        tok.no_padding()
        tok.no_truncation()
        self.tokenizer = tok
        self.params = params
        self.cls = _special(tok, "[CLS]")
        self.sep = _special(tok, "[SEP]")
        self.pad = tok.token_to_id("[PAD]") or 0

    def encode(self, question: str, pairs: Sequence[tuple[str, str]]) -> Batch:
        """One row per ``(title, sentence)`` pair, all with ``question``."""
        p = self.params
        q_ids = self.tokenizer.encode(question, add_special_tokens=False).ids[-p.question_tokens :]
        titles = self.tokenizer.encode_batch([t for t, _ in pairs], add_special_tokens=False)
        sentences = self.tokenizer.encode_batch([s for _, s in pairs], add_special_tokens=False)
        rows: list[tuple[list[int], list[int], list[tuple[int, int]]]] = []
        for title, sentence in zip(titles, sentences, strict=True):
            room = p.max_length - len(q_ids) - 3
            s_ids = sentence.ids[:room]
            s_offsets = list(sentence.offsets[:room])
            t_ids: list[int] = []
            if title.ids and room - len(s_ids) > 2:
                sep = self.tokenizer.encode(TITLE_SEPARATOR.strip(), add_special_tokens=False).ids
                t_ids = title.ids[: min(p.title_tokens, room - len(s_ids) - len(sep))] + sep
            second = t_ids + s_ids
            ids = [self.cls, *q_ids, self.sep, *second, self.sep]
            types = [0] * (len(q_ids) + 2) + [1] * (len(second) + 1)
            offsets = [(-1, -1)] * (len(q_ids) + 2 + len(t_ids)) + s_offsets + [(-1, -1)]
            rows.append((ids, types, offsets))
        width = max(len(r[0]) for r in rows)
        n = len(rows)
        input_ids = np.full((n, width), self.pad, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        segments = np.zeros((n, width), dtype=np.int64)
        for i, (ids, tt, _) in enumerate(rows):
            input_ids[i, : len(ids)] = ids
            mask[i, : len(ids)] = 1
            segments[i, : len(tt)] = tt
        return Batch(input_ids, mask, segments, [r[2] for r in rows])


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, offsets: list[tuple[int, int]], max_tokens: int = 12
) -> tuple[int, int, float] | None:
    """The most probable (start, end) characters of the sentence, with its probability
    (softmax over the sentence's tokens, start and end alike), or None for no tokens."""
    inside = np.array([a >= 0 for a, _ in offsets] + [False] * (len(start_logits) - len(offsets)))
    if not inside.any():
        return None
    start = _softmax_over(start_logits, inside)
    end = _softmax_over(end_logits, inside)
    best: tuple[int, int, float] | None = None
    index = np.flatnonzero(inside)
    for i in index:
        for j in index[(index >= i) & (index < i + max_tokens)]:
            p = float(start[i] * end[j])
            if best is None or p > best[2]:
                best = (offsets[i][0], offsets[j][1], p)
    return best


def _softmax_over(logits: np.ndarray, inside: np.ndarray) -> np.ndarray:
    x = np.where(inside, logits.astype(np.float64), -np.inf)
    x = np.exp(x - x.max())
    return x / x.sum()


def _special(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ValueError(f"the reader's tokenizer has no {token} token")
    return found
