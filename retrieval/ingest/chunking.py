"""Sentence-aware passages with character offsets into the article text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from retrieval.text import sentence_spans, word_count, word_spans

# Chosen on the dev set (bench/quality.py --max-words): see README "Quality".
DEFAULT_MAX_WORDS = 120
DEFAULT_OVERLAP = 1


@dataclass(frozen=True)
class ChunkingParams:
    max_words: int = DEFAULT_MAX_WORDS
    overlap_sentences: int = DEFAULT_OVERLAP
    #: how words are counted (2: scripts without spaces count 2-4 characters a word);
    #: recorded in the manifest so a change re-chunks (unchanged passages keep their vectors)
    words: int = field(default=2, init=False)

    def __post_init__(self) -> None:
        if self.max_words < 8:
            raise ValueError("max_words must be at least 8")
        if not 0 <= self.overlap_sentences <= 5:
            raise ValueError("overlap_sentences must be between 0 and 5")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def signature(self) -> str:
        """A short stable name of these parameters (part of ArticleEntry.layout)."""
        return f"w{self.max_words}o{self.overlap_sentences}c{self.words}"

    @classmethod
    def merged(cls, base: Mapping[str, int] | None, overrides: Mapping[str, int | None]) -> ChunkingParams:
        """``base`` (an index's recorded chunking; None: the defaults) with the given
        ``overrides`` (max_words, overlap_sentences; None values are ignored)."""
        values = {k: v for k, v in (base or {}).items() if k in {"max_words", "overlap_sentences"}}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Passage:
    """``text == article.text[start:end]`` always holds."""

    article_id: str
    start: int
    end: int
    text: str


def chunk_text(article_id: str, text: str, params: ChunkingParams = ChunkingParams()) -> list[Passage]:
    """Pack whole sentences into passages of at most ``max_words`` words.

    Consecutive passages share ``overlap_sentences`` sentences. A sentence longer
    than the limit is cut at word boundaries into pieces of its own.
    """
    units: list[tuple[int, int, int]] = []  # (start, end, words)
    for a, b in sentence_spans(text):
        n = word_count(text[a:b])
        if n <= params.max_words:
            units.append((a, b, n))
        else:
            units.extend(_split_long(text, a, b, params.max_words))
    passages: list[Passage] = []
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and (j == i or words + units[j][2] <= params.max_words):
            words += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        passages.append(Passage(article_id, start, end, text[start:end]))
        if j >= len(units):
            break
        # Step back by the overlap, but always move forward by at least one unit.
        i = max(i + 1, j - params.overlap_sentences)
    return passages


def _split_long(text: str, a: int, b: int, max_words: int) -> list[tuple[int, int, int]]:
    """Cut one over-long sentence into word-bounded pieces that cover it without gaps."""
    words = word_spans(text, a, b)
    if not words:
        return [(a, b, 1)]
    starts = [a] + [words[k][0] for k in range(max_words, len(words), max_words)]
    pieces: list[tuple[int, int, int]] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else b
        while end > start and text[end - 1].isspace():
            end -= 1
        pieces.append((start, end, word_count(text[start:end])))
    return pieces
