"""Near-duplicate articles (syndicated copies, updated versions) grouped into stories.

An article's text becomes a set of word shingles (``shingle`` consecutive lowercased
words, numbers kept) summarised by a MinHash signature: ``num_perm`` uint32 values,
the same values datasketch's ``MinHash(scheme="affine32", hashfunc=lambda h: h)`` gives
for :func:`shingle_hashes` (computed here with numpy, so stored signatures do not depend
on the installed datasketch). Texts shorter than ``min_words`` get the empty signature
and are never grouped.

:class:`StoryGroups` finds candidate pairs with datasketch's ``MinHashLSH`` and links a
pair when the MinHash estimate of its Jaccard similarity, counted on the body, reaches
``threshold``. Groups are single-link: the connected components of the linked pairs (a
wire copy trimmed at the bottom and another trimmed at the top land in one story through
the full copy). A group's id is the id of its earliest-added member, so it never changes
when members join.

Boilerplate: a MinHash slot whose value a pair shares with ``template_sharers`` or more
articles that are near-duplicates of neither (estimated Jaccard below ``threshold``)
comes from text many unrelated pages carry (newsletter blocks, voter-guide lines); such
slots are left out of the pair's estimate, and a pair with fewer than ``num_perm / 4``
slots left is not linked. Pages made of boilerplate alone, with no other page carrying
it too, cannot be told from copies of one page.

Incremental adds decide a pair's link when its later article arrives, with the
boilerplate evidence present then; :meth:`StoryGroups.add_many` and
:func:`group_articles` decide a batch's pairs after all of it is in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")
_U32_MAX = np.uint32(0xFFFFFFFF)
# odd 64-bit multipliers, one per shingle position (up to 8 words)
_POSITION = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x27D4EB2F165667C5,
        0x85EBCA77C2B2AE63,
    ],
    dtype=np.uint64,
)
_CHUNK = 4096  # shingles permuted at once (bounds the temporary matrix)
_BYTE_BASE = 0x100000001B3  # odd, so invertible modulo 2^64
_BYTE_BASE_INV = pow(_BYTE_BASE, -1, 1 << 64)


@dataclass(frozen=True)
class DuplicateParams:
    shingle: int = 5  # words per shingle
    num_perm: int = 128  # MinHash values per signature
    threshold: float = 0.6  # estimated Jaccard (on the body) that links two articles
    min_words: int = 40  # shorter texts are never grouped (too little evidence)
    seed: int = 1  # of the MinHash permutations (datasketch's default)
    template_sharers: int = 3  # dissimilar articles sharing a slot value that make it boilerplate

    def __post_init__(self) -> None:
        if not 1 <= self.shingle <= len(_POSITION):
            raise ValueError(f"shingle must be 1..{len(_POSITION)}, got {self.shingle}")
        if self.num_perm < 8:
            raise ValueError(f"num_perm must be at least 8, got {self.num_perm}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.min_words < self.shingle:
            raise ValueError("min_words must be at least shingle")
        if self.template_sharers < 1:
            raise ValueError("template_sharers must be at least 1")


def normalised(text: str) -> str:
    """The text's words, lowercased, one space apart: runs of letters, digits (and ``_``)."""
    return " ".join(_WORD.findall(text.lower()))


def shingle_hashes(text: str, params: DuplicateParams = DuplicateParams()) -> np.ndarray:
    """The distinct 32-bit hashes of the text's word shingles (sorted); empty below ``min_words``."""
    data = np.frombuffer(normalised(text).encode("utf-8"), dtype=np.uint8)
    spaces = np.flatnonzero(data == 32)
    n, k = (len(spaces) + 1 if len(data) else 0), params.shingle
    if n < params.min_words:
        return np.empty(0, dtype=np.uint32)
    # each word's polynomial hash over its bytes, from prefix sums: (H[end] - H[start]) / B^start
    size = len(data)
    prefix = np.zeros(size + 1, dtype=np.uint64)
    np.cumsum(data * _powers(_BYTE_BASE, size), out=prefix[1:])
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [size]))
    wh = _fmix64((prefix[ends] - prefix[starts]) * _powers(_BYTE_BASE_INV, size)[starts])
    acc = wh[: n - k + 1] * _POSITION[0]
    for j in range(1, k):
        acc += wh[j : n - k + 1 + j] * _POSITION[j]
    out = (_fmix64(acc) >> np.uint64(32)).astype(np.uint32)
    out.sort()
    return out[np.concatenate(([True], out[1:] != out[:-1]))]


def signature(text: str, params: DuplicateParams = DuplicateParams()) -> np.ndarray:
    """The MinHash of the text's shingles: ``num_perm`` uint32 values (storable)."""
    return signature_of_hashes(shingle_hashes(text, params), params)


def signature_of_hashes(hashes: np.ndarray, params: DuplicateParams = DuplicateParams()) -> np.ndarray:
    """The MinHash of a set of 32-bit hashes (all ``0xFFFFFFFF`` for the empty set)."""
    a, b = _permutations(params.num_perm, params.seed)
    out = np.full(params.num_perm, _U32_MAX, dtype=np.uint32)
    if len(hashes) == 0:
        return out
    hv = _fmix32(np.asarray(hashes, dtype=np.uint32))
    buf = np.empty((params.num_perm, min(len(hv), _CHUNK)), dtype=np.uint32)
    for start in range(0, len(hv), _CHUNK):
        part = hv[None, start : start + _CHUNK]
        block = buf[:, : part.shape[1]]
        np.multiply(a[:, None], part, out=block)  # uint32 arithmetic wraps: mod 2^32
        np.add(block, b[:, None], out=block)
        np.minimum(out, block.min(axis=1), out=out)
    return out


def is_empty(sig: np.ndarray) -> bool:
    """True for the signature of a text too short to group."""
    return bool(np.all(sig == _U32_MAX))


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The share of equal MinHash values; 0 when either text was too short."""
    if is_empty(a) or is_empty(b):
        return 0.0
    return float(np.count_nonzero(a == b)) / len(a)


class StoryGroups:
    """Incremental near-duplicate groups over articles identified by string ids."""

    def __init__(self, params: DuplicateParams = DuplicateParams()) -> None:
        self.params = params
        self._ids: list[str | None] = []  # row -> id (None once removed); rows in arrival order
        self._row: dict[str, int] = {}
        self._sigs = np.empty((0, params.num_perm), dtype=np.uint32)
        self._live = np.empty(0, dtype=bool)  # rows present and not empty
        self._links: dict[int, set[int]] = {}
        self._root: dict[int, int] = {}  # row -> earliest row of its group (grouped rows only)
        self._lsh: Any = None

    # ----- queries

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._row

    def group_of(self, article_id: str) -> str:
        row = self._row[article_id]
        return self._id(self._root.get(row, row))

    def members(self, group_id: str) -> tuple[str, ...]:
        """The group's members in arrival order (just ``group_id`` for an ungrouped article)."""
        row = self._row[group_id]
        root = self._root.get(row, row)
        if root != row:
            raise KeyError(f"{group_id!r} is a member of group {self._id(root)!r}, not a group id")
        return tuple(self._id(r) for r in sorted(self._component(row)))

    def groups(self) -> dict[str, tuple[str, ...]]:
        """Every group of more than one article, keyed by group id (earliest first)."""
        by_root: dict[int, list[int]] = {}
        for row, root in self._root.items():
            by_root.setdefault(root, []).append(row)
        return {
            self._id(root): tuple(self._id(r) for r in sorted(rows)) for root, rows in sorted(by_root.items())
        }

    def signature_of(self, article_id: str) -> np.ndarray:
        """The stored signature (to keep with the article and pass to :meth:`add` later)."""
        return self._sigs[self._row[article_id]].copy()

    # ----- changes

    def add(self, article_id: str, text: str | None = None, signature: np.ndarray | None = None) -> str:
        """Add one article (its text or its stored signature); returns its group id.

        Adding an id already present replaces that article."""
        self.add_many([(article_id, _one_of(text, signature))])
        return self.group_of(article_id)

    def add_many(self, items: Iterable[tuple[str, str | np.ndarray]]) -> None:
        """Add articles given as ``(id, text or signature)``; links are decided once all are in,
        so the groups do not depend on the order of ``items``."""
        rows = []
        for article_id, content in items:
            sig = signature(content, self.params) if isinstance(content, str) else self._checked(content)
            if article_id in self._row:
                self.remove(article_id)
            rows.append(self._append(article_id, sig))
        new = [r for r in rows if self._live[r]]
        lsh = self._index()
        for r in new:
            lsh.insert(r, _Sketch(self._sigs[r]))
        pairs = sorted(
            {(min(r, c), max(r, c)) for r in new for c in lsh.query(_Sketch(self._sigs[r])) if c != r}
        )
        for a, b in pairs:
            if self._linked(a, b):
                self._links.setdefault(a, set()).add(b)
                self._links.setdefault(b, set()).add(a)
        for r in new:
            if r in self._links and r not in self._root:
                self._regroup(r)

    def remove(self, article_id: str) -> None:
        row = self._row.pop(article_id)
        self._ids[row] = None
        if self._live[row]:
            self._live[row] = False
            if row in self._index():  # not yet when replaced within one add_many
                self._index().remove(row)
        neighbours = self._links.pop(row, set())
        for n in neighbours:
            self._links[n].discard(row)
            if not self._links[n]:
                del self._links[n]
        self._root.pop(row, None)
        for n in sorted(neighbours):  # the rest of the group, split or not, is reached from them
            if n in self._links:
                self._regroup(n)
            else:
                self._root.pop(n, None)

    # ----- serialisation (no pickle: numpy arrays and one JSON string)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for ``np.savez`` (``allow_pickle=False`` loads them back)."""
        rows = [r for r, i in enumerate(self._ids) if i is not None]
        new = {r: k for k, r in enumerate(rows)}
        links = sorted((new[a], new[b]) for a, nb in self._links.items() for b in nb if a < b)
        return {
            "params": np.array(json.dumps(asdict(self.params))),
            "ids": np.array([self._ids[r] for r in rows], dtype=np.str_),
            "signatures": self._sigs[rows].copy(),
            "links": np.array(links, dtype=np.int64).reshape(-1, 2),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> StoryGroups:
        """Groups from :meth:`to_arrays` (a dict, or the ``np.load`` of its ``np.savez``)."""
        params = DuplicateParams(**json.loads(str(arrays["params"])))
        groups = cls(params)
        ids = [str(i) for i in arrays["ids"]]
        sigs = np.asarray(arrays["signatures"], dtype=np.uint32).reshape(len(ids), params.num_perm)
        for article_id, sig in zip(ids, sigs, strict=True):
            groups._append(article_id, sig.copy())
        lsh = groups._index()
        for r in np.flatnonzero(groups._live).tolist():
            lsh.insert(int(r), _Sketch(groups._sigs[r]))
        for a, b in np.asarray(arrays["links"], dtype=np.int64).reshape(-1, 2).tolist():
            groups._links.setdefault(a, set()).add(b)
            groups._links.setdefault(b, set()).add(a)
        for r in sorted(groups._links):
            if r not in groups._root:
                groups._regroup(r)
        return groups

    # ----- internals

    def _id(self, row: int) -> str:
        article_id = self._ids[row]
        assert article_id is not None
        return article_id

    def _checked(self, sig: np.ndarray) -> np.ndarray:
        sig = np.asarray(sig)
        if sig.shape != (self.params.num_perm,):
            raise ValueError(f"signature must have {self.params.num_perm} values, got shape {sig.shape}")
        return sig.astype(np.uint32)

    def _append(self, article_id: str, sig: np.ndarray) -> int:
        row = len(self._ids)
        if row == len(self._sigs):
            grown = np.empty((max(64, 2 * row), self.params.num_perm), dtype=np.uint32)
            grown[:row] = self._sigs[:row]
            self._sigs = grown
            live = np.zeros(len(grown), dtype=bool)
            live[:row] = self._live[:row]
            self._live = live
        self._sigs[row] = sig
        self._live[row] = not is_empty(sig)
        self._ids.append(article_id)
        self._row[article_id] = row
        return row

    def _index(self) -> Any:
        if self._lsh is None:
            from datasketch import MinHashLSH  # imports scipy: only when grouping

            # banding tuned 0.2 below the link threshold, so pairs just above it are rarely missed
            self._lsh = MinHashLSH(
                threshold=max(0.1, self.params.threshold - 0.2), num_perm=self.params.num_perm
            )
        return self._lsh

    def _linked(self, a: int, b: int) -> bool:
        p = self.params
        sa, sb = self._sigs[a], self._sigs[b]
        match = sa == sb
        if np.count_nonzero(match) < p.threshold * p.num_perm:
            return False
        live = self._live[: len(self._ids)].copy()
        live[[a, b]] = False
        others = self._sigs[: len(self._ids)][live]
        same_a, same_b = others == sa, others == sb
        low = p.threshold * p.num_perm
        unrelated = (same_a.sum(axis=1) < low) & (same_b.sum(axis=1) < low)
        boilerplate = same_a[unrelated].sum(axis=0) >= p.template_sharers
        body = ~boilerplate
        kept = int(np.count_nonzero(body))
        if kept < p.num_perm / 4:
            return False
        return bool(np.count_nonzero(match & body) >= p.threshold * kept)

    def _component(self, row: int) -> set[int]:
        seen, todo = {row}, [row]
        while todo:
            for n in self._links.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def _regroup(self, row: int) -> None:
        comp = self._component(row)
        root = min(comp)
        for r in comp:
            self._root[r] = root


class _Sketch:
    """What datasketch's LSH reads of a MinHash: its values and their number."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray) -> None:
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)


def group_articles(
    items: Iterable[tuple[str, str]], params: DuplicateParams = DuplicateParams()
) -> dict[str, str]:
    """Group ``(id, text)`` articles at once: id -> group id (the group's first member in
    ``items`` order; an ungrouped article is its own group)."""
    groups = StoryGroups(params)
    ordered = list(items)
    groups.add_many(ordered)
    return {article_id: groups.group_of(article_id) for article_id, _ in ordered}


def _one_of(text: str | None, sig: np.ndarray | None) -> str | np.ndarray:
    if (text is None) == (sig is None):
        raise ValueError("give exactly one of text and signature")
    if text is not None:
        return text
    assert sig is not None
    return sig


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 .. base^(n-1) modulo 2^64."""
    out = np.full(n, base, dtype=np.uint64)
    if n:
        out[0] = 1
        np.multiply.accumulate(out, out=out)
    return out


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme pre-mixes inputs."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations ``h -> a*h + b mod 2^32`` (``a`` odd) for ``seed``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b
