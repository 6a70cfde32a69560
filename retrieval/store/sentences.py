"""Sentence vectors, embedded at index time for models that score sentences.

A question usually asks about one sentence of a passage, and a multilingual
model matches a question to that sentence more reliably than to the whole
passage, most of all across languages. An index built for such a model
(``ModelTraits.index_sentences``) holds one vector per article sentence:

- the retriever ranks dense candidates by passage cosine plus the best cosine
  of a sentence inside the passage (``FusionParams.best_sentence_weight``);
- the quote composer reads the stored vectors instead of embedding candidate
  sentences while the user waits.

Sentences are the article's own (:func:`retrieval.text.sentence_spans`, which
the chunker packs into passages), embedded as their first ``SENTENCE_CHARS``
characters and keyed by that text's hash, so an unchanged sentence keeps its
vector when its article is edited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval.store.rows import KEY_DTYPE, SPAN_DTYPE, passage_key, vectors_by_key
from retrieval.text import sentence_spans

SENTENCE_DTYPE = SPAN_DTYPE
#: of a sentence, embedded to compare it with questions
SENTENCE_CHARS = 400
FILES = ("sentences.npy", "sentence_keys.npy", "sentence_vectors.npy")

Embed = Callable[[Sequence[str]], np.ndarray]
Lookup = Callable[[Sequence[bytes]], dict[bytes, np.ndarray]]


def sentence_text(text: str, start: int, end: int) -> str:
    """What is embedded of the sentence ``text[start:end]``."""
    return text[start:end][:SENTENCE_CHARS]


def sentence_key(text: str) -> bytes:
    """The content hash a sentence's vector is stored under (of :func:`sentence_text`)."""
    return passage_key(text)


@dataclass(frozen=True)
class SentenceTable:
    """Every sentence of an index's articles: where it is, its key and its vector.

    Rows are sorted by article position, then start; vectors are stored as
    float16 (half the disk, cosines change by under 0.001).
    """

    spans: np.ndarray  # SENTENCE_DTYPE
    keys: np.ndarray  # KEY_DTYPE
    vectors: np.ndarray  # (n, dim) float16

    def __len__(self) -> int:
        return len(self.spans)

    @classmethod
    def empty(cls, dim: int) -> SentenceTable:
        return cls(np.zeros(0, SENTENCE_DTYPE), np.zeros(0, KEY_DTYPE), np.zeros((0, dim), np.float16))

    # ------------------------------------------------------------------ reading

    def best(self, vector: np.ndarray, passages: np.ndarray) -> np.ndarray:
        """Per passage (``article``, ``start``, ``end`` rows), the highest cosine between
        ``vector`` and a sentence overlapping it; NaN for a passage with none."""
        out = np.full(len(passages), np.nan, dtype=np.float32)
        if not len(self) or not len(passages):
            return out
        starts, ends = self._sort_keys
        p_article = passages["article"].astype(np.int64) << 32
        lo = np.searchsorted(ends, p_article | passages["start"], side="right")
        hi = np.searchsorted(starts, p_article | passages["end"], side="left")
        counts = np.maximum(hi - lo, 0)
        if not counts.any():
            return out
        owner = np.repeat(np.arange(len(passages)), counts)
        rows = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a])
        cosines = self.vectors[rows].astype(np.float32) @ vector.astype(np.float32)
        best = np.full(len(passages), -np.inf, dtype=np.float32)
        np.maximum.at(best, owner, cosines)
        return np.where(counts > 0, best, out)

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Stored vectors (float32) of the sentences with these keys."""
        if not len(self) or not keys:
            return {}
        return vectors_by_key(self._rows_by_key, self.vectors, keys)

    @cached_property
    def _sort_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(article, start) and (article, end) of each row as one sortable integer."""
        article = self.spans["article"].astype(np.int64) << 32
        return article | self.spans["start"], article | self.spans["end"]

    @cached_property
    def _rows_by_key(self) -> dict[bytes, int]:
        return {k: i for i, k in enumerate(self.keys.tolist())}

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        embed: Embed,
        dim: int,
        known: Lookup | None = None,
    ) -> tuple[SentenceTable, int]:
        """The table of articles with these ``texts`` (in article position order);
        sentences whose vectors ``known`` returns (by key) are not embedded again.
        Returns it and how many sentences were embedded."""
        spans: list[tuple[int, int, int]] = []
        texts_by_key: dict[bytes, str] = {}
        keys: list[bytes] = []
        for position, text in enumerate(texts):
            for a, b in sentence_spans(text):
                sentence = sentence_text(text, a, b)
                key = sentence_key(sentence)
                spans.append((position, a, b))
                keys.append(key)
                texts_by_key.setdefault(key, sentence)
        found = known(list(texts_by_key)) if known is not None and texts_by_key else {}
        missing = [k for k in texts_by_key if k not in found]
        if missing:
            fresh = np.asarray(embed([texts_by_key[k] for k in missing]), dtype=np.float32)
            found.update(zip(missing, fresh, strict=True))
        vectors = np.zeros((len(keys), dim), dtype=np.float16)
        if keys:
            vectors[:] = np.stack([found[k] for k in keys])
        table = np.array(spans, dtype=np.int64).reshape(-1, 3)
        rows = np.zeros(len(spans), SENTENCE_DTYPE)
        rows["article"], rows["start"], rows["end"] = table[:, 0], table[:, 1], table[:, 2]
        return cls(rows, np.array(keys, dtype=KEY_DTYPE), vectors), len(missing)

    def of_article(self, position: int) -> SentenceTable:
        """The sentences of the article at ``position``, as article 0."""
        rows = np.flatnonzero(self.spans["article"] == position)
        spans = self.spans[rows].copy()
        spans["article"] = 0
        return SentenceTable(spans, self.keys[rows], np.asarray(self.vectors[rows]))

    def remapped(self, positions: np.ndarray) -> SentenceTable:
        """The sentences of the articles still present: ``positions[old]`` is an article's
        new position, or -1 when it is gone."""
        keep = np.flatnonzero(positions[self.spans["article"]] >= 0) if len(self) else np.zeros(0, np.int64)
        spans = self.spans[keep].copy()
        spans["article"] = positions[spans["article"]]
        return SentenceTable(spans, self.keys[keep], np.asarray(self.vectors[keep]))

    def appended(self, other: SentenceTable, position: int) -> SentenceTable:
        """This table plus ``other``'s sentences (of one article) as article ``position``."""
        spans = other.spans.copy()
        spans["article"] = position
        return SentenceTable(
            np.concatenate([self.spans, spans]),
            np.concatenate([self.keys, other.keys]),
            np.concatenate([np.asarray(self.vectors), other.vectors]).astype(np.float16),
        )

    def save(self, folder: Path) -> None:
        for name, array in zip(FILES, (self.spans, self.keys, self.vectors), strict=True):
            np.save(folder / name, array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> SentenceTable | None:
        """The table saved in ``folder``; None when the index has none."""
        if not (folder / FILES[0]).exists():
            return None
        mode: Literal["r"] | None = "r" if mmap else None
        spans, keys, vectors = (np.load(folder / name, mmap_mode=mode, allow_pickle=False) for name in FILES)
        if spans.dtype != SENTENCE_DTYPE or not len(spans) == len(keys) == len(vectors):
            raise ValueError("the sentence tables disagree")
        return cls(np.asarray(spans), np.asarray(keys), vectors)
